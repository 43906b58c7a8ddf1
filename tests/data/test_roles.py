"""Column roles and task inference: what each column is for, and what kind of prediction the target means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nnbuilder.data.pipeline import ColumnInfo, infer_roles, infer_task
from nnbuilder.errors import DataError


def roles_of(df, target="churned", drop=()) -> dict[str, ColumnInfo]:
    return {c.name: c for c in infer_roles(df, target, drop)}


@pytest.mark.parametrize("column, role, word", [
    ("id", "excluded", "identifier-like"),
    ("customer_code", "excluded", "identifier-like"),
    ("age", "numeric", "whole numbers"),
    ("income", "numeric", "numbers"),
    ("score", "numeric", "numbers"),
    ("plan", "categorical", "3 distinct values"),
    ("paperless", "boolean", "yes/no"),
    ("signup", "datetime", "dates"),
    ("notes", "excluded", "free text"),
    ("country", "excluded", "constant"),
    ("empty", "excluded", "empty"),
    ("churned", "target", "predict"),
])
def test_roles_on_the_messy_frame(messy_frame, column, role, word):
    info = roles_of(messy_frame)[column]
    assert (info.role, column) == (role, column)
    assert word in info.reason


def test_column_info_counts_and_round_trip(messy_frame):
    info = roles_of(messy_frame)["income"]
    assert info.missing == 2 and info.unique == 38 and info.dtype == "float64"
    assert ColumnInfo.from_dict(info.to_dict()) == info
    assert ColumnInfo(**info.to_dict()) == info


def test_dropped_columns_say_so(messy_frame):
    info = roles_of(messy_frame, drop=["age"])["age"]
    assert info.role == "excluded" and info.reason == "dropped by you"


def test_a_continuous_float_is_never_an_identifier():
    df = pd.DataFrame({"x": np.random.default_rng(0).normal(size=100), "y": [0, 1] * 50})
    assert roles_of(df, "y")["x"].role == "numeric"


def test_unique_whole_numbers_without_an_id_shape_stay_numeric():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"salary": rng.choice(np.arange(20_000, 90_000), 100, replace=False), "y": [0, 1] * 50})
    assert roles_of(df, "y")["salary"].role == "numeric"


def test_a_row_number_column_is_an_identifier():
    df = pd.DataFrame({"Unnamed: 0": np.arange(50), "x": np.arange(50) % 7, "y": [0, 1] * 25})
    assert roles_of(df, "y")["Unnamed: 0"].role == "excluded"


@pytest.mark.parametrize("values, role", [
    (["true", "false"] * 15, "boolean"),
    (["Y", "n", "y"] * 10, "boolean"),
    (["T", "f"] * 15, "boolean"),
    ([True, False] * 15, "boolean"),
    (["male", "female"] * 15, "categorical"),
    ([f"level{i % 60}" for i in range(120)], "excluded"),  # too many categories
    (["3.5", "4", "?"] + ["1.25"] * 57, "numeric"),  # numbers stored as text
    (["03/15/2021", "04/01/2021", "12/31/2020"] * 10, "datetime"),
    (["15 Mar 2021", "1 Apr 2021"] * 10, "datetime"),
    (["x" * 80 + str(i % 3) for i in range(30)], "excluded"),  # long free text
])
def test_text_roles(values, role):
    df = pd.DataFrame({"col": values, "y": np.arange(len(values)) % 2})
    info = roles_of(df, "y")["col"]
    assert info.role == role, info.reason


def test_too_many_categories_explains_how_to_fix():
    df = pd.DataFrame({"col": [f"level{i % 60}" for i in range(120)], "y": [0, 1] * 60})
    assert "too many categories" in roles_of(df, "y")["col"].reason


def test_date_format_is_remembered_for_new_rows():
    df = pd.DataFrame({"when": ["25/03/2021", "01/04/2021"] * 10, "y": [0, 1] * 10})
    info = roles_of(df, "y")["when"]
    assert info.role == "datetime" and info.date_format == "%d/%m/%Y"


# ---- task inference ------------------------------------------------------------------------
@pytest.mark.parametrize("values, requested, task", [
    (["yes", "no"] * 50, "auto", "binary"),
    ([True, False] * 50, "auto", "binary"),
    (["a", "b", "c"] * 30, "auto", "multiclass"),
    ([0, 1] * 50, "auto", "binary"),
    (list(range(10)) * 10, "auto", "multiclass"),  # <= 10 whole-number levels
    ([float(i % 4) for i in range(100)], "auto", "multiclass"),  # floats that are whole numbers
    (list(range(15)) * 20, "auto", "multiclass"),  # 15 levels, 5% of 300 rows
    (list(range(15)) * 4, "auto", "regression"),  # 15 levels in only 60 rows
    (list(range(100)), "auto", "regression"),
    (np.linspace(0, 1, 100), "auto", "regression"),
    ([0, 1] * 50, "regression", "regression"),
    (np.linspace(0, 1, 100).round(1), "classification", "multiclass"),
    (list(range(100)), "classification", "multiclass"),
])
def test_task_inference(values, requested, task):
    assert infer_task(pd.Series(values, name="y"), requested) == task


def test_several_numeric_targets_are_multi_regression():
    y = pd.DataFrame({"a": np.linspace(0, 1, 30), "b": np.linspace(0, 1, 30) ** 2})
    assert infer_task(y) == "multi_regression"
    assert infer_task(y[["a"]]) == "regression"


@pytest.mark.parametrize("y, requested, words", [
    (pd.Series(["a"] * 10, name="y"), "auto", ["'y'", "only one value", "'a'", "two classes"]),
    (pd.Series(["a", "b"] * 5, name="y"), "regression", ["holds text", "classification"]),
    (pd.Series([np.nan] * 5, name="y"), "auto", ["no values"]),
    (pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}), "auto", ["'b'", "numbers"]),
    (pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}), "classification", ["pick one target"]),
    (pd.Series(np.linspace(0, 1, 50), name="y"), "classification", ["too many", "regression"]),
    (pd.Series([1, 2], name="y"), "sideways", ["must be one of"]),
])
def test_task_errors(y, requested, words):
    with pytest.raises(DataError) as info:
        infer_task(y, requested)
    for word in words:
        assert word in str(info.value)
