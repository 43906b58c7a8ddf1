"""Output heads by name: the network's last layer, its loss, and how raw outputs become predictions.

A task (nnbuilder.tasks) resolves to one head once the data has been seen ("binary", "multiclass",
"regression", "multi_regression", "forecast", "autoencoder"; a task may register its own). The packages
below the tasks (data, model, train, evaluate, views) ask the head's attributes instead of comparing task
names: `get_head(prepared.task).is_classification`, `.loss()`, `.shape_target(y)`, `.rebuilds_input` ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn


def _float_target(y: torch.Tensor) -> torch.Tensor:
    return y.float()  # (batch, targets), already standardised


def _softmax(logits: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits, dim=1)  # (batch, classes)


def _argmax(outputs: torch.Tensor) -> torch.Tensor:
    return outputs.argmax(dim=1)  # (batch,)


@dataclass(frozen=True)
class OutputHead:
    name: str  # the resolved task name stored in meta.json ("binary" ...)
    label: str  # what the pages call it ("Binary classification")
    output_units: Callable[[int], int]  # n_outputs (classes, targets or features) -> output units
    loss: Callable[[], nn.Module]
    output_activation: str  # described in the layer table, applied by `to_probabilities` for classifiers
    is_classification: bool = False
    metric: str = ""  # the per-epoch headline metric's name; "" = accuracy for classifiers, r2 otherwise
    counts: str = "targets"  # what n_outputs counts: "targets", "classes" or "features" (the input rebuilt)
    shape_target: Callable[[torch.Tensor], torch.Tensor] = _float_target  # stored y -> what the loss wants
    to_probabilities: Callable[[torch.Tensor], torch.Tensor] = _softmax  # classifiers: logits -> (batch, classes)
    predicted_class: Callable[[torch.Tensor], torch.Tensor] = _argmax  # classifiers: outputs -> (batch,) indices
    rebuilds_input: bool = False  # the target is X itself; the hidden stack adds a latent layer and a decoder
    has_network_head: bool = True  # False: the task builds networks of its own (no Linear head on the stack)
    # Why column explanations (importance, attributions) do not apply to this head's models; "" = they do.
    not_explainable: str = ""
    # What the raw network output means, for people using an exported network (TorchScript's contract).
    raw_output: str = "standardised values: prediction = output * target_std + target_mean"
    extras: dict = field(default_factory=dict)  # free room for a task's own head facts

    @property
    def headline_metric(self) -> str:
        return self.metric or ("accuracy" if self.is_classification else "r2")


HEADS: dict[str, OutputHead] = {}


def register_head(head: OutputHead) -> OutputHead:
    """Add (or replace) a head under its name; returns it."""
    HEADS[head.name] = head
    return head


def unregister_head(name: str) -> None:
    """Remove a head (e.g. a test's own head once the test is done)."""
    HEADS.pop(name, None)


def get_head(name: str) -> OutputHead:
    if name not in HEADS:
        raise KeyError(f"no output head is registered as {name!r}; registered: {', '.join(HEADS)}")
    return HEADS[name]


def find_head(name: str) -> OutputHead | None:
    """The head for `name`, or None when no head is registered under it."""
    return HEADS.get(name)


def _binary_probabilities(logits: torch.Tensor) -> torch.Tensor:
    p1 = torch.sigmoid(logits[:, 0])
    return torch.stack([1 - p1, p1], dim=1)  # (batch, 2)


register_head(OutputHead(
    "binary", "Binary classification", lambda n: 1, nn.BCEWithLogitsLoss, "sigmoid", is_classification=True,
    shape_target=lambda y: y.float().unsqueeze(1),  # (batch, 1) for BCEWithLogits
    to_probabilities=_binary_probabilities, predicted_class=lambda outputs: (outputs[:, 0] > 0).long(),
    raw_output="one logit per row: probability of classes[1] = sigmoid(logit)"))
register_head(OutputHead(
    "multiclass", "Multiclass classification", lambda n: n, nn.CrossEntropyLoss, "softmax", is_classification=True,
    counts="classes", shape_target=lambda y: y.long(),
    raw_output="one logit per class: probabilities = softmax(logits) in the order of classes"))
register_head(OutputHead("regression", "Regression", lambda n: 1, nn.MSELoss, "linear"))
register_head(OutputHead("multi_regression", "Multi-target regression", lambda n: n, nn.MSELoss, "linear"))
# Sequence input, time_series layout: the value(s) `horizon` steps after each window, standardised like regression.
register_head(OutputHead(
    "forecast", "Forecast", lambda n: n, nn.MSELoss, "linear",
    not_explainable="this one forecasts from a window of time steps, not from independent columns; compare it with "
                    "the last-value baseline on the Evaluate page instead"))
# Tabular input rebuilt from a narrow latent layer: one linear output per encoded feature, MSE against the
# (standardised) input itself; the per-epoch metric is the R² of that reconstruction.
register_head(OutputHead(
    "autoencoder", "Autoencoder", lambda n: n, nn.MSELoss, "linear", metric="reconstruction_r2", counts="features",
    rebuilds_input=True,
    raw_output="the reconstructed feature matrix: anomaly score = mean squared difference to the input per row",
    not_explainable="this one is an autoencoder: it rebuilds every column instead of predicting a target; look at "
                    "its anomaly scores and latent map on the Evaluate page instead"))

def task_label(name: str) -> str:
    """What the pages call a resolved task ("Binary classification", "GAN (synthetic rows)" ...)."""
    head = find_head(name)
    return head.label if head is not None else name


def probabilities(kind: str, logits: torch.Tensor) -> torch.Tensor:
    """Class probabilities (batch, classes) from raw network outputs."""
    return get_head(kind).to_probabilities(logits)

