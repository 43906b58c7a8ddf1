"""The transformer encoder: multi-head self-attention blocks over sequence input, or over a table's columns.

Each step of a `(T, F)` sequence is projected to `model_dim`, told its position,
and then every step attends to every other step, `blocks` times. Pooling turns
the `(T, model_dim)` result into one vector when a dense or output layer follows.

A flat row of F features (a table) is read as F tokens, one per column: column j's value v
becomes v * w_j + b_j with a learned vector pair per column (the "feature tokenizer" of the
FT-Transformer, Gorishniy et al. 2021), so each column keeps its own identity and the attention
learns which columns to combine.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field, ValidationInfo, field_validator
from torch import nn

from nnbuilder.layers.recurrent import sequence_shape
from nnbuilder.layers.registry import LayerSpecBase, LayerType, Shape, register_layer

MAX_MODEL_DIM = 1024


class TransformerEncoderSpec(LayerSpecBase):
    type: Literal["transformer_encoder"] = "transformer_encoder"
    heads: int = Field(
        4, ge=1, le=16,
        description="Attention heads: each looks at the sequence separately and can follow a different kind of "
        "relation between steps. More heads see more patterns at once but each gets a smaller share of model_dim; "
        "fewer get more room each. model_dim must be divisible by heads.",
    )
    model_dim: int = Field(
        64, ge=1, le=MAX_MODEL_DIM, validate_default=True,  # checked against heads even when left at its default
        description="Width of every step's vector inside the block (d_model); the input features are projected "
        "to it when they differ. Wider fits richer patterns but is slower and overfits small data; too narrow "
        "and the attention has too little room.",
        json_schema_extra={"ui": {"step": 8}},
    )
    ff_dim: int = Field(
        128, ge=1, le=8192,
        description="Width of the small dense network applied to each step after the attention (usually 2-4 × "
        "model_dim). Larger adds capacity and parameters; too small limits what each step can compute.",
        json_schema_extra={"ui": {"step": 8}},
    )
    dropout: float = Field(
        0.1, ge=0.0, lt=1.0,
        description="Fraction of attention weights and activations zeroed while training. Fights overfitting; "
        "too high and the network underfits, too low (0) lets it memorise small data.",
        json_schema_extra={"ui": {"step": 0.05}},
    )
    positional_encoding: Literal["sinusoidal", "learned", "none"] = Field(
        "sinusoidal",
        description="How each step learns where it is in the sequence: attention alone ignores order, so without "
        "positions 'a then b' looks the same as 'b then a'.",
        json_schema_extra={"ui": {"notes": {
            "sinusoidal": "adds fixed waves of different speeds (no parameters); the usual choice",
            "learned": "adds a trained vector per position: fits the data's length exactly, more parameters",
            "none": "no positions: the sequence is treated as an unordered set",
        }}},
    )
    blocks: int = Field(
        2, ge=1, le=6,
        description="Encoder blocks stacked, each with its own attention and feed-forward part. More blocks "
        "model more complex relations but train slower and overfit small data; fewer (1-2) suit short series.",
    )
    pooling: Literal["none", "mean", "cls", "last"] = Field(
        "mean",
        description="How the steps become the output: keep every step for another sequence layer, or summarise them "
        "into one vector (model_dim) for a dense or output layer.",
        json_schema_extra={"ui": {"notes": {
            "none": "keeps every step (time steps × model_dim); needed when a recurrent or another transformer "
                    "layer follows",
            "mean": "averages the steps into one vector; a robust default",
            "cls": "adds a learned summary token in front and outputs it (as BERT does)",
            "last": "outputs the final step, which has looked at all the others",
        }}},
    )

    @field_validator("model_dim")
    @classmethod
    def _divisible_by_heads(cls, value: int, info: ValidationInfo) -> int:
        heads = info.data.get("heads")  # absent when heads itself was invalid: that error is reported instead
        if heads and value % heads:
            raise ValueError(f"must be divisible by heads ({heads}); got {value}: use {_nearest_multiple(value, heads)}")
        return value


def _nearest_multiple(value: int, step: int) -> int:
    up = math.ceil(value / step) * step
    down = max(step, value // step * step)
    return up if up - value <= value - down and up <= MAX_MODEL_DIM else down


def sinusoidal_positions(steps: int, width: int) -> torch.Tensor:
    """The fixed encoding of 'Attention is all you need': sin on even, cos on odd features. (steps, width)"""
    position = torch.arange(steps, dtype=torch.float32).unsqueeze(1)  # (steps, 1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(steps, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : width // 2]  # an odd width has one cos column fewer
    return table


class ColumnTokens(nn.Module):
    """(batch, F) -> (batch, F, d): column j's value times its own learned vector, plus its own bias vector."""

    def __init__(self, columns: int, width: int):
        super().__init__()
        # Uniform(-1, 1), nn.Linear's default for one input, drawn weight then bias.
        self.weight = nn.Parameter(torch.empty(columns, width).uniform_(-1.0, 1.0))
        self.bias = nn.Parameter(torch.empty(columns, width).uniform_(-1.0, 1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(-1) * self.weight + self.bias  # (batch, F, d)


class TransformerEncoderBlock(nn.Module):
    def __init__(self, spec: TransformerEncoderSpec, steps: int, features: int, columns: bool = False):
        super().__init__()
        width = spec.model_dim
        if columns:  # a table row: one token per column
            self.project = ColumnTokens(steps, width)
        else:
            self.project = nn.Linear(features, width) if features != width else nn.Identity()
        self.pooling = spec.pooling
        # The cls token is a learned vector put in front of the sequence; its final state summarises it.
        self.cls = nn.Parameter(torch.zeros(1, 1, width)) if spec.pooling == "cls" else None
        positions = steps + (1 if self.cls is not None else 0)
        if spec.positional_encoding == "learned":
            # One trained vector per position, so the length is fixed by the data's T at build time.
            self.position = nn.Parameter(torch.randn(1, positions, width) * 0.02)
        elif spec.positional_encoding == "sinusoidal":
            # Not persistent: recomputed at build, so bundles do not store (or depend on) a constant.
            self.register_buffer("position", sinusoidal_positions(positions, width).unsqueeze(0), persistent=False)
        else:
            self.position = None
        # Pre-norm blocks (norm_first) with a final LayerNorm, as in GPT-2/nanoGPT: they train stably even
        # when deep, without the learning-rate warm-up the original post-norm layout needs.
        layer = nn.TransformerEncoderLayer(width, spec.heads, spec.ff_dim, spec.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, spec.blocks, norm=nn.LayerNorm(width),
                                             enable_nested_tensor=False)  # nested tensors need post-norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, T, F), or (batch, columns) for a table
        h = self.project(x)  # (batch, T, d)
        if self.cls is not None:
            h = torch.cat([self.cls.expand(h.shape[0], -1, -1), h], dim=1)  # (batch, 1 + T, d)
        if self.position is not None:
            h = h + self.position[:, : h.shape[1]]
        h = self.encoder(h)  # (batch, T or 1 + T, d)
        if self.pooling == "mean":
            return h.mean(dim=1)  # (batch, d)
        if self.pooling == "cls":
            return h[:, 0]  # (batch, d)
        if self.pooling == "last":
            return h[:, -1]  # (batch, d)
        return h  # (batch, T, d)


def tokens_shape(shape: Shape) -> tuple[int, int, bool]:
    """(tokens, features per token, whether the tokens are a table's columns) of the input."""
    if len(shape) == 1:  # a flat row: one token per column
        return shape[0], 1, True
    return (*sequence_shape("transformer_encoder", shape), False)


def _output_shape(spec: TransformerEncoderSpec, shape: Shape) -> Shape:
    steps, _, _ = tokens_shape(shape)
    return (steps, spec.model_dim) if spec.pooling == "none" else (spec.model_dim,)


def _build(spec: TransformerEncoderSpec, shape: Shape) -> nn.Module:
    return TransformerEncoderBlock(spec, *tokens_shape(shape))


register_layer(LayerType(
    "transformer_encoder", TransformerEncoderSpec, "Transformer encoder (self-attention)",
    "Lets every time step (or, on a table, every column) look at all the others and take what it needs from them "
    "(multi-head self-attention), the building block of modern language models.",
    output_shape=_output_shape,
    build=_build,
))
