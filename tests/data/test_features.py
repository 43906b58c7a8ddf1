"""The fitted preprocessing read once (fitted_parameters and its helpers), against scikit-learn's own attributes."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import FunctionTransformer

from nnbuilder.data.features import (MISSING, fitted_parameters, input_names, known_categories, make_preprocessor)


@pytest.fixture
def fitted():
    frame = pd.DataFrame({"age": [20.0, np.nan, 40.0, 60.0], "plan": ["basic", "pro", None, "basic"],
                          "city": ["a", "b", "c", "a"], "income": [1.0, 2.0, 3.0, 4.0]})
    return make_preprocessor(["age", "income"], ["plan"], ["city"]).fit(frame)


def test_fitted_parameters_are_the_transformers_numbers(fitted):
    params = fitted_parameters(fitted)
    scaler = fitted.named_transformers_["numeric"].named_steps["scale"]
    assert list(params) == ["numeric", "categorical", "embedded"]  # matrix order
    assert params["numeric"]["columns"] == ["age", "income"]
    assert params["numeric"]["median"] == [40.0, 2.5]
    np.testing.assert_allclose(params["numeric"]["mean"], scaler.mean_)
    np.testing.assert_allclose(params["numeric"]["scale"], scaler.scale_)
    assert params["categorical"]["categories"] == [["basic", MISSING, "pro"]]
    assert params["embedded"]["categories"] == [["a", "b", "c"]]


def test_known_categories_leave_out_the_missing_marker(fitted):
    assert known_categories(fitted_parameters(fitted)) == {"plan": ["basic", "pro"], "city": ["a", "b", "c"]}


def test_input_names_follow_the_fitted_frame(fitted):
    assert input_names(fitted) == ["age", "plan", "city", "income"]


def test_a_branch_without_a_reader_still_shows_its_columns():
    """So that exporters and explanations refuse it in words instead of leaving its features out."""
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]})
    custom = ColumnTransformer([("custom", FunctionTransformer(), ["x"])], remainder="drop").fit(frame)
    assert fitted_parameters(custom) == {"custom": {"columns": ["x"]}}
