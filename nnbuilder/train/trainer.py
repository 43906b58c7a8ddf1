"""The training loop: tensors resident on the device, index-sliced mini-batches, callbacks in, events out.

Shaped like skorch: `fit` -> `_fit_loop` -> `_run_epoch` -> the step's `train_batch`. Speed comes from doing
no per-sample Python work: the whole split lives on the device, each epoch draws one permutation, and the
batches' losses stay on the device until the epoch's row reads them once (no `.item()` per batch).

What a batch update is belongs to the `FitStep` (nnbuilder.train.step: one network and one loss by default,
the GAN's adversarial pair in nnbuilder.tasks.gan.fit); everything around the loop is a callback
(nnbuilder.train.callbacks): progress events, cancel, views, schedules, best weights, early stopping.
"""

from __future__ import annotations

from contextlib import contextmanager
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from nnbuilder.model.compile import count_parameters
from nnbuilder.errors import TrainingError
from nnbuilder.model.device import to_device
from nnbuilder.train.callbacks import (PROGRESS_EVERY_S, BestWeights, Callback, Cancel, EarlyStopping,
                                       LearningRateSchedules, Probes, ProgressEvents, overrides)
from nnbuilder.train.events import FitFailed, Observer
from nnbuilder.train.optim import make_schedule
from nnbuilder.train.step import FitStep, Split, SupervisedStep
from nnbuilder.spec.network import TrainingSpec

__all__ = ["PROGRESS_EVERY_S", "FitResult", "FitState", "Trainer", "failures_reported", "resolve_device"]


def resolve_device(requested: str = "auto") -> torch.device:
    """cuda, then mps, then cpu for "auto"; a named device must exist."""
    requested = (requested or "auto").lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device 'cuda' was asked for but no CUDA GPU is available here; use device auto or cpu")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise TrainingError("device 'mps' was asked for but Apple's GPU backend is not available here; use device auto or cpu")
    if requested not in ("cpu", "cuda", "mps"):
        raise TrainingError(f"device must be one of auto, cpu, cuda, mps; got {requested!r}")
    return torch.device(requested)


@contextmanager
def failures_reported(emit):
    """Tell observers why a fit stopped (FitFailed) and raise it as a TrainingError for the caller."""
    try:
        yield
    except torch.OutOfMemoryError:
        message = "the device ran out of memory; use a smaller batch size or fewer/smaller layers"
        emit(FitFailed(message))
        raise TrainingError(message) from None
    except TrainingError as exc:
        emit(FitFailed(str(exc)))
        raise


@dataclass
class FitResult:
    model: nn.Module  # carries the best weights (early stopping) or the last ones
    history: list[dict]
    best_epoch: int
    stop_reason: str  # "completed", "early_stopped", "cancelled"
    seconds: float
    samples_per_second: float
    device: str
    metric: str
    views: dict = field(default_factory=dict)  # the probes' data on the returned model (nnbuilder.train.probes)
    probe_seconds: float = 0.0  # time the views took, not counted in `seconds`


@dataclass
class FitState:
    """The fit as callbacks see it (skorch hands its callbacks the net): read anything, `stop` to end it."""

    model: nn.Module
    epochs: int  # planned
    n_train: int
    n_val: int
    device: str
    metric: str
    parameters: int
    optimizers: list  # the step's optimizers; the first one's learning rate is the history's `lr`
    started: float  # perf_counter at the start of the loop
    epoch: int = 0  # the epoch running or just finished, 1-based
    history: list[dict] = field(default_factory=list)
    monitored: float = math.nan  # this epoch's value of the step's monitored number (lower is better)
    best_monitored: float = math.inf
    improved: bool = False  # this epoch's monitored value beat every earlier one
    best_epoch: int | None = None  # the epoch whose weights the model returns with (None until known)
    stop_reason: str | None = None  # None while the fit goes on
    seconds: float = 0.0  # training time, set before on_fit_end
    aside_seconds: float = 0.0  # callbacks' own time (the views), kept out of the training time
    views: dict = field(default_factory=dict)
    # For a checkpoint that can resume the fit (nnbuilder.train.resume): the permutations' generator and the
    # fit's callbacks (best weights, early stopping, schedules hold state a continued fit needs).
    permutations: torch.Generator | None = None
    callbacks: list = field(default_factory=list)

    def stop(self, reason: str) -> None:
        """End the fit with `reason` ("early_stopped", "cancelled", or a callback's own); the first one holds."""
        if self.stop_reason is None:
            self.stop_reason = reason


