"""Sequence input: a time series cut into sliding windows, or one ordered sequence per row.

Time series (`layout="time_series"`), forecasting: the window of rows s..s+W-1 of one series is a
sample; its target is the target column at row s+W-1+horizon, and the naive baseline is the target
at row s+W-1 (the last value seen). Classifying: the target is the label of row s+W-1 and is not a
feature. The split is chronological: every series (group) is cut at the same shares of its rows into
a training, a validation and a test period, and a window belongs to a split only when all its rows and
its target lie in that period, so windows that would straddle two periods are left out and every
training window ends before any validation window of its series starts. Features and the forecast
target are standardised with the training period's mean and std only. See data_sequence_prep for
ordering, gap filling and window cutting.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from nnbuilder.data.prepared import PreparedData
from nnbuilder.data.records import ColumnInfo, DataWarning
from nnbuilder.data.windows import (
    SequencePreprocessing, group_bounds, numeric_matrix, order_rows, step_labels, window_starts,
)
from nnbuilder.data.task_detection import class_labels, classifies, encode_classes, imbalance_warning, infer_task, is_number
from nnbuilder.errors import DataError

SPLITS = ("train", "val", "test")


def sequence_task(y: pd.DataFrame, requested: str) -> str:
    """'forecast' for numeric targets (unless classification is asked for), else binary/multiclass per window."""
    if requested in ("forecast", "regression"):
        for name in y.columns:
            if not is_number(y[name]):
                raise DataError(f"target '{name}' does not hold numbers, so it cannot be forecast; choose "
                                "classification (a label per window) or a numeric target", column=str(name))
        return "forecast"
    kind = infer_task(y if y.shape[1] > 1 else y.iloc[:, 0], requested)
    return kind if classifies(kind) else "forecast"


def value_columns(df: pd.DataFrame, spec, targets: list[str], drops: list[str], forecast: bool) -> list[str]:
    """The per-step features: as given, or every numeric column but time/group/dropped (and a classified target)."""
    skip = {spec.time_column, spec.group_column, *drops}
    given = list(spec.value_columns)
    for name in given:
        if name not in df.columns:
            raise DataError(f"input.value_columns names '{name}', which is not in the data", column=name)
        if not forecast and name in targets:
            raise DataError(f"'{name}' is the label to classify, so it cannot also be a value column (the window "
                            "would show the answer); remove it from value_columns", column=name)
    if not given:
        given = [str(c) for c in df.columns if c not in skip and (forecast or c not in targets)
                 and is_number(df[c])]
    if forecast:  # the target's own past is the main input of a forecast
        given = [t for t in targets if t not in given] + given
    if not given:
        raise DataError("the sequence input needs at least one numeric value column besides the time and group "
                        "columns; set input.value_columns")
    return given


def _check_columns(df: pd.DataFrame, spec) -> None:
    for role in ("time_column", "group_column"):
        name = getattr(spec, role)
        if name is not None and name not in df.columns:
            from nnbuilder.spec.messages import did_you_mean

            raise DataError(f"input.{role} '{name}' is not in the data{did_you_mean(name, [str(c) for c in df.columns])}"
                            f"; pick one of the table's columns or leave it empty", column=name)


def _periods(codes: np.ndarray, split) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the first row of the validation and of the test period (positions in the sorted rows)."""
    first, count = group_bounds(codes)
    val_at = first + np.round(count * split.train).astype(np.int64)
    test_at = first + np.round(count * (split.train + split.val)).astype(np.int64)
    return val_at, test_at


def _assign(starts, group, span, val_at, test_at, split) -> dict[str, np.ndarray]:
    """Window starts per split: a window and its target must lie wholly inside one period."""
    last = starts + span - 1
    chosen = {"train": last < val_at[group], "val": (starts >= val_at[group]) & (last < test_at[group]),
              "test": starts >= test_at[group]}
    parts = {name: starts[mask] for name, mask in chosen.items()}
    for name in SPLITS:
        share = getattr(split, name)
        if share > 0 and len(parts[name]) == 0:
            raise DataError(f"the {name} period ({share:g} of each series) is shorter than the {span} rows one "
                            f"window needs, so it holds no window; give it a bigger share, shorten the window or "
                            f"horizon{'' if name == 'train' else f', or set its share to 0'}")
    return parts


