"""The embedding front of a tabular network: category codes -> learned vectors (nnbuilder.data.embedding).

The feature matrix holds the plain features first and one integer code per embedded column last
(-1 for a category unseen in training). Each code column gets its own table; row 0 is for "unknown",
so the code is shifted by one before the lookup. The looked-up vectors are concatenated after the
plain features, and the user's stack sees one flat vector per row as usual.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def embedding_dims(levels: Sequence[int], dim: int | None = None) -> list[int]:
    """The vector length per embedded column: `dim` if given, else a size that grows slowly with the levels
    (fast.ai's rule of thumb 1.6 × levels^0.56, capped at 16 so a classroom model stays small)."""
    return [int(dim) if dim else max(2, min(16, round(1.6 * n ** 0.56))) for n in levels]


class TabularEmbeddings(nn.Module):
    """(batch, plain + k codes) -> (batch, plain + sum of the k vector lengths)."""

    def __init__(self, n_plain: int, levels: Sequence[int], dims: Sequence[int]):
        super().__init__()
        self.n_plain = int(n_plain)
        self.tables = nn.ModuleList(nn.Embedding(n, d) for n, d in zip(levels, dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        plain = x[:, :self.n_plain]  # (batch, plain)
        codes = x[:, self.n_plain:].round().long() + 1  # (batch, k); -1 (unknown) -> row 0
        vectors = [table(codes[:, i]) for i, table in enumerate(self.tables)]  # k × (batch, dim_i)
        return torch.cat([plain, *vectors], dim=1)


def embedded_width(n_features: int, levels: Sequence[int], dims: Sequence[int]) -> int:
    return n_features - len(levels) + sum(dims)


def describe(levels: Sequence[int], dims: Sequence[int]) -> str:
    parts = ", ".join(f"{n - 1} categories → {d}" for n, d in zip(levels, dims))
    return f"{len(levels)} column{'s' if len(levels) > 1 else ''}: {parts}"


def check_codes_fit(n_features: int, levels: Sequence[int]) -> None:
    if len(levels) > n_features:
        raise ValueError(f"{len(levels)} embedded columns but only {n_features} features")
    if any(n < 2 for n in levels):
        raise ValueError("an embedded column needs at least one category")


__all__ = ["TabularEmbeddings", "check_codes_fit", "describe", "embedded_width", "embedding_dims"]
