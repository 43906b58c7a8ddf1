"""Which columns matter (Evaluate) and why this prediction (Predict), through the app with a model in session."""

import json

import pandas as pd
import pytest
from test_app_support import by_label, charts, open_app, run_ok, texts, trained_model

from nnbuilder.data.pipeline import load_table
from nnbuilder.evaluate.importance import integrated_gradients, permutation_importance_table
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec
from ui import state
from ui.importance_view import DOWN, FLAT, IMPORTANCE_CACHE, MAX_BARS, UP, attribution_figure, importance_figure


def app_with(page, trained, frame=None):
    return open_app(page, session={state.TRAINED: trained, state.TRAINED_JOB: "seeded", state.TRAINED_FRAME: frame})


def chart_data(at, key: str) -> dict:
    """The first trace of the plotly chart with this key (the page gives every chart a stable key)."""
    found = [c for c in charts(at) if c.key == key]
    assert found, f"no chart {key!r}"
    return json.loads(found[0].proto.spec)["data"][0]


@pytest.fixture(scope="module")
def iris():
    return trained_model("iris", "species")


@pytest.fixture(scope="module")
def diabetes():
    return trained_model("diabetes", "progression")


def test_evaluate_importance_bars_match_the_engine(iris):
    model, df = iris
    at = app_with("Evaluate", model, df)
    assert not [c for c in charts(at) if c.key == "importance"]  # only after the button
    by_label(at.button, "Compute permutation importance").click()
    run_ok(at)
    assert not [b for b in at.button if b.label == "Compute permutation importance"]  # the bars replace it
    bars = chart_data(at, "importance")
    expected = permutation_importance_table(model, frame=df)
    assert bars["y"] == [row["column"] for row in expected][::-1]  # most important drawn on top
    assert bars["x"] == pytest.approx([row["importance_mean"] for row in expected][::-1])
    assert bars["error_x"]["array"] == pytest.approx([row["importance_std"] for row in expected][::-1])
    assert any("test accuracy" in text and "shuffled" in text for text in texts(at.caption))
    run_ok(at)  # kept for this model: no second computation, no button
    assert at.session_state[IMPORTANCE_CACHE][0] is model
    assert chart_data(at, "importance")["y"] == bars["y"]
    assert not [b for b in at.button if b.label == "Compute permutation importance"]


def _asked_row(at) -> pd.DataFrame:
    return pd.DataFrame([{w.label: w.value for w in at.number_input}])


def test_predict_explains_a_classifier_prediction(iris):
    model, df = iris
    at = app_with("Predict", model, df)
    by_label(at.number_input, "petal_length_cm").set_value(5.5)
    by_label(at.number_input, "petal_width_cm").set_value(2.0)
    by_label(at.button, "Predict").click()
    run_ok(at)
    assert by_label(at.expander, "Why this prediction?")
    expected = integrated_gradients(model, _asked_row(at))
    assert expected["target"] == by_label(at.metric, "Prediction").value
    bars = chart_data(at, "attributions")
    by_column = {a["column"]: a["attribution"] for a in expected["attributions"]}
    assert sorted(bars["y"]) == sorted(f"{a['column']} = {a['value']}" for a in expected["attributions"])
    assert bars["y"][-1].startswith(max(expected["attributions"], key=lambda a: abs(a["attribution"]))["column"])
    assert bars["x"] == pytest.approx([by_column[label.split(" = ")[0]] for label in bars["y"]], abs=1e-6)
    captions = " ".join(texts(at.caption))
    assert f"the probability of '{expected['target']}'" in captions and "training median" in captions
    change = expected["prediction"] - expected["baseline_prediction"]
    assert f"add up to the change ({change:+,.4g}) give or take" in captions


def test_predict_explains_a_regression_in_target_units(diabetes):
    model, df = diabetes
    at = app_with("Predict", model, df)
    by_label(at.button, "Predict").click()
    run_ok(at)
    bars = chart_data(at, "attributions")
    expected = integrated_gradients(model, _asked_row(at))
    assert sum(bars["x"]) == pytest.approx(expected["total"], abs=1e-4)
    assert sum(bars["x"]) == pytest.approx(expected["prediction"] - expected["baseline_prediction"], rel=0.011)
    assert "the predicted progression" in " ".join(texts(at.caption))
    assert "close to the baseline" in " ".join(texts(at.caption))  # the form starts at the medians
    assert "higher" in " ".join(texts(at.caption))


@pytest.fixture(scope="module")
def digits():
    df, _ = load_table("sample:digits")
    df = df.head(300)
    spec = parse_spec({"data": {"target": "digit"}, "input": {"kind": "image"},
                       "layers": [{"type": "dense", "units": 8}], "training": {"epochs": 1}})
    return train_from_spec(df, spec), df


def test_image_model_gets_the_reason_instead_of_a_chart(digits):
    model, df = digits
    at = app_with("Evaluate", model, df)
    assert not [b for b in at.button if b.label == "Compute permutation importance"]
    notes = [text for text in texts(at.info) if "reads an image" in text]
    assert notes and "predict a target from table columns" in notes[0]
    at = app_with("Predict", model, df)
    assert by_label(at.expander, "Why this prediction?")
    assert any("reads an image" in text for text in texts(at.info))
    assert not [c for c in charts(at) if "What moved" in c.proto.spec]


def test_figures_order_colour_and_cap_the_bars():
    table = [{"column": f"c{i}", "importance_mean": 0.5 - 0.02 * i, "importance_std": 0.01, "rank": i + 1,
              "metric_label": "accuracy", "split": "test"} for i in range(40)]
    bar = importance_figure(table).data[0]
    assert len(bar.y) == MAX_BARS and bar.y[-1] == "c0" and bar.y[0] == f"c{MAX_BARS - 1}"
    assert bar.marker.color[0] == FLAT and bar.marker.color[-1] != FLAT  # c29 scores -0.08: grey
    result = {"explained": "value", "target": "rent", "attributions": [
        {"column": "size", "value": "80", "attribution": 12.0}, {"column": "notes", "value": "x" * 50,
                                                                "attribution": -3.0},
        {"column": "age", "value": "3", "attribution": 0.0}]}
    fig = attribution_figure(result)
    assert list(fig.data[0].y) == ["age = 3", "notes = " + "x" * 31 + "…", "size = 80"]  # biggest on top
    assert list(fig.data[0].marker.color) == [FLAT, DOWN, UP]
    assert "the predicted rent" in fig.layout.title.text
