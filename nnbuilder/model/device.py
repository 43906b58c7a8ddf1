"""Arrays into a model: the one place that turns a numpy array into a tensor on the model's device.

Evaluation, views, explanations and exports all feed numpy arrays to a network that may sit on a GPU; each
did its own `torch.as_tensor(np.asarray(X, dtype=np.float32)).to(next(model.parameters()).device)`.
"""

from __future__ import annotations

import numpy as np
import torch


def model_device(model: torch.nn.Module) -> torch.device:
    """Where the model's weights live (the CPU for a model without any, e.g. a bare activation)."""
    weights = next(model.parameters(), None)
    return weights.device if weights is not None else torch.device("cpu")


def to_device(array, device: torch.device | str, dtype=np.float32) -> torch.Tensor:
    """`array` as a tensor on `device`: float32 by default (what every network here reads), `dtype=None` keeps
    the array's own type (e.g. class codes). No copy when it is already contiguous and of that type on the CPU;
    one transfer otherwise."""
    return torch.as_tensor(np.ascontiguousarray(array, dtype=dtype), device=device)


def to_model_device(array, model: torch.nn.Module, dtype=np.float32) -> torch.Tensor:
    """`array` as a tensor on `model`'s device (see `to_device`)."""
    return to_device(array, model_device(model), dtype)
