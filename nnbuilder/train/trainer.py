"""The training loop: tensors resident on the device, index-sliced mini-batches, events out.

Shaped like skorch: `fit` -> `_run_epoch` -> `_train_step`, each small. Speed
comes from doing no per-sample Python work: the whole split lives on the device,
each epoch draws one permutation, and losses are summed on the device and read
once per epoch (no `.item()` per batch).
"""

from __future__ import annotations

import copy
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
from nnbuilder.train.events import BatchProgress, EpochEnded, FitEnded, FitFailed, FitStarted, Observer, ViewsCollected
from nnbuilder.train.fast_metrics import epoch_metric, metric_name
from nnbuilder.train.optim import make_optimizer, make_schedule, step_schedule
from nnbuilder.train.probes import ProbeRunner
from nnbuilder.spec.network import TrainingSpec
from nnbuilder.model.heads import TASK_KINDS, loss_target

PROGRESS_EVERY_S = 0.25  # batch progress events at most this often, so listeners cost nothing
TRAIN_METRIC_ROWS = 4_096  # train metric measured in eval mode on this many fixed rows (±1.5% on accuracy)


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
class _Split:
    x: torch.Tensor  # (rows, features) on the device
    y: torch.Tensor  # class indices (rows,) or standardised targets (rows, targets)

    @property
    def rows(self) -> int:
        return self.x.shape[0]


