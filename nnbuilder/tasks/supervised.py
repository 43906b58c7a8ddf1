"""The shared steps of the tasks that predict a target with one network and the shared Trainer
(classification, regression, forecast; the autoencoder reuses most of them). A task record names these
for the steps it does not do its own way (nnbuilder.tasks.record.Task).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from nnbuilder.data.pipeline import PreparedData, SequencePreprocessing, detect_task, prepare
from nnbuilder.evaluate.metrics import evaluate, model_outputs
from nnbuilder.model.compile import build_model, layer_table
from nnbuilder.model.heads import get_head
from nnbuilder.spec.network import NetworkSpec
from nnbuilder.tasks.record import get_task
from nnbuilder.tasks.trained import TrainedModel
from nnbuilder.train.probes import make_probes
import nnbuilder.views  # noqa: F401  (registers the views' probes that make_probes chooses from)
from nnbuilder.train.trainer import Trainer

SPLITS = ("train", "val", "test")


def prepare_target(df: pd.DataFrame, data, seed: int, input) -> PreparedData:
    """A target to predict, encoded by the input kind (nnbuilder.data.pipeline.prepare)."""
    return prepare(df, data, seed=seed, input=input)


def detect_target(df: pd.DataFrame, data, input) -> str:
    return detect_task(df, data, input)


def describe_network(spec: NetworkSpec, prepared: PreparedData):
    """The layer table of the one network on this data (no training)."""
    return layer_table(spec, prepared.input_shape, prepared.task, prepared.n_outputs,
                       embeddings=prepared.embedding_levels)


def fit_network(df, spec: NetworkSpec, prepared: PreparedData, *, device: str = "auto", observers=None,
                cancel=None, views: Sequence[str] = (), callbacks=()) -> TrainedModel:
    """Build the network, train it with the shared Trainer, and evaluate it with the task's evaluation."""
    torch.manual_seed(spec.training.seed)  # same initial weights for the same seed
    model = build_model(spec, prepared.input_shape, prepared.task, prepared.n_outputs,
                        embeddings=prepared.embedding_levels)
    trainer = Trainer(spec.training, prepared.task, device=device, observers=list(observers or []), cancel=cancel,
                      probes=make_probes(views, spec, prepared) if views else [], callbacks=list(callbacks))
    fit = trainer.fit(model, prepared.X_train, prepared.y_train, prepared.X_val, prepared.y_val)
    metrics, details = get_task(prepared.task).evaluate(fit.model, spec, prepared)
    return TrainedModel(spec, prepared, fit, metrics, details, list(prepared.warnings))


def evaluate_splits(model, spec: NetworkSpec, prepared: PreparedData) -> tuple[dict, dict]:
    """Metrics and chart details per split for the tasks that predict a target."""
    metrics, details = {}, {}
    for split in SPLITS:
        X, y = getattr(prepared, f"X_{split}"), getattr(prepared, f"y_{split}")
        result = evaluate(model, X, y, prepared.task, prepared.classes, prepared.target_mean, prepared.target_std,
                          **prepared.evaluation_extras(split))
        metrics[split], details[split] = result.metrics, result.details
    return metrics, details


def rebuild_network(spec: NetworkSpec, meta: dict) -> torch.nn.Module:
    """The untrained network a bundle's weights belong to."""
    return build_model(spec, tuple(meta["input_shape"]), meta["task"], meta["n_outputs"],
                       embeddings=meta.get("embedding_levels", []))


def predict_target(bundle, df: pd.DataFrame) -> pd.DataFrame:
    """A `prediction` column, plus `probability_<class>` for classifiers; a time series' rows are history and
    the answer has one row per complete window, after its keys (group, window_end, steps_ahead)."""
    keys = None
    if isinstance(bundle.preprocessing, SequencePreprocessing):
        X, keys = bundle.preprocessing.windows(df)  # DataError names missing columns or a too-short history
    else:
        X = bundle.preprocessing.transform(df)  # DataError names missing columns
    index = df.index if keys is None else keys.index
    result = outputs_frame(bundle.meta, model_outputs(bundle.model, X, bundle.task), index)
    return result if keys is None else pd.concat([keys, result], axis=1)


def outputs_frame(meta: dict, outputs: np.ndarray, index) -> pd.DataFrame:
    """Probabilities (rows, classes) or standardised values (rows, targets) as the answer columns."""
    if get_head(meta["task"]).is_classification:
        classes = meta["classes"]
        labels = np.asarray(classes, dtype=object)
        result = pd.DataFrame({"prediction": labels[outputs.argmax(axis=1)]}, index=index)
        for k, label in enumerate(classes):
            result[f"probability_{label}"] = outputs[:, k]
        return result
    values = outputs * np.asarray(meta["target_std"]) + np.asarray(meta["target_mean"])
    targets = meta["target"]
    if len(targets) == 1:
        return pd.DataFrame({"prediction": values[:, 0]}, index=index)
    return pd.DataFrame({f"prediction_{t}": values[:, i] for i, t in enumerate(targets)}, index=index)
