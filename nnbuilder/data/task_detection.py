"""Decide the task from the target, and turn class labels into indices.

The rule for `task="auto"`:
* text, yes/no (bool) or category targets -> classification;
* whole numbers (ints, or floats that are all whole) with at most 10 distinct values,
  or at most 20 that are also at most 5% of the rows -> classification
  (e.g. 0/1, ratings 1-5, digits 0-9);
* any other numbers -> regression;
* several target columns -> "multi_regression" (all must be numeric).
Classification resolves to "binary" for two classes and "multiclass" for more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnbuilder.data.records import DataWarning
from nnbuilder.errors import DataError

FEW_LEVELS = 10
MAX_LEVELS = 20
LEVEL_SHARE = 0.05
REQUESTS = ("auto", "classification", "regression")
CLASSIFIED = ("binary", "multiclass")  # what infer_task resolves a target of classes to


def classifies(task: str) -> bool:
    """Whether `task` (as infer_task resolves it) predicts classes, so its target is encoded as class codes."""
    return task in CLASSIFIED


def infer_task(y: pd.Series | pd.DataFrame, requested: str = "auto") -> str:
    """'binary', 'multiclass', 'regression' or 'multi_regression' for this target."""
    if requested not in REQUESTS:
        raise DataError(f"task must be one of {', '.join(REQUESTS)}; got {requested!r}")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            return _multi_task(y, requested)
        y = y.iloc[:, 0]
    name, present = str(y.name), y.dropna()
    if len(present) == 0:
        raise DataError(f"target '{name}' has no values; pick a column that has some", column=name)
    numeric, whole = is_number(y), _whole(present)
    levels = int(present.nunique())
    if requested == "regression" or (requested == "auto" and numeric and not _few_levels(levels, len(present), whole)):
        if not numeric:
            kind = "yes/no values" if pd.api.types.is_bool_dtype(y) else "text"
            raise DataError(f"target '{name}' holds {kind} (e.g. {str(present.iloc[0])!r}), so it cannot be "
                            "predicted as a number; choose classification, or pick a numeric target", column=name)
        if levels < 2:
            raise DataError(f"target '{name}' has only one value ({present.iloc[0]!r}); there is nothing to predict",
                            column=name)
        return "regression"
    if levels < 2:
        raise DataError(f"target '{name}' has only one value ({_plain(present.iloc[0])!r}); a classifier needs at "
                        "least two classes", column=name)
    if numeric and not whole and levels > MAX_LEVELS:
        raise DataError(f"target '{name}' has {levels} different decimal numbers, too many to treat as classes; "
                        "choose regression", column=name)
    return "binary" if levels == 2 else "multiclass"


def _multi_task(y: pd.DataFrame, requested: str) -> str:
    names = ", ".join(f"'{c}'" for c in y.columns)
    if requested == "classification":
        raise DataError(f"several targets ({names}) can only be predicted together as numbers (regression); "
                        "pick one target to classify")
    for column in y.columns:
        if not is_number(y[column]):
            raise DataError(f"several targets mean multi-target regression, so every target must hold numbers; "
                            f"'{column}' does not", column=str(column))
        if y[column].nunique() < 2:
            raise DataError(f"target '{column}' has only one value; there is nothing to predict", column=str(column))
    return "multi_regression"


def is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _whole(present: pd.Series) -> bool:
    if not is_number(present):
        return False
    values = present.to_numpy(dtype=np.float64)
    return bool(np.all(values == np.round(values)))


def _few_levels(levels: int, rows: int, whole: bool) -> bool:
    return whole and (levels <= FEW_LEVELS or (levels <= MAX_LEVELS and levels <= LEVEL_SHARE * rows))


def class_labels(y: pd.Series) -> list:
    """Sorted class labels as plain Python values (str, int, bool), as they appear in the data."""
    present = _as_labels(y.dropna())
    labels = [_plain(v) for v in pd.unique(present)]
    try:
        return sorted(labels)
    except TypeError:  # mixed kinds of labels
        return sorted(labels, key=str)


def encode_classes(y: pd.Series, classes: list) -> np.ndarray:
    """Class indices (rows,) int64 for labels that are all in `classes`."""
    codes = pd.Categorical(_as_labels(y), categories=classes).codes.astype(np.int64)
    if (codes < 0).any():
        raise DataError(f"target '{y.name}' has a value that is not one of the classes {classes}", column=str(y.name))
    return codes


def _as_labels(y: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(y) and _whole(y.dropna()):
        return y.astype(np.int64)  # 0.0/1.0 from a gappy int column: the labels are 0 and 1
    return y


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def imbalance_warning(codes: np.ndarray, classes: list, target: str) -> DataWarning | None:
    """Warn when the smallest class is < 10% of the largest or has fewer than 5 rows."""
    counts = np.bincount(codes, minlength=len(classes))
    small, large = int(counts.argmin()), int(counts.argmax())
    if counts[small] >= 0.1 * counts[large] and (counts[small] >= 5 or counts[small] == counts[large]):
        return None
    if counts[small] == counts[large]:  # balanced, but too few rows of every class
        return DataWarning(
            "class_imbalance",
            f"every class of '{target}' has only {counts[small]} row(s); results on so few examples are unreliable, "
            "so collect more rows if you can.", target)
    return DataWarning(
        "class_imbalance",
        f"class {classes[small]!r} of '{target}' has only {counts[small]} row(s) while {classes[large]!r} has "
        f"{counts[large]}; the network may learn to ignore it, so look at per-class results or collect more examples.",
        target)
