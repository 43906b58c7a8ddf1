"""Small parameter-free torch modules the layer types compose with the standard ones."""

from __future__ import annotations

import torch
from torch import nn


class ChannelsLast(nn.Module):
    """Runs a channels-first 1d module (Conv1d, MaxPool1d, BatchNorm1d ...) on steps-first sequences.

    (batch, T, F) -> inner sees (batch, F, T) -> back to (batch, T', F'). A flat (batch, F) input
    is read as a one-feature signal of F steps: (batch, F, 1).
    """

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(-1)  # (batch, F) -> (batch, F steps, 1 feature)
        return self.inner(x.transpose(1, 2)).transpose(1, 2)


class MeanOver(nn.Module):
    """Average over the given dimensions: global average pooling."""

    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"
