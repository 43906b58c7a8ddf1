"""The autoencoder task's data: a table encoded like any other, reconstructed from itself.

Every input column is encoded by the same scikit-learn pipeline as for tabular prediction (fitted on the
training rows only), and the network's target is the encoded row itself: `y_<split>` *is* `X_<split>`
(the same array, no copy). The optional target column is a *label* (e.g. `is_anomaly` yes/no): it is never
an input, rows without one are kept, and it is only used to colour the latent space and to score the
reconstruction error as an anomaly detector. For a label with two values the rarer one is the anomaly
class (`anomaly_class`); on a tie, the later of the two in sorted order (1 of 0/1, yes of no/yes).
The split is stratified by the label when every class (and "no label") is big enough, else random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnbuilder.data.embedding import refuse_for_task
from nnbuilder.data.pipeline import FEW_ROWS, check_drops, fit_tabular, plain_names, resolve_targets, split_rows
from nnbuilder.data.prepared import PreparedData
from nnbuilder.data.records import ColumnInfo, DataWarning
from nnbuilder.data.roles import infer_roles
from nnbuilder.data.task_detection import class_labels
from nnbuilder.errors import DataError

NEEDS_TABLE = ("the autoencoder task works on tables only for now (it rebuilds a row's columns), but the input is "
               "{kind}; choose the tabular input on the Data page, or another task")


def whole_table(df: pd.DataFrame, data, input, task: str) -> tuple[pd.DataFrame, list[str], list[str], list[DataWarning]]:
    """(table with plain names, optional label column(s), dropped columns, warnings so far) for a task that reads
    every column of a table (the autoencoder, the GAN): refuses other input kinds and embeddings in words."""
    kind = getattr(input, "kind", "tabular")
    if kind != "tabular":
        raise DataError(NEEDS_TABLE.format(kind=kind).replace("autoencoder", task))
    found: list[DataWarning] = []
    df = plain_names(df, found)
    labels = resolve_targets(df, data.target, optional=True)
    drops = check_drops(df, data.drop_columns, labels)
    refuse_for_task(task, input)
    return df, labels, drops, found


@dataclass
class EncodedTable:
    """Every usable column of a table, encoded for a task that learns the rows themselves (no target)."""

    columns: list[ColumnInfo]
    feature_columns: list[str]
    rows: tuple[np.ndarray, np.ndarray, np.ndarray]  # train, val, test row indices
    X: list[np.ndarray]  # per split, (rows, features) float32, standardised numbers
    names: list[str]
    preprocessor: object


def encode_whole_rows(df: pd.DataFrame, data, labels: list[str], drops: list[str], seed: int,
                      found: list[DataWarning], *, what: str, strata: np.ndarray | None = None) -> EncodedTable:
    """Roles, dropped-column warnings, split and the tabular pipeline (fitted on train rows) for every
    column but `labels`; `what` ("rebuild", "generate") words the messages."""
    columns = infer_roles(df, labels, drops)
    found += [DataWarning("dropped_column", f"column '{c.name}' was left out: {c.reason}.", c.name)
              for c in columns if c.role == "excluded" and c.reason != "dropped by you"]
    feature_columns = [c.name for c in columns if c.is_input]
    if not feature_columns:
        raise DataError(f"no column is left to {what}: every column is {'the label, ' if labels else ''}dropped, "
                        "or unusable (see the column roles); keep at least one input column")
    n = len(df)
    if n < FEW_ROWS:
        found.append(DataWarning("few_rows", f"only {n} rows; with so few the results will be unreliable, "
                                 "so collect more rows if you can."))
    rows = split_rows(n, data.split, seed, strata, found)
    preprocessor, names, encode = fit_tabular(df, columns, feature_columns, rows[0])
    return EncodedTable(columns, feature_columns, rows, [encode(r) for r in rows], names, preprocessor)


def prepare_autoencoder(df: pd.DataFrame, data, input, labels: list[str], drops: list[str], seed: int,
                        found: list[DataWarning]) -> PreparedData:
    kind = getattr(input, "kind", "tabular")
    if kind != "tabular":
        raise DataError(NEEDS_TABLE.format(kind=kind))
    if len(labels) > 1:
        raise DataError(f"the autoencoder takes at most one label column; got {', '.join(labels)}: keep one "
                        "(or none)", column=labels[1])
    label = df[labels[0]] if labels else None
    classes = class_labels(label) if label is not None and label.notna().any() else None
    strata = None
    if classes is not None and len(classes) >= 2:
        strata = pd.Categorical(label.astype(object).where(label.notna(), None), categories=None).codes
    table = encode_whole_rows(df, data, labels, drops, seed, found, what="rebuild", strata=strata)
    train, val, test = table.rows
    X = table.X
    values = None if label is None else label.to_numpy(dtype=object)
    return PreparedData(
        task="autoencoder", target=list(labels), feature_columns=table.feature_columns, columns=table.columns,
        classes=classes, feature_names=table.names, X_train=X[0], X_val=X[1], X_test=X[2],
        y_train=X[0], y_val=X[1], y_test=X[2], target_mean=None, target_std=None, preprocessor=table.preprocessor,
        raw_test=df.iloc[test][table.feature_columns + labels].reset_index(drop=True), warnings=found,
        n_rows=len(df),
        labels=None if values is None else {"train": values[train], "val": values[val], "test": values[test]},
        anomaly_class=anomaly_class(label),
    )


def anomaly_class(label: pd.Series | None):
    """The label value that marks an anomaly: the rarer of exactly two values (ties: the later one sorted)."""
    if label is None:
        return None
    present = label.dropna()
    if present.nunique() != 2:
        return None
    counts = present.map(str).value_counts()
    classes = class_labels(present)
    rare = min(classes, key=lambda c: (counts[str(c)], -classes.index(c)))
    return rare


def is_anomaly(values: np.ndarray, positive) -> np.ndarray:
    """(rows,) bool: the label equals the anomaly class; missing labels are False (see `has_label`)."""
    return np.array([v is not None and not _missing(v) and str(v) == str(positive) for v in values], dtype=bool)


def has_label(values: np.ndarray) -> np.ndarray:
    return np.array([not _missing(v) for v in values], dtype=bool)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA
