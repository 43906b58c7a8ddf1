"""Tasks by name: how the output layer, the loss and predictions follow from the data.

The user picks `auto`, `classification`, `regression`, `forecast`, `autoencoder` or `gan` in the
spec; the data pipeline resolves that to one of the kinds below once it has seen the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn


@dataclass(frozen=True)
class TaskKind:
    name: str
    label: str
    output_units: Callable[[int], int]  # number of classes or targets -> output units
    loss: Callable[[], nn.Module]
    output_activation: str  # described in the layer table, applied in `predict_from_logits`
    is_classification: bool
    metric: str = ""  # the per-epoch headline metric's name; "" = accuracy for classifiers, r2 otherwise


def _binary_loss() -> nn.Module:
    return nn.BCEWithLogitsLoss()


TASK_KINDS: dict[str, TaskKind] = {
    "binary": TaskKind("binary", "Binary classification", lambda n: 1, _binary_loss, "sigmoid", True),
    "multiclass": TaskKind("multiclass", "Multiclass classification", lambda n: n, nn.CrossEntropyLoss, "softmax", True),
    "regression": TaskKind("regression", "Regression", lambda n: 1, nn.MSELoss, "linear", False),
    "multi_regression": TaskKind("multi_regression", "Multi-target regression", lambda n: n, nn.MSELoss, "linear", False),
    # Sequence input, time_series layout: the value(s) `horizon` steps after each window, standardised like regression.
    "forecast": TaskKind("forecast", "Forecast", lambda n: n, nn.MSELoss, "linear", False),
    # Tabular input rebuilt from a narrow latent layer: one linear output per encoded feature, MSE against the
    # (standardised) input itself; the per-epoch metric is the R² of that reconstruction.
    "autoencoder": TaskKind("autoencoder", "Autoencoder", lambda n: n, nn.MSELoss, "linear", False,
                            "reconstruction_r2"),
}

# What the spec accepts; `auto` lets the data decide (a numeric target of a time series is a forecast).
# `gan` never reaches TASK_KINDS: it trains a generator and a discriminator of its own (nnbuilder.tasks.gan.networks).
TASK_CHOICES = ("auto", "classification", "regression", "forecast", "autoencoder", "gan")


# Tasks outside TASK_KINDS, by their label.
OTHER_TASK_LABELS = {"gan": "GAN (synthetic rows)"}


def task_label(name: str) -> str:
    """What the pages call a resolved task ("Binary classification", "GAN (synthetic rows)" ...)."""
    return TASK_KINDS[name].label if name in TASK_KINDS else OTHER_TASK_LABELS.get(name, name)


def probabilities(kind: str, logits: torch.Tensor) -> torch.Tensor:
    """Class probabilities (batch, classes) from raw network outputs."""
    if kind == "binary":
        p1 = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - p1, p1], dim=1)
    return torch.softmax(logits, dim=1)


def loss_target(kind: str, y: torch.Tensor) -> torch.Tensor:
    """Shape the stored targets the way each loss wants them."""
    if kind == "binary":
        return y.float().unsqueeze(1)  # (batch, 1) for BCEWithLogits
    if kind == "multiclass":
        return y.long()
    return y.float()  # (batch, targets), already standardised
