"""What the explanations need from a model, whether it is a fresh `TrainedModel` or a loaded `Bundle`.

`explainable(obj)` reads either into one `Explainable` record (network, preprocessing, task, classes,
target scaling) and refuses, with one line a person can act on, the models that explanations of
"which column matters" do not fit: GANs, autoencoders, sequences and images.

`feature_sources` says which raw column each encoded feature came from, branch by branch of the
fitted ColumnTransformer (`BRANCH_SOURCES`, one entry per branch kind that nnbuilder.data.features
makes), so attributions on one-hot groups, date parts and embedding codes add up to their column.
A new encoding adds one entry there.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch

from nnbuilder.data.features import DATE_PARTS, Preprocessing, fitted_parameters, part_name
from nnbuilder.errors import NNBuilderError
from nnbuilder.model.heads import find_head, get_head


class ExplainError(NNBuilderError):
    """A model or a row cannot be explained as asked; the message says why and what to do instead."""


SUPERVISED_TABLES = "explanations of which columns matter are for networks that predict a target from table columns"
INPUT_WHY_NOT = {
    "image": "this one reads an image, and shuffling or crediting single pixels says little about what it sees; "
             "look at the confusion matrix on the Evaluate page instead",
    "sequence": "this one reads a sequence of steps, not independent columns; look at the confusion matrix or the "
                "errors on the Evaluate page instead",
}


@dataclass
class Explainable:
    model: torch.nn.Module  # (batch, features) -> logits or standardised targets
    preprocessing: Preprocessing
    task: str
    target: list[str]
    classes: list | None
    target_mean: np.ndarray | None
    target_std: np.ndarray | None
    embedding_levels: list[int]
    raw_test: pd.DataFrame | None  # a TrainedModel's test rows as read; a bundle keeps none

    @property
    def is_classifier(self) -> bool:
        return get_head(self.task).is_classification

    @property
    def feature_columns(self) -> list[str]:
        return list(self.preprocessing.feature_columns)


def explainable(obj) -> Explainable:
    """A `workflow.TrainedModel` or a `bundle.Bundle` as an `Explainable`; ExplainError for other models."""
    if hasattr(obj, "prepared"):  # TrainedModel
        prepared = obj.prepared
        task, kind = prepared.task, prepared.input_kind
        _refuse(task, kind)
        return Explainable(obj.model, prepared.preprocessing, task, list(prepared.target), prepared.classes,
                           prepared.target_mean, prepared.target_std, list(prepared.embedding_levels),
                           prepared.raw_test)
    if hasattr(obj, "meta") and hasattr(obj, "preprocessing"):  # Bundle
        meta = obj.meta
        task, kind = meta["task"], meta.get("input_kind", "tabular")
        _refuse(task, kind)
        as_array = (lambda v: None if v is None else np.asarray(v, dtype=np.float64))
        return Explainable(obj.model, obj.preprocessing, task, list(meta["target"]), meta.get("classes"),
                           as_array(meta.get("target_mean")), as_array(meta.get("target_std")),
                           list(meta.get("embedding_levels") or []), None)
    raise ExplainError(f"explanations need a trained model or a loaded bundle; got {type(obj).__name__}")


def _refuse(task: str, input_kind: str) -> None:
    head = find_head(task)  # a head says why its models are not explained by columns (not_explainable)
    reason = (head.not_explainable if head is not None else "") or INPUT_WHY_NOT.get(input_kind)
    if reason is None and head is None:
        reason = f"this one is a {task} model"
    if reason:
        raise ExplainError(f"{SUPERVISED_TABLES}; {reason}")


@contextlib.contextmanager
def eval_mode(model: torch.nn.Module):
    """Dropout off and batch-norm statistics frozen while explaining; the model's mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


# Branch kind of the ColumnTransformer -> (its fitted parameters, its input names, date part -> column) -> the raw
# column of each output feature, in order.
BRANCH_SOURCES: dict[str, Callable[[dict, list[str], dict[str, str]], list[str]]] = {
    "numeric": lambda branch, names, parts: [parts.get(n, n) for n in names],  # a date part counts for its date
    "categorical": lambda branch, names, parts: [n for n, levels in zip(names, branch["categories"])
                                                 for _ in levels],  # one output per category
    "embedded": lambda branch, names, parts: list(names),  # one integer code each
}


def feature_sources(preprocessing: Preprocessing) -> list[str]:
    """The raw column behind each column of `preprocessing.transform`'s matrix."""
    feature_columns = list(preprocessing.feature_columns)
    parts = {part_name(c.name, part, feature_columns): c.name for c in preprocessing.columns
             if c.role == "datetime" and c.name in feature_columns for part in DATE_PARTS}
    sources: list[str] = []
    for branch, fitted in fitted_parameters(preprocessing.preprocessor).items():
        if branch not in BRANCH_SOURCES:
            raise ExplainError(f"the preprocessing has a '{branch}' part that explanations cannot trace back to "
                               "columns; add it to nnbuilder.evaluate.source.BRANCH_SOURCES")
        sources += BRANCH_SOURCES[branch](fitted, fitted["columns"], parts)
    return sources
