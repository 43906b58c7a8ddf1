"""What one kind of fit does per batch and per epoch: the `FitStep` the trainer's loop drives.

The trainer (nnbuilder.train.trainer) owns the loop: tensors on the device, one permutation per epoch,
index-sliced batches, callbacks, events. A step owns the rest: its optimizers, the update for one batch,
and the epoch's history row. `SupervisedStep` serves every task with one network and one loss
(classification, regression, forecast, autoencoder); a task with another kind of update (the GAN's
adversarial pair, nnbuilder.tasks.gan.fit) brings its own step and keeps the shared loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from nnbuilder.errors import TrainingError
from nnbuilder.model.heads import get_head
from nnbuilder.train.fast_metrics import epoch_metric, metric_name
from nnbuilder.train.optim import make_optimizer

TRAIN_METRIC_ROWS = 4_096  # train metric measured in eval mode on this many fixed rows (±1.5% on accuracy)


@dataclass
class Split:
    x: torch.Tensor  # (rows, features) on the device
    y: torch.Tensor  # class indices (rows,), standardised targets (rows, targets), or x itself

    @property
    def rows(self) -> int:
        return self.x.shape[0]


class FitStep(Protocol):
    metric: str  # the headline metric's name in history rows (train_<metric>, val_<metric>) and FitStarted
    restores_best_weights: bool  # whether the best monitored epoch's weights are worth going back to

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        """The stored targets (on the device) shaped for the loss."""

    def start(self, model: nn.Module, train: Split, val: Split | None) -> list[torch.optim.Optimizer]:
        """Ready the fit; the optimizers, the first one's learning rate goes into the history (`lr`)."""

    def train_batch(self, model: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """One update; returns what the epoch row needs from this batch, left on the device (no sync)."""

    def epoch_record(self, model: nn.Module, batches: list[torch.Tensor], sizes: torch.Tensor, val: Split | None,
                     epoch: int) -> dict:
        """The epoch's history row from the batches' outputs and their row counts `sizes` (n_batches,);
        raises TrainingError when training diverged. The trainer adds `lr` and `seconds`."""

    def monitored(self, record: dict) -> float:
        """The number early stopping, best weights and plateau schedules watch: lower is better."""


def diverged(epoch: int, what: str, learning_rate: float, advice: str = "") -> TrainingError:
    return TrainingError(f"training diverged at epoch {epoch}: {what} (learning rate {learning_rate:g}); lower the "
                         f"learning rate, e.g. to {learning_rate / 10:g}{advice}")


class SupervisedStep:
    """One network, one loss (the task kind's, nnbuilder.model.heads), the spec's optimizer and L1."""

    restores_best_weights = True

    def __init__(self, training, task_kind: str):
        self.training, self.task_kind, self.head = training, task_kind, get_head(task_kind)
        self.metric = metric_name(task_kind)

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return self.head.shape_target(y)

    def start(self, model, train: Split, val: Split | None) -> list[torch.optim.Optimizer]:
        spec = self.training
        self.loss_fn = self.head.loss()
        self.optimizer = make_optimizer(spec.optimizer, model.parameters(), spec.learning_rate, spec.weight_decay,
                                        spec.momentum)
        self.train_rows = train.rows
        # A fixed sample of training rows for the train metric, measured like the validation one.
        self.probe = Split(train.x[:TRAIN_METRIC_ROWS], train.y[:TRAIN_METRIC_ROWS])
        return [self.optimizer]

    def train_batch(self, model, xb, yb) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(model(xb), yb)
        with_l1(loss, model, self.training.l1).backward()
        self.optimizer.step()
        return loss.detach()  # the data loss, so curves stay comparable across penalties

    @torch.no_grad()
    def epoch_record(self, model, batches, sizes, val, epoch) -> dict:
        # Batch losses are means: weighted by their batch's rows, summed once on the device, read once.
        train_loss = float(torch.stack(batches) @ sizes) / self.train_rows
        if not math.isfinite(train_loss):
            raise diverged(epoch, f"the loss became {train_loss}", self.training.learning_rate,
                           ", or add batch normalisation")
        model.eval()
        metric, kind = self.metric, self.task_kind
        _, train_metric = epoch_metric(model, self.probe.x, self.probe.y, self.loss_fn, kind)
        record = {"epoch": epoch, "train_loss": train_loss, f"train_{metric}": train_metric,
                  "val_loss": None, f"val_{metric}": None}
        if val is not None:
            record["val_loss"], record[f"val_{metric}"] = epoch_metric(model, val.x, val.y, self.loss_fn, kind)
        return record

    def monitored(self, record: dict) -> float:
        return record["val_loss"] if record["val_loss"] is not None else record["train_loss"]


def with_l1(loss: torch.Tensor, model: nn.Module, l1: float) -> torch.Tensor:
    """`loss` plus the L1 penalty on `model`'s weights (biases and norm shifts stay free)."""
    if l1 <= 0:
        return loss
    return loss + l1 * sum(p.abs().sum() for name, p in model.named_parameters() if "weight" in name)
