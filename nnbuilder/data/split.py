"""Rows -> train / validation / test positions: seeded, stratified by class when every class is big enough."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from nnbuilder.data.records import DataWarning
from nnbuilder.errors import DataError


def split_rows(n: int, split, seed: int, labels: np.ndarray | None, found: list[DataWarning]):
    """Row positions (train, val, test): stratified by class when every class is big enough."""
    try:
        return split_once(n, split, seed, labels)
    except ValueError:
        pass
    try:
        parts = split_once(n, split, seed, None)
    except ValueError:
        raise DataError(f"only {n} rows have a target, too few to split into train/validation/test "
                        f"({split.train:g}/{split.val:g}/{split.test:g}); add rows, or set the validation "
                        "or test share to 0") from None
    if labels is not None:
        found.append(DataWarning("unstratified_split", "some classes have too few rows to appear in every split, "
                                 "so rows were split at random instead of keeping class shares equal."))
    return parts


def split_once(n: int, split, seed: int, labels: np.ndarray | None):
    rows, none = np.arange(n), np.arange(0)
    rest, test = (rows, none) if split.test == 0 else train_test_split(
        rows, test_size=split.test, random_state=seed, stratify=labels)
    if split.val == 0:
        return rest, none, test
    train, val = train_test_split(rest, test_size=split.val / (split.train + split.val), random_state=seed,
                                  stratify=None if labels is None else labels[rest])
    return train, val, test
