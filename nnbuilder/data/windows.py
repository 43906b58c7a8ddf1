"""Sequence input, the parts shared by training and prediction: ordering, value matrix, windows, scaling.

Time-series layout: rows are time steps, sorted by the time column (stably, so equal or missing
times keep the table's order) within each group. A window of `window` consecutive rows of one group
is one sample, `(window, features)` float32; windows are cut by vectorised indexing
(`starts[:, None] + arange(window)`), never a Python loop per window. Gaps in a value column are
filled with the last earlier value of the same series (then the next one, for a gap at its start).
Rows layout: each row is one sequence; its ordered columns are read step by step, features within a
step (`t0_f0, t0_f1, t1_f0, ...` is `reshape(rows, steps, features)`). Either way the features are
standardised with the TRAINING period's (or rows') mean and std, stored as plain JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nnbuilder.errors import DataError


@dataclass(frozen=True)
class SequencePreprocessing:
    """Everything needed to turn new rows into windows like the training ones: plain JSON state."""

    layout: str  # "time_series" | "rows"
    value_columns: tuple[str, ...] = field(repr=False)  # per-step features (rows: every ordered column)
    target: tuple[str, ...]
    window: int  # time steps per sample (rows layout: steps per row)
    horizon: int  # steps from a window's last row to its forecast target; 0 = the label of the last row
    mean: tuple[float, ...] = field(repr=False)  # per feature, from the training period only
    std: tuple[float, ...] = field(repr=False)
    time_column: str | None = None
    group_column: str | None = None

    kind = "sequence"

    @property
    def feature_columns(self) -> list[str]:
        return list(self.value_columns)

    @property
    def features(self) -> int:
        return len(self.mean)

    @property
    def feature_names(self) -> list[str]:
        return list(self.value_columns)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """New rows -> (samples, T, F) float32: one sample per row (rows) or per complete window (time_series)."""
        return self.windows(df)[0]

    def windows(self, df: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame | None]:
        """(samples, keys): for a time series, every complete window of the history, and a frame naming each
        window's group and last step (`window_end`) and, when forecasting, how far ahead it predicts."""
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        _require(df, [*self.value_columns, *[c for c in (self.time_column, self.group_column) if c]])
        if self.layout == "rows":
            values = numeric_matrix(df, list(self.value_columns), fill=False)  # (rows, steps × features)
            steps = values.reshape(len(df), self.window, self.features)
            return self._scale(steps), None
        frame, codes = order_rows(df, self.time_column, self.group_column)
        values, _ = numeric_matrix(frame, list(self.value_columns), groups=codes)  # (rows, features)
        starts, _ = window_starts(codes, self.window, self.window, frame, self.group_column,
                                  fix=f"give at least {self.window} rows of history per series")
        X = self._scale(values)[starts[:, None] + np.arange(self.window)]  # (windows, window, features)
        ends = starts + self.window - 1
        keys = pd.DataFrame(index=pd.RangeIndex(len(starts)))
        if self.group_column:
            keys[self.group_column] = frame[self.group_column].to_numpy()[ends]
        keys["window_end"] = step_labels(frame, self.time_column, ends)
        if self.horizon:
            keys["steps_ahead"] = self.horizon
        return X, keys

    def _scale(self, values: np.ndarray) -> np.ndarray:
        return ((values - np.asarray(self.mean)) / np.asarray(self.std)).astype(np.float32)

    def state(self) -> dict:
        return {"kind": "sequence", "layout": self.layout, "value_columns": list(self.value_columns),
                "sequence_target": list(self.target), "window": self.window, "horizon": self.horizon,
                "feature_mean": list(self.mean), "feature_std": list(self.std),
                "time_column": self.time_column, "group_column": self.group_column}

    @classmethod
    def from_state(cls, state: dict) -> "SequencePreprocessing":
        return cls(state["layout"], tuple(state["value_columns"]), tuple(state["sequence_target"]),
                   int(state["window"]), int(state["horizon"]), tuple(map(float, state["feature_mean"])),
                   tuple(map(float, state["feature_std"])), state.get("time_column"), state.get("group_column"))


def _require(df: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"the data lacks column '{missing[0]}', which the sequence input reads; available columns: "
                        f"{', '.join(repr(str(c)) for c in list(df.columns)[:25])}", column=missing[0])