@dataclass
class Trainer:
    training: TrainingSpec
    task_kind: str
    device: str = "auto"
    observers: list[Observer] = field(default_factory=list)
    cancel: threading.Event | None = None
    probes: list = field(default_factory=list)  # nnbuilder.train.probes: views collected between epochs, on a budget

    def fit(self, model: nn.Module, X_train: np.ndarray, y_train: np.ndarray,
            X_val: np.ndarray | None = None, y_val: np.ndarray | None = None) -> FitResult:
        device = resolve_device(self.device)
        torch.manual_seed(self.training.seed)  # dropout masks; the permutation has its own generator
        model.to(device)
        train = self._to_device(X_train, y_train, device)
        val = self._to_device(X_val, y_val, device) if X_val is not None and len(X_val) else None
        with failures_reported(self._emit):
            return self._fit_loop(model, train, val, device)

    def _to_device(self, X, y, device) -> _Split:
        x = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32), device=device)
        if y is X:  # an autoencoder rebuilds its input: one copy on the device serves as both
            return _Split(x, x)
        target = loss_target(self.task_kind, torch.as_tensor(np.asarray(y), device=device))
        return _Split(x, target)

    def _fit_loop(self, model: nn.Module, train: _Split, val: _Split | None, device) -> FitResult:
        spec = self.training
        loss_fn = TASK_KINDS[self.task_kind].loss()
        optimizer = make_optimizer(spec.optimizer, model.parameters(), spec.learning_rate, spec.weight_decay, spec.momentum)
        scheduler = make_schedule(spec.lr_schedule, optimizer, spec.epochs, spec.early_stopping_patience)
        generator = torch.Generator(device="cpu").manual_seed(spec.seed)
        # A fixed sample of training rows for the train metric, measured like the validation one.
        probe = _Split(train.x[:TRAIN_METRIC_ROWS], train.y[:TRAIN_METRIC_ROWS])
        self._emit(FitStarted(spec.epochs, train.rows, val.rows if val else 0, str(device),
                              metric_name(self.task_kind), count_parameters(model)))

        history: list[dict] = []
        best_loss, best_epoch, best_state, stale = math.inf, 0, None, 0
        reason, started = "completed", time.perf_counter()
        runner, views = ProbeRunner(self.probes), {}
        for epoch in range(1, spec.epochs + 1):
            epoch_start = time.perf_counter()
            train_loss, cancelled = self._run_epoch(model, train, loss_fn, optimizer, generator, epoch)
            if cancelled:
                reason = "cancelled"
                break
            record = self._epoch_record(model, loss_fn, probe, val, epoch, train_loss, optimizer, epoch_start)
            history.append(record)
            self._emit(EpochEnded(epoch, spec.epochs, dict(record)))
            if runner.due(time.perf_counter() - started - runner.spent):
                views = runner.collect(model, epoch, record)
                self._emit(ViewsCollected(epoch, views))
            monitored = record["val_loss"] if val is not None else record["train_loss"]
            step_schedule(scheduler, monitored)
            if monitored < best_loss - 1e-12:
                best_loss, best_epoch, stale = monitored, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
            if spec.early_stopping_patience and stale >= spec.early_stopping_patience:
                reason = "early_stopped"
                break
        if best_state is not None:
            model.load_state_dict(best_state)  # best weights, also when cancelled
        seconds = time.perf_counter() - started - runner.spent  # training time; the views' time is apart
        if runner.probes and history:  # the views of the model the run returns
            views = runner.collect(model, len(history), history[-1])
            self._emit(ViewsCollected(len(history), views, final=True))
        epochs_run = len(history)
        self._emit(FitEnded(reason, epochs_run, best_epoch, seconds))
        rate = train.rows * epochs_run / seconds if seconds > 0 else 0.0
        return FitResult(model, history, best_epoch, reason, seconds, rate, str(device), metric_name(self.task_kind),
                         views, runner.spent)

    def _run_epoch(self, model, train: _Split, loss_fn, optimizer, generator, epoch) -> tuple[float, bool]:
        model.train()
        batch_size = min(self.training.batch_size, train.rows)
        order = torch.randperm(train.rows, generator=generator).to(train.x.device)
        n_batches = math.ceil(train.rows / batch_size)
        # Batch losses stay on the device (no sync per batch) and are summed once per epoch;
        # keeping the handles costs no kernel launch, unlike a running sum.
        losses: list[torch.Tensor] = []
        cancel, report, l1 = self.cancel, bool(self.observers), self.training.l1  # locals: the hot loop
        last_report = time.perf_counter()
        for batch in range(n_batches):
            if cancel is not None and cancel.is_set():
                return math.nan, True
            index = order[batch * batch_size:(batch + 1) * batch_size]
            losses.append(self._train_step(model, train.x[index], train.y[index], loss_fn, optimizer, l1))
            if report and time.perf_counter() - last_report > PROGRESS_EVERY_S:
                last_report = time.perf_counter()
                self._emit(BatchProgress(epoch, batch + 1, n_batches))
        sizes = torch.full((n_batches,), float(batch_size), device=train.x.device)
        sizes[-1] = train.rows - batch_size * (n_batches - 1)  # the last batch may be short
        mean_loss = float(torch.stack(losses) @ sizes) / train.rows
        if not math.isfinite(mean_loss):
            raise TrainingError(
                f"training diverged at epoch {epoch}: the loss became {mean_loss} "
                f"(learning rate {self.training.learning_rate:g}); lower the learning rate, e.g. to "
                f"{self.training.learning_rate / 10:g}, or add batch normalisation"
            )
        return mean_loss, False

    @staticmethod
    def _train_step(model, xb, yb, loss_fn, optimizer, l1: float) -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        penalised = loss
        if l1 > 0:  # L1 on weights only; biases and norm shifts stay free
            penalised = loss + l1 * sum(p.abs().sum() for name, p in model.named_parameters() if "weight" in name)
        penalised.backward()
        optimizer.step()
        return loss.detach()  # the data loss, so curves stay comparable across penalties

    @torch.no_grad()
    def _epoch_record(self, model, loss_fn, probe: _Split, val: _Split | None, epoch, train_loss, optimizer, epoch_start) -> dict:
        model.eval()
        metric = metric_name(self.task_kind)
        _, train_metric = epoch_metric(model, probe.x, probe.y, loss_fn, self.task_kind)
        record = {"epoch": epoch, "train_loss": train_loss, f"train_{metric}": train_metric,
                  "val_loss": None, f"val_{metric}": None}
        if val is not None:
            record["val_loss"], record[f"val_{metric}"] = epoch_metric(model, val.x, val.y, loss_fn, self.task_kind)
        record["lr"] = optimizer.param_groups[0]["lr"]
        record["seconds"] = time.perf_counter() - epoch_start
        return record

    def _emit(self, event) -> None:
        for observer in self.observers:
            observer(event)