def prepare_time_series(df: pd.DataFrame, data, spec, targets: list[str], drops: list[str],
                        columns: list[ColumnInfo], found: list[DataWarning]) -> PreparedData:
    """Windows, chronological split and train-period scaling for the time_series layout (module docstring)."""
    _check_columns(df, spec)
    clash = [t for t in targets if t in (spec.time_column, spec.group_column)]
    if clash:
        raise DataError(f"'{clash[0]}' is the target, so it cannot also be the time or group column", column=clash[0])
    task = sequence_task(df[targets], data.task)
    forecast = not classifies(task)
    if not forecast and len(targets) > 1:
        raise DataError("a label per window needs one target column; pick one")
    features = value_columns(df, spec, targets, drops, forecast)
    frame, codes = order_rows(df, spec.time_column, spec.group_column)
    values, gaps = numeric_matrix(frame, features, groups=codes)  # (rows, features) float64, gaps filled
    if gaps:
        found.append(DataWarning("filled_gaps", f"{gaps} missing value(s) in the "
                                 "value columns were filled with the previous value of the same series."))
    horizon = spec.horizon if forecast else 0
    span = spec.window + horizon
    starts, group = window_starts(codes, spec.window, span, frame, spec.group_column)
    val_at, test_at = _periods(codes, data.split)
    parts = _assign(starts, group, span, val_at, test_at, data.split)
    in_train = np.arange(len(frame)) < val_at[codes]  # the training period's rows
    mean, std = values[in_train].mean(axis=0), values[in_train].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = ((values - mean) / std).astype(np.float32)
    steps = np.arange(spec.window)

    def window_of(s: np.ndarray) -> np.ndarray:  # (windows, window, features)
        return scaled[s[:, None] + steps]

    classes = target_mean = target_std = baseline = times = None
    target_rows = {name: s + spec.window - 1 + horizon for name, s in parts.items()}
    if forecast:
        index = [features.index(t) for t in targets]
        raw = {name: values[rows][:, index] for name, rows in target_rows.items()}  # (windows, targets)
        target_mean, target_std = raw["train"].mean(axis=0), raw["train"].std(axis=0)
        target_std = np.where(target_std > 0, target_std, 1.0)
        ys = {name: ((raw[name] - target_mean) / target_std).astype(np.float32) for name in SPLITS}
        baseline = {name: values[s + spec.window - 1][:, index] for name, s in parts.items()}
        times = {name: step_labels(frame, spec.time_column, rows) for name, rows in target_rows.items()}
    else:
        labels = frame[targets[0]]
        if labels.isna().any():
            raise DataError(f"target '{targets[0]}' has missing labels; fill or drop those rows", column=targets[0])
        classes = class_labels(labels)
        codes_y = encode_classes(labels, classes)
        ys = {name: codes_y[rows] for name, rows in target_rows.items()}
        found += [w for w in [imbalance_warning(ys["train"], classes, targets[0])] if w]
    n = len(starts)
    if n < 20:
        found.append(DataWarning("few_rows", f"the series gives only {n} windows; with so few the results will be "
                                 "unreliable, so use a shorter window or collect more rows if you can."))
    prep = SequencePreprocessing("time_series", tuple(features), tuple(targets), spec.window, horizon,
                                 tuple(map(float, mean)), tuple(map(float, std)), spec.time_column, spec.group_column)
    test_rows = np.arange(len(frame))[np.arange(len(frame)) >= test_at[codes]]
    kept = [c for c in (spec.group_column, spec.time_column) if c] + features + [t for t in targets if t not in features]
    return PreparedData(
        task=task, target=list(targets), feature_columns=features, columns=_roles(columns, features, spec),
        classes=classes, feature_names=list(features),
        X_train=window_of(parts["train"]), X_val=window_of(parts["val"]), X_test=window_of(parts["test"]),
        y_train=ys["train"], y_val=ys["val"], y_test=ys["test"], target_mean=target_mean, target_std=target_std,
        preprocessor=None, raw_test=frame.iloc[test_rows][kept].reset_index(drop=True), warnings=found, n_rows=len(frame),
        input_kind="sequence", sequence=prep, baseline=baseline, target_times=times,
    )


def _roles(columns: list[ColumnInfo], features: list[str], spec) -> list[ColumnInfo]:
    chosen = set(features)
    reasons = {spec.time_column: "orders the time steps", spec.group_column: "separates the series (groups)"}
    out = []
    for c in columns:
        if c.name in chosen:
            out.append(replace(c, role="numeric", reason="a per-step value of the sequence input"))
        elif c.name in reasons:
            out.append(replace(c, role="excluded", reason=reasons[c.name]))
        elif c.is_input:
            out.append(replace(c, role="excluded", reason="not a value column of the sequence input"))
        else:
            out.append(c)
    return out


def ordered_columns(df: pd.DataFrame, targets: list[str], spec, drops: list[str]) -> list[str]:
    """Rows layout: the sequence's columns in order, as given or every numeric column but the target and dropped."""
    given = list(spec.value_columns)
    for name in given:
        if name not in df.columns:
            raise DataError(f"input.value_columns names '{name}', which is not in the data", column=name)
        if name in targets:
            raise DataError(f"'{name}' is the target, so it cannot also be a step of the sequence", column=name)
    columns = given or [str(c) for c in df.columns if c not in targets and c not in drops and is_number(df[c])]
    if not columns:
        raise DataError("the sequence input needs numeric columns holding the steps (t0, t1, ...), but the table "
                        "has none besides the target; choose the tabular input on the Data page")
    return columns


def fit_rows_sequence(df: pd.DataFrame, columns: list[str], spec, targets: list[str],
                      train: np.ndarray) -> SequencePreprocessing:
    """Rows layout: steps × features from the column count; per-feature mean/std over the TRAIN rows' steps."""
    steps = spec.steps or len(columns)
    if len(columns) % steps:
        raise DataError(f"{len(columns)} sequence columns do not split into {steps} steps of equal size; set "
                        "input.steps to a divisor of the column count, or leave it empty (one feature per step)")
    features = len(columns) // steps
    values = numeric_matrix(df.iloc[train], columns, fill=False).reshape(len(train), steps, features)
    mean, std = values.mean(axis=(0, 1)), values.std(axis=(0, 1))
    std = np.where(std > 0, std, 1.0)
    return SequencePreprocessing("rows", tuple(columns), tuple(targets), steps, 0,
                                 tuple(map(float, mean)), tuple(map(float, std)))
