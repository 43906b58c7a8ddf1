"""Callbacks: what the training loop does besides training, each a small object with no-op hooks (skorch's shape).

The trainer calls, for every callback in its list:

    on_fit_start(state)                                   before the first epoch
    on_epoch_start(state)                                 state.epoch is the epoch about to run (1-based)
    on_batch_end(state, batch, n_batches)                 after each update; `batch` = batches done this epoch
    on_epoch_end(state, record)                           after the epoch's history row is appended
    on_fit_end(state)                                     once, also after a cancel or an early stop

The trainer's order: progress events, cancel, the caller's callbacks, views, schedules, best weights, early
stopping. `on_fit_end` runs last-to-first, like leaving nested blocks: best weights go back, the final views
are taken on them, the caller's callbacks see that finished model, and progress events, first in, report
FitEnded last. `on_batch_end` is only
called for callbacks that override it, so a fit nobody watches per batch pays nothing per batch (DESIGN
rule 7). Any hook may end the fit with `state.stop(reason)`: asked for between batches, the unfinished
epoch is dropped (a cancel); asked for at the epoch's end, the fit ends after that epoch.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Callable

from nnbuilder.train.events import BatchProgress, EpochEnded, FitEnded, FitStarted, ViewsCollected
from nnbuilder.train.optim import step_schedule
from nnbuilder.train.probes import ProbeRunner

PROGRESS_EVERY_S = 0.25  # batch progress events at most this often, so listeners cost nothing


class Callback:
    """Override the hooks you need; `state` is the trainer's FitState (nnbuilder.train.trainer)."""

    def on_fit_start(self, state) -> None:
        pass

    def on_epoch_start(self, state) -> None:
        pass

    def on_batch_end(self, state, batch: int, n_batches: int) -> None:
        pass

    def on_epoch_end(self, state, record: dict) -> None:
        pass

    def on_fit_end(self, state) -> None:
        pass


def overrides(callback: Callback, hook: str) -> bool:
    """True when `callback`'s class replaces the no-op `hook` (so the trainer needs to call it)."""
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)


class ProgressEvents(Callback):
    """The events observers see (nnbuilder.train.events): FitStarted, throttled BatchProgress, EpochEnded, FitEnded."""

    def __init__(self, emit: Callable):
        self.emit = emit
        self.last_report = 0.0

    def on_fit_start(self, state) -> None:
        self.emit(FitStarted(state.epochs, state.n_train, state.n_val, state.device, state.metric, state.parameters))

    def on_epoch_start(self, state) -> None:
        self.last_report = time.perf_counter()

    def on_batch_end(self, state, batch: int, n_batches: int) -> None:
        if time.perf_counter() - self.last_report > PROGRESS_EVERY_S:
            self.last_report = time.perf_counter()
            self.emit(BatchProgress(state.epoch, batch, n_batches))

    def on_epoch_end(self, state, record: dict) -> None:
        self.emit(EpochEnded(state.epoch, state.epochs, dict(record)))  # a copy: observers may keep it

    def on_fit_end(self, state) -> None:
        self.emit(FitEnded(state.stop_reason or "completed", len(state.history), state.best_epoch, state.seconds))


class Cancel(Callback):
    """Stops the fit when `flag` is set (the app's Stop button, a worker told to quit): before an epoch and
    between batches, so a cancel takes effect within one batch."""

    def __init__(self, flag: threading.Event):
        self.flag = flag

    def on_epoch_start(self, state) -> None:
        if self.flag.is_set():
            state.stop("cancelled")

    def on_batch_end(self, state, batch: int, n_batches: int) -> None:
        if self.flag.is_set():
            state.stop("cancelled")


class Probes(Callback):
    """Views of the network between epochs on a time budget (nnbuilder.train.probes), and once more on the
    model the fit returns. Their time is kept out of the training time (`state.aside_seconds`)."""

    def __init__(self, probes: list, emit: Callable):
        self.runner, self.emit = ProbeRunner(probes), emit

    def on_epoch_end(self, state, record: dict) -> None:
        if self.runner.due(time.perf_counter() - state.started - self.runner.spent):
            self._collect(state, state.epoch, record, final=False)

    def on_fit_end(self, state) -> None:
        if self.runner.probes and state.history:  # the views of the model the run returns
            self._collect(state, len(state.history), state.history[-1], final=True)

    def _collect(self, state, epoch: int, record: dict, final: bool) -> None:
        state.views = self.runner.collect(state.model, epoch, record)
        state.aside_seconds = self.runner.spent
        self.emit(ViewsCollected(epoch, state.views, final=final))


class LearningRateSchedules(Callback):
    """Advances each optimizer's schedule once per epoch; a plateau schedule watches `state.monitored`."""

    def __init__(self, schedulers: list):
        self.schedulers = [s for s in schedulers if s is not None]

    def on_epoch_end(self, state, record: dict) -> None:
        for scheduler in self.schedulers:
            step_schedule(scheduler, state.monitored)


class BestWeights(Callback):
    """Keeps a copy of the weights of the epoch with the best monitored value and puts them back at the end,
    also after a cancel or an early stop; `state.best_epoch` names that epoch (0: none was better than inf)."""

    def __init__(self):
        self.state_dict = None

    def on_fit_start(self, state) -> None:
        if state.best_epoch is None:  # a resumed fit (nnbuilder.train.resume) already knows its best epoch
            state.best_epoch = 0

    def on_epoch_end(self, state, record: dict) -> None:
        if state.improved:
            state.best_epoch = state.epoch
            self.state_dict = copy.deepcopy(state.model.state_dict())

    def on_fit_end(self, state) -> None:
        if self.state_dict is not None:
            state.model.load_state_dict(self.state_dict)


class EarlyStopping(Callback):
    """Stops after `patience` epochs in a row without a better monitored value."""

    def __init__(self, patience: int):
        self.patience, self.stale = patience, 0

    def on_epoch_end(self, state, record: dict) -> None:
        self.stale = 0 if state.improved else self.stale + 1
        if self.stale >= self.patience:
            state.stop("early_stopped")
