"""What the trainer tells the world. Plain frozen records; listeners are any callables.

The trainer never knows who listens: the app's job registry, the CLI progress
bar, early stopping tests and the benchmark all subscribe the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class FitStarted:
    epochs: int
    n_train: int
    n_val: int
    device: str
    metric: str  # "accuracy" or "r2": the name used in history records
    parameters: int


@dataclass(frozen=True)
class BatchProgress:
    epoch: int  # 1-based
    batch: int  # batches done in this epoch
    n_batches: int


@dataclass(frozen=True)
class EpochEnded:
    epoch: int  # 1-based
    epochs: int
    record: Mapping[str, Any]  # the history row: epoch, train_loss, val_loss, train_<metric>, val_<metric>, lr, seconds


@dataclass(frozen=True)
class ViewsCollected:
    epoch: int  # the epoch the views show (final: the model the fit returns, sent just before FitEnded)
    views: Mapping[str, Any]  # probe name -> its JSON-able data (nnbuilder.train.probes)
    final: bool = False


@dataclass(frozen=True)
class FitEnded:
    reason: str  # "completed", "early_stopped" or "cancelled"
    epochs_run: int
    best_epoch: int
    seconds: float


@dataclass(frozen=True)
class FitFailed:
    message: str


Event = FitStarted | BatchProgress | EpochEnded | ViewsCollected | FitEnded | FitFailed
Observer = Callable[[Event], None]