def order_rows(df: pd.DataFrame, time_column: str | None, group_column: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """(rows sorted by group then time, group code of each sorted row (rows,) int64)."""
    keys = {}
    if group_column:
        if df[group_column].isna().any():
            raise DataError(f"group column '{group_column}' has missing values; fill them or drop those rows",
                            column=group_column)
        keys["_group"] = pd.factorize(df[group_column], sort=True)[0]
    if time_column:
        keys["_time"] = time_values(df[time_column], time_column)
    if not keys:
        return df.reset_index(drop=True), np.zeros(len(df), dtype=np.int64)
    order = pd.DataFrame(keys).sort_values(list(keys), kind="stable").index.to_numpy()
    frame = df.iloc[order].reset_index(drop=True)
    codes = keys["_group"][order] if group_column else np.zeros(len(df), dtype=np.int64)
    return frame, np.asarray(codes, dtype=np.int64)


def time_values(column: pd.Series, name: str) -> np.ndarray:
    """Sortable values of the time column: numbers as they are, text as dates."""
    if column.isna().any():
        raise DataError(f"time column '{name}' has missing values, so those rows cannot be put in order; fill or "
                        "drop them", column=name)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=np.float64)
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    parsed = pd.to_datetime(column.astype(str), errors="coerce", format="mixed")
    if parsed.isna().any():
        bad = column[parsed.isna()].iloc[0]
        raise DataError(f"time column '{name}' must hold dates or numbers; got {bad!r}: pick the column that orders "
                        "the rows, or leave the time column empty to keep the table's order", column=name)
    return parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def step_labels(frame: pd.DataFrame, time_column: str | None, rows: np.ndarray) -> list:
    """The time of each given row as text, or its row number (from 0, in time order) without a time column."""
    if time_column is None:
        return [int(r) for r in rows]
    column = frame[time_column]
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy()[rows].tolist()  # plain numbers, JSON-able
    return column.iloc[rows].astype(str).tolist()  # dates as pandas writes them, e.g. '2024-01-01


def numeric_matrix(df: pd.DataFrame, columns: list[str], groups: np.ndarray | None = None, fill: bool = True):
    """(rows, columns) float64 of numeric columns; with `fill`, gaps take the series' previous value.

    Returns (values, filled count) when filling, else the values; a text column or an unfillable gap is a DataError.
    """
    for name in columns:
        values = df[name]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise DataError(f"value column '{name}' of the sequence input must hold numbers; got {values.dtype} values "
                            f"(e.g. {str(values.dropna().iloc[0]) if values.notna().any() else 'nothing'!r}): leave "
                            "it out of value_columns", column=name)
    frame = df[columns].astype(np.float64).replace([np.inf, -np.inf], np.nan)
    if not fill:
        values = frame.to_numpy()
        if np.isnan(values).any():
            row, col = np.argwhere(np.isnan(values))[0]
            raise DataError(f"column '{columns[col]}' has a missing or infinite value in row {row + 1}; fill or drop "
                            "such rows", column=columns[col])
        return values
    gaps = int(frame.isna().to_numpy().sum())
    if gaps:
        by = pd.Series(groups if groups is not None else np.zeros(len(frame), dtype=np.int64), index=frame.index)
        frame = frame.groupby(by).transform(lambda part: part.ffill().bfill())
        empty = [c for c in columns if frame[c].isna().any()]
        if empty:
            raise DataError(f"value column '{empty[0]}' has no values at all in some series; leave it out of "
                            "value_columns", column=empty[0])
    return frame.to_numpy(), gaps


def group_bounds(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row, row count) of each group in rows sorted by group."""
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return first, np.diff(np.r_[first, len(codes)])


def window_starts(codes: np.ndarray, window: int, span: int, frame: pd.DataFrame, group_column: str | None,
                  fix: str = "choose a shorter window or horizon, or give more rows"):
    """(start row of every window whose `span` rows lie in one group, group index of each window)."""
    first, count = group_bounds(codes)
    per_group = np.maximum(count - span + 1, 0)  # windows in each group
    if per_group.sum() == 0:
        shortest = int(count.max()) if len(count) else 0
        where = f" in any group of '{group_column}'" if group_column else ""
        raise DataError(f"the series has at most {shortest} rows{where}, fewer than the {span} a sample needs "
                        f"(window {window}{f' + horizon {span - window}' if span > window else ''}); {fix}")
    group = np.repeat(np.arange(len(first)), per_group)  # (windows,)
    offset = np.arange(len(group)) - np.repeat(np.cumsum(per_group) - per_group, per_group)
    return first[group] + offset, group
