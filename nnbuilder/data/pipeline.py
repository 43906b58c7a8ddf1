"""From a table to the matrices a network trains on.

    read_csv / load_table      robust reading (data_io) or a built-in dataset (datasets)
    infer_roles                what each column is for (data_roles)
    infer_task                 binary / multiclass / regression / multi_regression (data_task)
    prepare                    drop rows without a target, split train/val/test (stratified for
                               classes), fit the preprocessing on the train rows only, encode
                               everything to float32, standardise regression targets
    transform_features         encode new raw rows exactly like the training rows (data_features)
    image input                pixel columns -> (rows, C, H, W) scaled to [0, 1] (data_image), chosen by
                               the spec's input section; detect_input_kind suggests it for pixel tables
    sequence input             a time series -> sliding windows (rows, T, F), split chronologically, or one
                               sequence per row in ordered columns (data_sequence)
`prepare` picks the preparation by the input kind from `PREPARERS` (one entry per kind). It prepares a
target to predict; tasks that read the table their own way (nnbuilder.tasks: the autoencoder, the GAN)
build on the public pieces here (plain_names, resolve_targets, fit_tabular, split_rows ...).

Every problem the user can fix is a `DataError` with one readable line; everything
worth knowing that does not stop training is a structured `DataWarning`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd

from nnbuilder.data.features import Preprocessing, as_float32, build_frame, feature_names, make_preprocessor, part_name, transform_features
from nnbuilder.data.clean import dedupe_names
from nnbuilder.data.embedding import embedded_columns, max_categories
from nnbuilder.data.image import ImagePreprocessing, detect_input_kind, fit_image_preprocessing, pixel_columns
from nnbuilder.data.io import read_csv
from nnbuilder.data.prepared import PreparedData
from nnbuilder.data.records import ColumnInfo, DataWarning
from nnbuilder.data.roles import infer_roles
from nnbuilder.data.split import split_rows
from nnbuilder.data.sequence import fit_rows_sequence, ordered_columns, prepare_time_series, sequence_task
from nnbuilder.data.windows import SequencePreprocessing
from nnbuilder.data.task_detection import class_labels, classifies, encode_classes, imbalance_warning, infer_task, is_number
from nnbuilder.errors import DataError
from nnbuilder.spec.messages import did_you_mean

__all__ = [
    "ColumnInfo", "DataWarning", "ImagePreprocessing", "PreparedData", "Preprocessing", "SequencePreprocessing",
    "check_drops", "detect_input_kind", "detect_task", "drop_missing_targets", "fit_tabular", "infer_roles",
    "infer_task", "load_table", "plain_names", "prepare", "read_csv", "resolve_targets", "split_rows",
    "transform_features",
]

FEW_ROWS = 20


def load_table(source: str | os.PathLike) -> tuple[pd.DataFrame, list[DataWarning]]:
    """'sample:NAME' (options as 'sample:moons?noise=0.3') -> a built-in dataset; anything else -> a CSV path."""
    text = str(source)
    if text.startswith("sample:"):
        from nnbuilder.data.datasets import load_sample

        return load_sample(text[len("sample:"):]), []
    return read_csv(source)


def is_time_series(input) -> bool:
    """The sequence input with the time_series layout: samples are windows cut from a table of time steps."""
    return getattr(input, "kind", "tabular") == "sequence" and input.layout == "time_series"


def prepare(df: pd.DataFrame, data, *, seed: int = 0, input=None) -> PreparedData:
    """Split and encode `df` for a supervised network (a target to predict), as the `DataSpec` `data` says; see
    the module docstring. Tasks that read the table their own way (nnbuilder.tasks) build on the pieces below.

    `input` is the spec's input section: None or tabular encodes columns, image reads pixel rows (data_image),
    sequence cuts windows from a time series or reads one sequence per row (data_sequence).
    """
    kind = getattr(input, "kind", "tabular")
    found: list[DataWarning] = []
    df = plain_names(df, found)
    targets = resolve_targets(df, data.target)
    drops = check_drops(df, data.drop_columns, targets)
    return PREPARERS[kind](df, data, input, targets, drops, seed, found)


def detect_task(df: pd.DataFrame, data, input=None) -> str:
    """The task `prepare` resolves for these settings, without splitting or encoding (for the Data page)."""
    targets = resolve_targets(plain_names(df, []), data.target)
    if is_time_series(input):
        return sequence_task(df[targets], data.task)
    return infer_task(df[targets] if len(targets) > 1 else df[targets[0]], data.task)


def _prepare_sequence(df, data, spec, targets, drops, seed, found) -> PreparedData:
    if spec.layout == "rows":
        return _prepare_rows(df, data, spec, targets, drops, seed, found)
    return prepare_time_series(df, data, spec, targets, drops, infer_roles(df, targets, drops), found)


def _prepare_rows(df, data, input, targets, drops, seed, found) -> PreparedData:
    """One sample per row: tabular columns, an image's pixels or a sequence's ordered columns."""
    kind = getattr(input, "kind", "tabular")
    encoded = _ENCODED_ROWS.get(kind)  # None: tabular columns through the scikit-learn pipeline
    df = drop_missing_targets(df, targets, found)
    y = df[targets] if len(targets) > 1 else df[targets[0]]
    task = infer_task(y, data.task)
    columns = infer_roles(df, targets, drops, max_categories(input))
    if encoded is not None:
        feature_columns = encoded.pick(df, targets, input, drops)
        columns = _as_pixels(columns, feature_columns, *encoded.reasons)
    else:
        found += [DataWarning("dropped_column", f"column '{c.name}' was left out: {c.reason}.", c.name)
                  for c in columns if c.role == "excluded" and c.reason != "dropped by you"]
        feature_columns = [c.name for c in columns if c.is_input]
    if not feature_columns:
        raise DataError("no column is left to learn from: every column is the target, dropped, or unusable "
                        "(see the column roles); keep at least one input column")
    classes = codes = None
    classifier = classifies(task)
    if classifier:
        classes = class_labels(y)
        codes = encode_classes(y, classes)
        found += [w for w in [imbalance_warning(codes, classes, targets[0])] if w]
    n = len(df)
    if n < FEW_ROWS:
        found.append(DataWarning("few_rows", f"only {n} rows have a target; with so few the results will be "
                                 "unreliable, so collect more rows if you can."))
    train, val, test = split_rows(n, data.split, seed, codes, found)
    if encoded is not None:
        preprocessor = None
        fitted = encoded.fit(df, feature_columns, input, targets, train)  # scaling from the train rows only
        names, encode = list(feature_columns), lambda rows: fitted.transform(df.iloc[rows])  # (rows, C, H, W) | (rows, T, F)
    else:
        fitted = None
        preprocessor, names, encode = fit_tabular(df, columns, feature_columns, train,
                                                   embedded_columns(columns, feature_columns, input))

    mean = std = None
    if classifier:
        ys = [codes[rows] for rows in (train, val, test)]
    else:
        values = df[targets].to_numpy(dtype=np.float64)  # (rows, targets)
        mean, std = values[train].mean(axis=0), values[train].std(axis=0)
        std = np.where(std > 0, std, 1.0)
        ys = [((values[rows] - mean) / std).astype(np.float32) for rows in (train, val, test)]
    return PreparedData(
        task=task, target=targets, feature_columns=feature_columns, columns=columns, classes=classes,
        feature_names=names, X_train=encode(train), X_val=encode(val), X_test=encode(test),
        y_train=ys[0], y_val=ys[1], y_test=ys[2], target_mean=mean, target_std=std, preprocessor=preprocessor,
        raw_test=df.iloc[test][feature_columns + targets].reset_index(drop=True), warnings=found, n_rows=n,
        input_kind=kind if fitted is not None else "tabular",
        **({kind: fitted} if fitted is not None else {}),  # PreparedData.image / .sequence
    )


@dataclass(frozen=True)
class _EncodedRows:
    """A one-sample-per-row input kind with its own encoding instead of the tabular pipeline."""

    pick: Callable  # (df, targets, input spec, drops) -> the input columns in order
    reasons: tuple[str, str]  # column-role reasons: for a chosen column, for any other input column
    fit: Callable  # (df, columns, input spec, targets, train rows) -> fitted preprocessing with transform(df)


_ENCODED_ROWS = {
    "image": _EncodedRows(lambda df, targets, spec, drops: pixel_columns(df, targets, spec.pixel_columns, drops),
                          ("a pixel of the image input", "not a pixel column of the image input"),
                          lambda df, columns, spec, targets, train: fit_image_preprocessing(df, columns, spec, train)),
    "sequence": _EncodedRows(ordered_columns, ("a step of the sequence input", "not a step of the sequence input"),
                             fit_rows_sequence),
}
# How each input kind turns the table into samples; the spec's input kinds (spec.INPUT_KINDS) must all be here.
PREPARERS = {"tabular": _prepare_rows, "image": _prepare_rows, "sequence": _prepare_sequence}


def fit_tabular(df: pd.DataFrame, columns: list[ColumnInfo], feature_columns: list[str], train: np.ndarray,
                 embedded: list[str] = ()):
    """(fitted ColumnTransformer, encoded feature names, rows -> (rows, features) float32)."""
    frame, numeric, categorical = build_frame(df, {c.name: c for c in columns}, feature_columns)
    numeric = _drop_idle_hours(frame, numeric, columns, feature_columns, train)
    one_hot = [c for c in categorical if c not in embedded]
    used = numeric + categorical
    preprocessor = make_preprocessor(numeric, one_hot, [c for c in categorical if c in embedded])
    preprocessor.fit(frame.iloc[train][used])
    names = feature_names(preprocessor)

    def encode(rows: np.ndarray) -> np.ndarray:  # (rows, features) float32
        if len(rows) == 0:
            return np.zeros((0, len(names)), dtype=np.float32)
        return as_float32(preprocessor.transform(frame.iloc[rows][used]), names)

    return preprocessor, names, encode


def _as_pixels(columns: list[ColumnInfo], pixels: list[str], chosen_reason: str,
               other_reason: str) -> list[ColumnInfo]:
    """Pixel (or sequence step) columns are inputs whatever their values (an always-black corner is still part of the image)."""
    chosen = set(pixels)
    return [replace(c, role="numeric", reason=chosen_reason) if c.name in chosen else
            replace(c, role="excluded", reason=other_reason) if c.is_input else c
            for c in columns]


def plain_names(df: pd.DataFrame, found: list[DataWarning]) -> pd.DataFrame:
    """Column names as unique text (scikit-learn selects columns by name)."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a table (pandas DataFrame); got {type(df).__name__}")
    names, copies = dedupe_names(list(df.columns))
    for original, renamed in copies.items():
        found.append(DataWarning("duplicate_columns", f"column name '{original}' appears more than once; the copies "
                                 f"were renamed to {', '.join(map(repr, renamed))}.", original))
    return df if names == list(df.columns) else df.set_axis(names, axis=1)


