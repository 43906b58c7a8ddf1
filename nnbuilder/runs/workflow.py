"""One call from a table and a spec to a trained, evaluated model.

This is what both front ends run: the CLI's `train` and the app's training
job call `train_from_spec` with their own observers and cancel flag.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Sequence

import pandas as pd
import torch

from nnbuilder.tasks.autoencoder.anomaly import evaluate_autoencoder
from nnbuilder.model.compile import build_model, layer_table
from nnbuilder.data.pipeline import DataWarning, PreparedData, prepare
from nnbuilder.evaluate.metrics import evaluate
from nnbuilder.tasks.gan.networks import gan_layer_table
from nnbuilder.tasks.gan.fit import fit_gan
from nnbuilder.train.probes import make_probes
import nnbuilder.views  # noqa: F401  (registers the views' probes that make_probes chooses from)
from nnbuilder.train.events import Observer
from nnbuilder.spec.network import NetworkSpec
from nnbuilder.train.trainer import FitResult, Trainer, resolve_device


@dataclass
class TrainedModel:
    spec: NetworkSpec
    prepared: PreparedData
    fit: FitResult
    metrics: dict[str, dict]  # {"train": {...}, "val": {...}, "test": {...}}
    details: dict[str, dict]  # per split: confusion matrix, ROC, pairs ... for charts
    warnings: list[DataWarning] = field(default_factory=list)
    gan_layout: dict | None = None  # gan task: where each column lives in a generated row (nnbuilder.tasks.gan.networks)

    @property
    def model(self) -> torch.nn.Module:
        return self.fit.model

    @property
    def task(self) -> str:
        return self.prepared.task

    def summary(self) -> dict:
        """The JSON the CLI prints last: task, metrics per split, speed, device, warnings."""
        return {
            "task": self.task,
            "metrics": self.metrics,
            "epochs": len(self.fit.history),
            "best_epoch": self.fit.best_epoch,
            "stop_reason": self.fit.stop_reason,
            "train_seconds": round(self.fit.seconds, 3),
            "samples_per_second": round(self.fit.samples_per_second, 1),
            "device": self.fit.device,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def describe_network(spec: NetworkSpec, prepared: PreparedData):
    """The layer table for this spec on this data (no training)."""
    own = OWN_TABLES.get(prepared.task)
    if own is not None:
        return own(spec, prepared)
    return layer_table(spec, prepared.input_shape, prepared.task, prepared.n_outputs,
                       embeddings=prepared.embedding_levels)


def train_from_spec(df: pd.DataFrame, spec: NetworkSpec, *, device: str = "auto",
                    observers: list[Observer] | None = None, cancel: threading.Event | None = None,
                    prepared: PreparedData | None = None, views: Sequence[str] = ()) -> TrainedModel:
    """Prepare, build, train and evaluate. `views` names probes (nnbuilder.train.probes, or ["all"]) whose data the
    trainer collects between epochs and emits as ViewsCollected events; the final views are in fit.views."""
    resolve_device(device)  # fail on a missing GPU before any work
    prepared = prepared or prepare(df, spec.data, seed=spec.training.seed, input=spec.input)
    own = OWN_LOOPS.get(prepared.task)
    if own is not None:
        return own(df, spec, prepared, device=device, observers=observers, cancel=cancel)
    torch.manual_seed(spec.training.seed)  # same initial weights for the same seed
    model = build_model(spec, prepared.input_shape, prepared.task, prepared.n_outputs,
                        embeddings=prepared.embedding_levels)
    trainer = Trainer(spec.training, prepared.task, device=device, observers=list(observers or []), cancel=cancel,
                      probes=make_probes(views, spec, prepared) if views else [])
    fit = trainer.fit(model, prepared.X_train, prepared.y_train, prepared.X_val, prepared.y_val)
    metrics, details = EVALUATIONS.get(prepared.task, _evaluate_splits)(fit.model, spec, prepared)
    return TrainedModel(spec, prepared, fit, metrics, details, list(prepared.warnings))


def _evaluate_splits(model, spec: NetworkSpec, prepared: PreparedData) -> tuple[dict, dict]:
    """Metrics and chart details per split for the supervised tasks."""
    metrics, details = {}, {}
    for split in ("train", "val", "test"):
        X, y = getattr(prepared, f"X_{split}"), getattr(prepared, f"y_{split}")
        result = evaluate(model, X, y, prepared.task, prepared.classes, prepared.target_mean, prepared.target_std,
                          **prepared.evaluation_extras(split))
        metrics[split], details[split] = result.metrics, result.details
    return metrics, details


def _train_gan(df, spec, prepared, *, device, observers, cancel) -> TrainedModel:
    """A generator and a discriminator of their own (nnbuilder.tasks.gan.fit); the report compares with all rows."""
    fit, metrics, layout = fit_gan(spec, prepared, device=device, observers=observers, cancel=cancel, real=df)
    return TrainedModel(spec, prepared, fit, metrics, {}, list(prepared.warnings), gan_layout=layout)


# Tasks that differ from the supervised path, by name (DESIGN rule 3): their own training loop, their own
# layer table, their own evaluation. Everything else trains with Trainer and is evaluated per split.
OWN_LOOPS = {"gan": _train_gan}
OWN_TABLES = {"gan": gan_layer_table}
EVALUATIONS = {"autoencoder": evaluate_autoencoder}  # scores against the training rows' threshold, latent space


def training_work(df, spec, device: str = "auto", views: Sequence[str] = (),
                  prepared: PreparedData | None = None) -> Callable:
    """The `work` for one training run of `spec` on `df`, to pass to `JobRegistry.submit`; `views` names the
    probes whose data snapshots carry (nnbuilder.train.probes). `prepared`: `df` already prepared for `spec`
    (the app checks the data before queueing a run), so the worker does not prepare it a second time."""

    def work(observers: list[Observer], cancel: threading.Event):
        return train_from_spec(df, spec, device=device, observers=observers, cancel=cancel, views=views,
                               prepared=prepared)

    return work
