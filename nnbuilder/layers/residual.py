"""The residual (skip) connection: a block of layers whose input is added back to its output.

    out = block(x) + skip(x)

`skip` is the identity when the block keeps the shape. When it does not, a learned projection
makes the input fit, the way ResNet does it: a bias-free linear map for vectors and for the
features of each sequence step, a 1x1 convolution (strided when the block halves the image) for
images. A change the projection cannot bridge (a sequence that gets shorter, an image shrunk by
an odd factor) is refused in words. Nothing follows the sum: stack an activation after the block
if you want one (the "post-activation" of the original ResNet).

The block's layers are ordinary layer specs, so the spec's layer union must exist before this
model is complete: `nnbuilder.spec.network` calls `ResidualSpec.model_rebuild` once the union is built.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from nnbuilder.layers.registry import (LAYERS, BlockShapeError, LayerSpecBase, LayerType, Shape, register_layer,
                                       shape_problem)


class ResidualSpec(LayerSpecBase):
    type: Literal["residual"] = "residual"
    layers: list["AnyLayerSpec"] = Field(  # noqa: F821  (the layer union, resolved by nnbuilder.spec.network)
        default_factory=lambda: [{"type": "dense", "units": 64, "activation": "relu"},
                                 {"type": "dense", "units": 64, "activation": "linear"}],
        min_length=1, validate_default=True, json_schema_extra={"ui": {"stack": True}},
        description="The layers inside the block, first to last. Their output is added to the block's input, so the "
        "block only has to learn a correction; this lets deep stacks train as easily as shallow ones.",
    )


def block_shapes(spec: ResidualSpec, shape: Shape) -> list[Shape]:
    """Shape after each inner layer; BlockShapeError names the inner layer that does not fit."""
    shapes = []
    for index, layer in enumerate(spec.layers):
        try:
            shape = tuple(LAYERS[layer.type].output_shape(layer, shape))
        except ValueError as exc:  # this inner layer, or one in a block nested in this one
            raise BlockShapeError(shape_problem(("layers", index), layer, exc)) from None
        shapes.append(shape)
    return shapes


def _output_shape(spec: ResidualSpec, shape: Shape) -> Shape:
    out = block_shapes(spec, shape)[-1]
    skip_kind(shape, out)  # refuses a change no projection can bridge
    return out


def skip_kind(inp: Shape, out: Shape) -> str:
    """How the input reaches the sum: identity, linear, features (per step), conv, or flatten + linear."""
    if inp == out:
        return "identity"
    if len(out) == 1:
        return "linear" if len(inp) == 1 else "flatten"
    if len(inp) == 2 and len(out) == 2:
        if inp[0] != out[0]:
            raise ValueError(f"the block turns {inp[0]} steps into {out[0]}, but a residual connection adds its input "
                             "back step by step; keep the length inside the block (return_sequences on, no pooling)")
        return "features"
    if len(inp) == 3 and len(out) == 3:
        if inp[1] % out[1] or inp[2] % out[2] or inp[1] // out[1] != inp[2] // out[2]:
            raise ValueError(f"the block turns a {inp[1]}×{inp[2]} image into {out[1]}×{out[2]}; a residual "
                             "connection can only bridge the same size or an even shrink (e.g. half); use 'same' "
                             "padding or one pooling of size 2 inside the block")
        return "conv"
    raise ValueError(f"the block turns input of shape {inp} into {out}; a residual connection needs the block to keep "
                     "the kind of data (image, sequence or vector) or end in a vector")


def _skip(inp: Shape, out: Shape) -> nn.Module:
    kind = skip_kind(inp, out)
    if kind == "identity":
        return nn.Identity()
    if kind == "linear":
        return nn.Linear(inp[0], out[0], bias=False)  # (batch, in) -> (batch, out)
    if kind == "flatten":
        return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(inp), out[0], bias=False))
    if kind == "features":
        return nn.Linear(inp[1], out[1], bias=False)  # applied to each step: (batch, T, F) -> (batch, T, F')
    stride = inp[1] // out[1]
    return nn.Conv2d(inp[0], out[0], kernel_size=1, stride=stride, bias=False)  # (batch, C, H, W) -> (batch, C', H', W')


class Residual(nn.Module):
    """block(x) + skip(x)."""

    def __init__(self, block: nn.Sequential, skip: nn.Module):
        super().__init__()
        self.block = block
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x) + self.skip(x)


def _build(spec: ResidualSpec, shape: Shape) -> nn.Module:
    blocks, current = [], tuple(shape)
    for layer, out in zip(spec.layers, block_shapes(spec, shape)):
        blocks.append(LAYERS[layer.type].build(layer, current))
        current = out
    return Residual(nn.Sequential(*blocks), _skip(tuple(shape), current))


def _detail(spec: ResidualSpec) -> str:
    inner = ", ".join(_inner_detail(layer.model_dump()) for layer in spec.layers)
    return f"{len(spec.layers)} layer{'s' if len(spec.layers) > 1 else ''} + skip: {inner}"


def _inner_detail(layer: dict[str, Any]) -> str:
    main = next((layer[k] for k in ("units", "filters", "rate", "function", "pool_size") if k in layer), None)
    return f"{layer['type']} {main}" if main is not None else layer["type"]


register_layer(LayerType(
    "residual", ResidualSpec, "Residual block (skip connection)",
    "Adds a block's input to its output, so the block learns a correction; the trick that lets very deep networks train.",
    output_shape=_output_shape,
    build=_build,
    detail=_detail,
))
