"""Forecasting end to end: an LSTM beats the last-value baseline, metrics, bundles and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import nnbuilder.layers.recurrent  # noqa: F401  (registers lstm/gru before the spec's layer union is built)
from nnbuilder.bundle.bundle import load_bundle, save_bundle
from nnbuilder.cli.main import main
from nnbuilder.data.datasets import load_dataset
from nnbuilder.errors import DataError
from nnbuilder.evaluate.metrics import forecast_report, model_outputs
from nnbuilder.spec.network import load_spec, parse_spec
from nnbuilder.runs.workflow import train_from_spec

PRESET = Path(__file__).resolve().parents[2] / "assets" / "presets" / "lstm_timeseries.json"


@pytest.fixture(scope="module")
def sales():
    return load_dataset("sales")


def _short_spec(epochs: int = 3, **input_fields) -> dict:
    spec = json.loads(PRESET.read_text())
    spec["training"]["epochs"] = epochs
    spec["input"].update(input_fields)
    return spec


def test_lstm_forecaster_beats_the_last_value_baseline(sales, one_thread):
    trained = train_from_spec(sales, load_spec(PRESET), device="cpu")
    test = trained.metrics["test"]
    assert trained.task == "forecast" and test["n"] > 100
    assert test["rmse"] < 0.75 * test["baseline_rmse"], test  # a clear margin, not luck
    assert test["mae"] < 0.75 * test["baseline_mae"], test
    assert test["r2"] > 0.6
    details = trained.details["test"]
    assert len(details["actual"]) == len(details["predicted"]) == len(details["baseline"]) == len(details["time"])
    assert details["time"][0] > "2024-07-01"  # the test period is the end of the series


def test_gru_forecaster_also_learns(sales, one_thread):
    spec = json.loads(PRESET.read_text())
    spec["layers"] = [{"type": "gru", "units": 24}]
    spec["training"]["epochs"] = 25
    trained = train_from_spec(sales, parse_spec(spec), device="cpu")
    assert trained.metrics["test"]["rmse"] < trained.metrics["test"]["baseline_rmse"]


def test_forecast_report_against_hand_numbers():
    actual = np.array([[1.0], [2.0], [4.0]])
    report = forecast_report(actual, np.array([[1.0], [2.0], [3.0]]), np.array([[0.0], [1.0], [2.0]]), ["a", "b", "c"])
    assert report.metrics["rmse"] == pytest.approx(np.sqrt(1 / 3))
    assert report.metrics["baseline_rmse"] == pytest.approx(np.sqrt(6 / 3))
    assert report.metrics["baseline_mae"] == pytest.approx(4 / 3)
    assert report.details["time"] == ["a", "b", "c"]


def test_bundle_round_trip_predicts_identically(sales, tmp_path, one_thread):
    trained = train_from_spec(sales, parse_spec(_short_spec(3)), device="cpu")
    path = save_bundle(trained, tmp_path / "sales")
    assert not (path / "preprocessing.skops").exists()
    bundle = load_bundle(path)
    history = sales.iloc[-60:]
    first, again = trained.prepared.preprocessing.windows(history)[0], bundle.preprocessing.windows(history)[0]
    np.testing.assert_array_equal(first, again)
    expected = model_outputs(trained.model, first, "forecast")[:, 0] * trained.prepared.target_std[0] \
        + trained.prepared.target_mean[0]
    predicted = bundle.predict(history)
    assert list(predicted.columns) == ["window_end", "steps_ahead", "prediction"]
    assert len(predicted) == 60 - 14 + 1  # one forecast per complete window
    np.testing.assert_allclose(predicted["prediction"].to_numpy(), expected, rtol=1e-5)
    assert predicted["window_end"].iloc[-1] == sales["date"].iloc[-1]  # the last row forecasts beyond the history
    shuffled = bundle.predict(history.sample(frac=1.0, random_state=0))  # sorted by the time column first
    np.testing.assert_allclose(shuffled["prediction"].to_numpy(), predicted["prediction"].to_numpy())
    with pytest.raises(DataError, match="fewer than the 14"):
        bundle.predict(history.head(5))
    with pytest.raises(DataError, match="lacks column 'temperature'"):
        bundle.predict(history.drop(columns="temperature"))


def test_rows_layout_bundle_round_trip(tmp_path, one_thread):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 16)
    label = np.arange(300) % 2
    X = np.sin(t[None, :] * (1 + label[:, None])) + rng.normal(0, 0.1, (300, 16))
    import pandas as pd

    df = pd.DataFrame(X, columns=[f"t{i}" for i in range(16)]).assign(label=label)
    spec = parse_spec({"data": {"target": "label"}, "input": {"kind": "sequence", "layout": "rows"},
                       "layers": [{"type": "gru", "units": 8}],
                       "training": {"epochs": 15, "learning_rate": 0.02, "batch_size": 32}})
    trained = train_from_spec(df, spec, device="cpu")
    assert trained.metrics["test"]["accuracy"] > 0.9
    bundle = load_bundle(save_bundle(trained, tmp_path / "rows"))
    predicted = bundle.predict(df.head(10))
    assert list(predicted.index) == list(df.head(10).index)
    expected = model_outputs(trained.model, trained.prepared.preprocessing.transform(df.head(10)), "binary")
    np.testing.assert_allclose(predicted["probability_1"].to_numpy(), expected[:, 1], rtol=1e-5)


def test_cli_train_prints_forecast_metrics(tmp_path, capsys, one_thread):
    spec = tmp_path / "lstm.json"
    spec.write_text(json.dumps(_short_spec(2)))
    code = main(["train", "sample:sales?days=400", "--target", "sales", "--spec", str(spec),
                 "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["task"] == "forecast"
    for split in ("train", "val", "test"):
        assert {"rmse", "mae", "r2", "baseline_rmse", "baseline_mae"} <= set(summary["metrics"][split])
    history = tmp_path / "history.csv"
    load_dataset("sales", days=400).tail(30).to_csv(history, index=False)
    code = main(["predict", str(tmp_path / "run"), str(history)])
    out, _ = capsys.readouterr()
    assert code == 0 and out.splitlines()[0] == "window_end,steps_ahead,prediction"
    assert len(out.strip().splitlines()) == 1 + 30 - 14 + 1


def test_cli_forecast_on_a_table_is_one_error_line(capsys):
    code = main(["train", "sample:moons", "--target", "x1", "--task", "forecast", "--epochs", "1"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("error:") == 1 and "sequence input" in err
