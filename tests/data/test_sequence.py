"""Sequence input: windows, chronological split, train-period scaling, rows layout, bad inputs, task choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nnbuilder import tasks
from nnbuilder.data.pipeline import detect_task, prepare
from nnbuilder.data.windows import window_starts
from nnbuilder.errors import DataError
from nnbuilder.spec.network import DataSpec, SequenceInputSpec, TabularInputSpec, parse_spec

HALF = {"train": 0.5, "val": 0.25, "test": 0.25}


def series(n: int = 20, **extra) -> pd.DataFrame:
    return pd.DataFrame({"t": np.arange(n), "value": np.arange(n) * 10.0, **extra})


def seq(**fields) -> SequenceInputSpec:
    return SequenceInputSpec(**fields)


def unscale(prepared, X: np.ndarray) -> np.ndarray:
    prep = prepared.sequence
    return X * np.asarray(prep.std) + np.asarray(prep.mean)


def test_windows_and_targets_by_hand():
    # 20 rows cut at 10 / 15: train windows end (with their target) before row 10, val inside 10..14, test 15..19.
    prepared = prepare(series(), DataSpec(target="value", split=HALF), input=seq(time_column="t", window=3, horizon=2))
    assert prepared.task == "forecast" and prepared.input_kind == "sequence"
    assert prepared.X_train.shape == (6, 3, 1) and prepared.X_train.dtype == np.float32
    assert prepared.X_val.shape == (1, 3, 1) and prepared.X_test.shape == (1, 3, 1)
    windows = unscale(prepared, prepared.X_train)[:, :, 0]
    np.testing.assert_allclose(windows, [[0, 10, 20], [10, 20, 30], [20, 30, 40], [30, 40, 50], [40, 50, 60],
                                         [50, 60, 70]], atol=1e-4)
    targets = prepared.untransform_target(prepared.y_train)[:, 0]
    np.testing.assert_allclose(targets, [40, 50, 60, 70, 80, 90], atol=1e-4)  # row s+W-1+horizon
    np.testing.assert_allclose(prepared.baseline["train"][:, 0], [20, 30, 40, 50, 60, 70])  # the last value seen
    np.testing.assert_allclose(unscale(prepared, prepared.X_val)[0, :, 0], [100, 110, 120], atol=1e-4)
    np.testing.assert_allclose(prepared.untransform_target(prepared.y_test)[:, 0], [190], atol=1e-4)
    assert prepared.target_times["test"] == [19]


def test_time_column_orders_rows_and_dates_work():
    df = series(30).sample(frac=1.0, random_state=0)  # shuffled rows
    df["t"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["t"], unit="D")
    df["t"] = df["t"].dt.strftime("%Y-%m-%d")
    prepared = prepare(df, DataSpec(target="value", split=HALF), input=seq(time_column="t", window=4))
    first = unscale(prepared, prepared.X_train)[:, :, 0]
    assert np.all(np.diff(first, axis=1) == pytest.approx(10.0, abs=1e-3))  # consecutive days in order
    assert prepared.target_times["train"][0] == "2024-01-05"


def test_no_window_crosses_a_group():
    a = pd.DataFrame({"shop": "a", "t": np.arange(40), "value": 1000.0 + np.arange(40)})
    b = pd.DataFrame({"shop": "b", "t": np.arange(40), "value": 2000.0 + np.arange(40)})
    df = pd.concat([a, b]).sample(frac=1.0, random_state=1)  # interleaved
    prepared = prepare(df, DataSpec(target="value", split=HALF),
                       input=seq(time_column="t", group_column="shop", window=5, horizon=1))
    for X in (prepared.X_train, prepared.X_val, prepared.X_test):
        values = unscale(prepared, X)[:, :, 0]
        assert np.all(np.floor(values / 1000 + 1e-6) == np.floor(values[:, :1] / 1000 + 1e-6))  # one shop each
        assert np.allclose(np.diff(values, axis=1), 1.0, atol=1e-3)  # consecutive steps
    assert len(prepared.X_train) == 2 * (20 - 5)  # each shop split at its own row 20


def test_split_is_chronological_and_windows_never_straddle():
    prepared = prepare(series(200), DataSpec(target="value"), input=seq(time_column="t", window=8, horizon=3))
    starts = {name: unscale(prepared, getattr(prepared, f"X_{name}"))[:, 0, 0] for name in ("train", "val", "test")}
    target_rows = {name: prepared.untransform_target(getattr(prepared, f"y_{name}"))[:, 0]
                   for name in ("train", "val", "test")}
    assert target_rows["train"].max() < starts["val"].min()  # every train window (and its target) ends first
    assert target_rows["val"].max() < starts["test"].min()
    assert np.all(np.diff(starts["train"]) > 0)  # no shuffling


def test_scaling_comes_from_the_training_period_only():
    base = series(100)
    changed = base.copy()
    changed.loc[70:, "value"] = changed.loc[70:, "value"] * 100  # the val/test period only
    spec = seq(time_column="t", window=5)
    a, b = (prepare(df, DataSpec(target="value"), input=spec) for df in (base, changed))
    assert a.sequence.mean == b.sequence.mean and a.sequence.std == b.sequence.std
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.target_mean, b.target_mean)
    assert a.sequence.mean[0] == pytest.approx(np.arange(70).mean() * 10)


def test_window_starts_are_vectorised_per_group():
    codes = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2])
    starts, group = window_starts(codes, 2, 3, None, None)
    assert starts.tolist() == [0, 1, 4] and group.tolist() == [0, 0, 1]


def test_value_columns_and_features():
    df = series(60, temperature=np.linspace(0, 1, 60), note=["x"] * 60)
    prepared = prepare(df, DataSpec(target="value"), input=seq(time_column="t", window=6))
    assert prepared.feature_columns == ["value", "temperature"] and prepared.input_shape == (6, 2)
    only = prepare(df, DataSpec(target="value"), input=seq(time_column="t", window=6, value_columns=["temperature"]))
    assert only.feature_columns == ["value", "temperature"]  # the forecast target is always a feature
    roles = {c.name: c.role for c in prepared.columns}
    assert roles["t"] == "excluded" and roles["value"] == "numeric" and roles["note"] == "excluded"


def test_label_per_window_is_the_last_rows_label():
    df = series(80, state=np.where(np.arange(80) % 4 < 2, "up", "down"))
    prepared = prepare(df, DataSpec(target="state"), input=seq(time_column="t", window=3))
    assert prepared.task == "binary" and prepared.feature_columns == ["value"]
    last = unscale(prepared, prepared.X_train)[:, -1, 0] / 10
    expected = np.where(np.round(last).astype(int) % 4 < 2, "up", "down")
    assert [prepared.classes[k] for k in prepared.y_train] == expected.tolist()


def test_rows_layout_reads_ordered_columns():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(50, 6)), columns=[f"t{i}" for i in range(6)])
    df["label"] = np.arange(50) % 2
    one = prepare(df, DataSpec(target="label"), input=seq(layout="rows"))
    assert one.input_shape == (6, 1) and one.task == "binary" and one.input_kind == "sequence"
    two = prepare(df, DataSpec(target="label"), input=seq(layout="rows", steps=3))
    assert two.input_shape == (3, 2)
    raw = two.X_train * np.asarray(two.sequence.std) + np.asarray(two.sequence.mean)
    np.testing.assert_allclose(raw.reshape(len(raw), 6), df.drop(columns="label").to_numpy()[_rows(df, two)], atol=1e-5)
    with pytest.raises(DataError, match="do not split into 4 steps"):
        prepare(df, DataSpec(target="label"), input=seq(layout="rows", steps=4))


def _rows(df, prepared) -> np.ndarray:
    # the training rows, found by matching the first column (continuous values are unique)
    first = prepared.X_train[:, 0, 0] * prepared.sequence.std[0] + prepared.sequence.mean[0]
    return np.array([int(np.argmin(np.abs(df["t0"].to_numpy() - v))) for v in first])


@pytest.mark.parametrize("df_change, spec, fragment", [
    (None, dict(time_column="t", window=30), "fewer than the 31 a sample needs"),
    (None, dict(time_column="when", window=3), "input.time_column 'when' is not in the data"),
    ("text", dict(time_column="t", window=3, value_columns=["label"]), "value column 'label' of the sequence input "
                                                                        "must hold numbers"),
    (None, dict(time_column="t", window=3, horizon=19), "fewer than the 22 a sample needs"),
    (None, dict(time_column="t", window=8, horizon=2), "the val period (0.15 of each series) is shorter than"),
    ("bad_time", dict(time_column="t", window=3), "time column 't' must hold dates or numbers"),
])
def test_bad_inputs_are_one_readable_line(df_change, spec, fragment):
    df = series(20)
    if df_change == "text":
        df["label"] = "x"
    if df_change == "bad_time":
        df["t"] = ["soon"] * 20
    with pytest.raises(DataError) as info:
        prepare(df, DataSpec(target="value"), input=seq(**spec))
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_forecast_needs_the_time_series_layout():
    from nnbuilder.tasks import prepare  # the forecast task's record refuses other inputs

    with pytest.raises(DataError, match="forecast task needs the sequence input"):
        prepare(series(40), DataSpec(target="value", task="forecast"), input=TabularInputSpec())
    with pytest.raises(DataError, match="cannot be forecast"):
        prepare(series(40, kind=["a", "b"] * 20), DataSpec(target="kind", task="forecast"), input=seq(window=3))


def test_gaps_are_filled_with_the_previous_value():
    df = series(40)
    df.loc[5, "value"] = np.nan
    prepared = prepare(df, DataSpec(target="value"), input=seq(time_column="t", window=3))
    assert any(w.code == "filled_gaps" for w in prepared.warnings)
    assert unscale(prepared, prepared.X_train)[3, -1, 0] == pytest.approx(40.0, abs=1e-3)  # row 5 took row 4's value


def test_every_input_kind_has_a_preparer():
    from nnbuilder.data.pipeline import PREPARERS
    from nnbuilder.spec.network import INPUT_KINDS

    assert set(PREPARERS) == set(INPUT_KINDS)


def test_detect_task_follows_the_input_kind():
    df = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=40), "sales": np.arange(40.0)})
    series = parse_spec({"data": {"target": "sales"}, "input": {"kind": "sequence", "time_column": "day", "window": 5}})
    assert detect_task(df, series.data, series.input) == "forecast"
    table = parse_spec({"data": {"target": "sales"}})
    assert detect_task(df, table.data, table.input) == "regression"
    wrong = parse_spec({"data": {"target": "sales", "task": "forecast"}})
    with pytest.raises(DataError, match="forecast task needs the sequence input"):
        tasks.detect_task(df, wrong.data, wrong.input)  # the forecast task's record refuses other inputs