def _listing(names: list[str], limit: int = 25) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" ... ({len(names) - limit} more)" if len(names) > limit else "")


def resolve_targets(df: pd.DataFrame, target, optional: bool = False) -> list[str]:
    """The target column name(s) as a list, checked against the table; [] when `optional` and none is given."""
    available = [str(c) for c in df.columns]
    if optional and (target is None or target == [] or target == ""):
        return []
    if target is None or target == [] or target == "":
        raise DataError("choose a target: the column the network should predict; "
                        f"available columns: {_listing(available)}")
    targets = list(dict.fromkeys([target] if isinstance(target, str) else list(target)))
    for name in targets:
        if name not in df.columns:
            raise DataError(f"target column '{name}' is not in the data{did_you_mean(name, available)}; "
                            f"available columns: {_listing(available)}", column=name)
    return targets


def check_drops(df: pd.DataFrame, drop_columns, targets: list[str]) -> list[str]:
    """`drop_columns` checked against the table and the targets."""
    available = [str(c) for c in df.columns]
    for name in drop_columns:
        if name in targets:
            raise DataError(f"'{name}' is the target, so it cannot also be dropped; remove it from drop_columns",
                            column=name)
        if name not in df.columns:
            raise DataError(f"drop_columns names '{name}', which is not in the data{did_you_mean(name, available)}; "
                            f"available columns: {_listing(available)}", column=name)
    return list(drop_columns)


def drop_missing_targets(df: pd.DataFrame, targets: list[str], found: list[DataWarning]) -> pd.DataFrame:
    missing = np.zeros(len(df), dtype=bool)
    for name in targets:
        column = df[name]
        missing |= column.isna().to_numpy()
        if is_number(column):
            missing |= np.isinf(column.to_numpy(dtype=np.float64, na_value=np.nan))
    count = int(missing.sum())
    if count == len(df):
        raise DataError(f"every row is missing the target {_listing(targets)}; pick a column that has values",
                        column=targets[0])
    if count:
        found.append(DataWarning("missing_target", f"{count} row(s) have no value for the target "
                                 f"{_listing(targets)} and were left out.", targets[0]))
        df = df.loc[~missing]
    return df


def _drop_idle_hours(frame, numeric, columns, feature_columns, train) -> list[str]:
    """Keep a date's hour part only when some training time is not midnight."""
    for info in columns:
        if info.role == "datetime" and info.name in feature_columns:
            key = part_name(info.name, "hour", feature_columns)
            if np.all(np.nan_to_num(frame[key].to_numpy()[train]) == 0):
                numeric = [c for c in numeric if c != key]
    return numeric
