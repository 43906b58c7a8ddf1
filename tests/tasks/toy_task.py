"""A toy task made of one record and one head, from outside the engine: predict the mean of a row's numbers.

Nothing in nnbuilder/ knows it: it is built from the public pieces (nnbuilder.data.pipeline's building blocks,
nnbuilder.tasks.supervised's shared steps, register_head / register_task). test_toy_task.py registers it for
its tests only and runs the same conformance check as every built-in task.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
from torch import nn

from nnbuilder.data.pipeline import PreparedData, check_drops, fit_tabular, infer_roles, plain_names, split_rows
from nnbuilder.errors import DataError
from nnbuilder.model.heads import OutputHead, register_head, unregister_head
from nnbuilder.tasks import CardSection, Task, register_task, unregister_task
from nnbuilder.tasks.supervised import (
    describe_network, evaluate_splits, fit_network, predict_target, rebuild_network,
)

NAME = "row_mean"
HEAD = OutputHead(NAME, "Row mean", lambda n: 1, nn.L1Loss, "linear", metric="r2")  # its own head (and loss)


def prepare(df: pd.DataFrame, data, seed: int, input) -> PreparedData:
    """Every numeric column is an input; the answer is the mean of them, standardised like a regression."""
    found = []
    df = plain_names(df, found)
    drops = check_drops(df, data.drop_columns, [])
    columns = infer_roles(df, [], drops)
    numeric = [c.name for c in columns if c.role == "numeric"]
    if not numeric:
        raise DataError("the row_mean task needs at least one numeric column; got none")
    values = df[numeric].to_numpy(dtype=np.float64)  # (rows, numbers)
    mean_of_row = np.nanmean(values, axis=1, keepdims=True)  # (rows, 1)
    train, val, test = split_rows(len(df), data.split, seed, None, found)
    preprocessor, names, encode = fit_tabular(df, columns, numeric, train)
    centre, scale = mean_of_row[train].mean(axis=0), mean_of_row[train].std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    ys = [((mean_of_row[rows] - centre) / scale).astype(np.float32) for rows in (train, val, test)]
    return PreparedData(
        task=NAME, target=[NAME], feature_columns=numeric, columns=columns, classes=None, feature_names=names,
        X_train=encode(train), X_val=encode(val), X_test=encode(test), y_train=ys[0], y_val=ys[1], y_test=ys[2],
        target_mean=centre, target_std=scale, preprocessor=preprocessor,
        raw_test=df.iloc[test][numeric].reset_index(drop=True), warnings=found, n_rows=len(df))


def examples():
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"a": rng.normal(size=120).round(3), "b": rng.normal(2, 1, size=120).round(3),
                          "c": rng.integers(0, 10, size=120), "note": rng.choice(["x", "y"], size=120)})
    return [("row_mean", table, {"data": {"task": NAME}, "layers": [{"type": "dense", "units": 4}],
                                 "training": {"epochs": 3, "batch_size": 32, "seed": 0}})]


TOY = Task(
    NAME, "predict the mean of a row's numbers (a toy task from the tests)", (NAME,),
    prepare=prepare, detect=lambda df, data, input: NAME, fit=fit_network, evaluate=evaluate_splits,
    describe=describe_network, predict=predict_target, rebuild=rebuild_network,
    card=CardSection(headline={NAME: ("r2", "mae")}, limits="A toy: it only averages numbers."),
    exports={"torchscript": None, "onnx": "the row_mean toy task has no ONNX export: it lives in the tests only; "
             "use --format torchscript"},  # python: left out, so refused with the generic reason
    ignored_settings=frozenset({"l1", "momentum"}), evaluate_views=("number_cards", "number_charts"),
    predict_views=("form", "file"), target="ignored", examples=examples)


@contextlib.contextmanager
def registered():
    """The toy task (and its head) registered for the duration of a `with` block only."""
    register_head(HEAD)
    register_task(TOY)
    try:
        yield TOY
    finally:
        unregister_task(NAME)
        unregister_head(NAME)
