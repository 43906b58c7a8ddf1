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

import numpy as np
import pandas as pd

from .data_prepared import PreparedData
from .data_records import DataWarning
from .data_roles import infer_roles
from .data_task import class_labels
from .errors import DataError

NEEDS_TABLE = ("the autoencoder task works on tables only for now (it rebuilds a row's columns), but the input is "
               "{kind}; choose the tabular input on the Data page, or another task")


def prepare_autoencoder(df: pd.DataFrame, data, input, labels: list[str], drops: list[str], seed: int,
                        found: list[DataWarning]) -> PreparedData:
    from .data import FEW_ROWS, _fit_tabular, _split  # data imports this module: resolve at call time

    kind = getattr(input, "kind", "tabular")
    if kind != "tabular":
        raise DataError(NEEDS_TABLE.format(kind=kind))
    if len(labels) > 1:
        raise DataError(f"the autoencoder takes at most one label column; got {', '.join(labels)}: keep one "
                        "(or none)", column=labels[1])
    columns = infer_roles(df, labels, drops)
    found += [DataWarning("dropped_column", f"column '{c.name}' was left out: {c.reason}.", c.name)
              for c in columns if c.role == "excluded" and c.reason != "dropped by you"]
    feature_columns = [c.name for c in columns if c.is_input]
    if not feature_columns:
        raise DataError("no column is left to rebuild: every column is the label, dropped, or unusable "
                        "(see the column roles); keep at least one input column")
    n = len(df)
    if n < FEW_ROWS:
        found.append(DataWarning("few_rows", f"only {n} rows; with so few the results will be unreliable, "
                                 "so collect more rows if you can."))
    label = df[labels[0]] if labels else None
    classes = class_labels(label) if label is not None and label.notna().any() else None
    strata = None
    if classes is not None and len(classes) >= 2:
        strata = pd.Categorical(label.astype(object).where(label.notna(), None), categories=None).codes
    train, val, test = _split(n, data.split, seed, strata, found)
    preprocessor, names, encode = _fit_tabular(df, columns, feature_columns, train)
    X = [encode(rows) for rows in (train, val, test)]  # (rows, features) float32, standardised numbers
    values = None if label is None else label.to_numpy(dtype=object)
    return PreparedData(
        task="autoencoder", target=list(labels), feature_columns=feature_columns, columns=columns, classes=classes,
        feature_names=names, X_train=X[0], X_val=X[1], X_test=X[2], y_train=X[0], y_val=X[1], y_test=X[2],
        target_mean=None, target_std=None, preprocessor=preprocessor,
        raw_test=df.iloc[test][feature_columns + labels].reset_index(drop=True), warnings=found, n_rows=n,
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
