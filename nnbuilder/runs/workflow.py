"""One call from a table and a spec to a trained, evaluated model.

This is what both front ends run: the CLI's `train` and the app's training job call `train_from_spec` with
their own observers and cancel flag. Everything task-specific is the task's record (nnbuilder.tasks).
"""

from __future__ import annotations

import threading
from typing import Callable, Sequence

import pandas as pd

from nnbuilder.data.pipeline import PreparedData
from nnbuilder.spec.network import NetworkSpec
from nnbuilder.tasks import TrainedModel, describe_network, fit, prepare  # noqa: F401  (re-exported)
from nnbuilder.train.callbacks import Callback
from nnbuilder.train.events import Observer
from nnbuilder.train.trainer import resolve_device


def train_from_spec(df: pd.DataFrame, spec: NetworkSpec, *, device: str = "auto",
                    observers: list[Observer] | None = None, cancel: threading.Event | None = None,
                    prepared: PreparedData | None = None, views: Sequence[str] = (),
                    callbacks: Sequence[Callback] = ()) -> TrainedModel:
    """Prepare, build, train and evaluate. `views` names probes (nnbuilder.train.probes, or ["all"]) whose data the
    trainer collects between epochs and emits as ViewsCollected events; the final views are in fit.views.
    `callbacks` join the trainer's own (a worker's checkpoint writer and cancel bridge, nnbuilder.runs.worker)."""
    resolve_device(device)  # fail on a missing GPU before any work
    prepared = prepared or prepare(df, spec.data, seed=spec.training.seed, input=spec.input)
    return fit(df, spec, prepared, device=device, observers=observers, cancel=cancel, views=views,
               callbacks=callbacks)


def training_work(df, spec, device: str = "auto", views: Sequence[str] = (),
                  prepared: PreparedData | None = None) -> Callable:
    """The `work` for one training run of `spec` on `df`, to pass to `JobRegistry.submit`; `views` names the
    probes whose data snapshots carry (nnbuilder.train.probes). `prepared`: `df` already prepared for `spec`
    (the app checks the data before queueing a run), so the worker does not prepare it a second time."""

    def work(observers: list[Observer], cancel: threading.Event):
        return train_from_spec(df, spec, device=device, observers=observers, cancel=cancel, views=views,
                               prepared=prepared)

    return work