@dataclass
class Trainer:
    training: TrainingSpec
    task_kind: str
    device: str = "auto"
    observers: list[Observer] = field(default_factory=list)
    cancel: threading.Event | None = None
    probes: list = field(default_factory=list)  # nnbuilder.train.probes: views collected between epochs, on a budget
    callbacks: list[Callback] = field(default_factory=list)  # the caller's own (see _callbacks for the order)
    step: FitStep | None = None  # default: SupervisedStep(training, task_kind)

    def __post_init__(self):
        if self.step is None:
            self.step = SupervisedStep(self.training, self.task_kind)

    def fit(self, model: nn.Module, X_train: np.ndarray, y_train: np.ndarray,
            X_val: np.ndarray | None = None, y_val: np.ndarray | None = None) -> FitResult:
        device = resolve_device(self.device)
        torch.manual_seed(self.training.seed)  # dropout masks; the permutation has its own generator
        model.to(device)
        train = self._to_device(X_train, y_train, device)
        val = self._to_device(X_val, y_val, device) if X_val is not None and len(X_val) else None
        with failures_reported(self._emit):
            return self._fit_loop(model, train, val, device)

    def _to_device(self, X, y, device) -> Split:
        x = to_device(X, device)
        if y is X:  # an autoencoder or a GAN rebuilds its input: one copy on the device serves as both
            return Split(x, x)
        return Split(x, self.step.targets(to_device(y, device, dtype=None)))

    def _callbacks(self, optimizers) -> list[Callback]:
        """The callbacks this fit needs, in the order their hooks run (on_fit_end: reversed).

        The caller's come after progress events and cancel, before the ones that finish the model: at the
        fit's end they see the model the fit returns (best weights back, final views taken), before FitEnded.
        """
        spec, chosen = self.training, []
        if self.observers:
            chosen.append(ProgressEvents(self._emit))
        if self.cancel is not None:
            chosen.append(Cancel(self.cancel))
        chosen += self.callbacks
        if self.probes:
            chosen.append(Probes(self.probes, self._emit))
        if spec.lr_schedule != "none":
            chosen.append(LearningRateSchedules(
                [make_schedule(spec.lr_schedule, o, spec.epochs, spec.early_stopping_patience) for o in optimizers]))
        if self.step.restores_best_weights:
            chosen.append(BestWeights())
        if spec.early_stopping_patience:
            chosen.append(EarlyStopping(spec.early_stopping_patience))
        return chosen

    def _fit_loop(self, model: nn.Module, train: Split, val: Split | None, device) -> FitResult:
        spec, step = self.training, self.step
        optimizers = step.start(model, train, val)
        callbacks = self._callbacks(optimizers)
        batch_hooks = [c.on_batch_end for c in callbacks if overrides(c, "on_batch_end")]
        permutations = torch.Generator(device="cpu").manual_seed(spec.seed)
        state = FitState(model, spec.epochs, train.rows, val.rows if val else 0, str(device), step.metric,
                         count_parameters(model), optimizers, time.perf_counter(), permutations=permutations,
                         callbacks=callbacks)
        for callback in callbacks:
            callback.on_fit_start(state)
        # 0 unless a callback restored a checkpoint (nnbuilder.train.resume.ResumeFrom): go on after its epoch.
        for epoch in range(state.epoch + 1, spec.epochs + 1):
            state.epoch, epoch_start = epoch, time.perf_counter()
            for callback in callbacks:
                callback.on_epoch_start(state)
            batches = None if state.stop_reason else self._run_epoch(model, train, permutations, state, batch_hooks)
            if batches is None:  # stopped before the epoch ended: it leaves no row
                break
            record = step.epoch_record(model, batches, self._batch_sizes(train), val, epoch)
            record["lr"] = optimizers[0].param_groups[0]["lr"]
            record["seconds"] = time.perf_counter() - epoch_start
            state.history.append(record)
            state.monitored = step.monitored(record)
            state.improved = state.monitored < state.best_monitored - 1e-12
            if state.improved:
                state.best_monitored = state.monitored
            for callback in callbacks:
                callback.on_epoch_end(state, record)
            if state.stop_reason:
                break
        state.seconds = time.perf_counter() - state.started - state.aside_seconds  # the views' time is apart
        if state.best_epoch is None:  # no best-weight restore: the model keeps its last epoch's weights
            state.best_epoch = len(state.history)
        for callback in reversed(callbacks):
            callback.on_fit_end(state)
        epochs_run = len(state.history)
        rate = train.rows * epochs_run / state.seconds if state.seconds > 0 else 0.0
        return FitResult(model, state.history, state.best_epoch, state.stop_reason or "completed", state.seconds,
                         rate, str(device), step.metric, state.views, state.aside_seconds)

    def _run_epoch(self, model, train: Split, permutations, state: FitState, batch_hooks) -> list[torch.Tensor] | None:
        """The batches' outputs (left on the device), or None when a callback stopped the fit mid-epoch."""
        model.train()
        batch_size, n_batches = self._batching(train.rows)
        order = torch.randperm(train.rows, generator=permutations).to(train.x.device)
        # Keeping the batches' handles costs no kernel launch, unlike a running sum.
        batches: list[torch.Tensor] = []
        train_batch, x, y = self.step.train_batch, train.x, train.y  # locals: the hot loop
        for batch in range(n_batches):
            index = order[batch * batch_size:(batch + 1) * batch_size]
            xb = x[index]  # (batch, features)
            batches.append(train_batch(model, xb, xb if y is x else y[index]))  # targets that are the inputs: one gather
            if batch_hooks:
                for hook in batch_hooks:
                    hook(state, batch + 1, n_batches)
                if state.stop_reason and batch + 1 < n_batches:
                    return None
        return batches

    def _batching(self, rows: int) -> tuple[int, int]:
        """(batch size, batches per epoch) for `rows` training rows."""
        batch_size = min(self.training.batch_size, rows)
        return batch_size, math.ceil(rows / batch_size)

    def _batch_sizes(self, train: Split) -> torch.Tensor:
        """Rows per batch (n_batches,), on the device; the last batch may be short."""
        batch_size, n_batches = self._batching(train.rows)
        sizes = torch.full((n_batches,), float(batch_size), device=train.x.device)
        sizes[-1] = train.rows - batch_size * (n_batches - 1)
        return sizes

    def _emit(self, event) -> None:
        for observer in self.observers:
            observer(event)
