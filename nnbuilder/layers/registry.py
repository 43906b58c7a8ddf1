"""The layer registry: every layer type the Build page and the spec know.

A layer type is its parameter model (a pydantic class whose `type` literal is
the registry key), a shape rule and a build function. The spec's `layers`
union, the Build page's "add layer" menu and the compiler all read this table,
so adding a layer type means adding one registration in one module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel, ConfigDict
from torch import nn

from nnbuilder.errors import SpecPath, SpecProblem

Shape = tuple[int, ...]  # one sample's shape, batch dimension left out


class LayerSpecBase(BaseModel):
    """Common base: unknown keys are errors, like everywhere in the spec."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class LayerType:
    name: str
    spec: type[LayerSpecBase]
    label: str  # what the Build page shows in its menu
    summary: str  # one plain sentence: what the layer does, for learners
    output_shape: Callable[[LayerSpecBase, Shape], Shape]
    build: Callable[[LayerSpecBase, Shape], nn.Module]
    detail: Callable[[LayerSpecBase], str] | None = None  # the layer table's words; None = its fields listed


class BlockShapeError(ValueError):
    """A layer inside a block (e.g. a residual block) does not fit: `problem.path` is relative to the block."""

    def __init__(self, problem: SpecProblem):
        self.problem = problem
        super().__init__(problem.text)


def shape_problem(path: SpecPath, layer: LayerSpecBase, exc: ValueError) -> SpecProblem:
    """The problem of the layer at `path` whose shape rule refused its input; a layer inside a block is
    named by its full path (`layers[3].layers[0]`), so front ends can show it at that inner layer."""
    if isinstance(exc, BlockShapeError):
        return exc.problem.within(path)
    return SpecProblem(path, str(exc), layer_type=layer.type)


LAYERS: dict[str, LayerType] = {}


def register_layer(layer_type: LayerType) -> LayerType:
    if layer_type.name in LAYERS:
        raise ValueError(f"layer type {layer_type.name!r} is registered twice")
    LAYERS[layer_type.name] = layer_type
    return layer_type
