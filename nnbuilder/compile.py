"""Spec + data shape -> torch.nn.Module, and the per-layer table the Build page shows.

The model is a plain `nn.Sequential`: one child per hidden layer the user
stacked, then the output head whose size and activation follow from the task.
The table is computed on the `meta` device, so it costs no memory and works
while the user edits, before any data is trained on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .errors import SpecError
from .layers import LAYERS, Shape
from .spec import NetworkSpec
from .tasks import TASK_KINDS

# A cap per model so one student cannot take the shared classroom server's memory.
# Adam keeps two extra copies of every weight plus the gradient: about 16 bytes a parameter.
MAX_PARAMETERS = 50_000_000
BYTES_PER_TRAINED_PARAMETER = 16


@dataclass(frozen=True)
class LayerRow:
    name: str  # "Input", "1. dense", ..., "Output"
    type: str
    output_shape: tuple[int, ...]
    parameters: int
    detail: str  # e.g. "64 units, relu" for the diagram and the table

    def to_dict(self) -> dict:
        return asdict(self)


def output_shapes(spec: NetworkSpec, input_shape: Shape) -> list[Shape]:
    """Shape after each hidden layer; raises SpecError naming every layer that cannot fit."""
    shapes, problems, shape = [], [], tuple(input_shape)
    for index, layer in enumerate(spec.layers):
        try:
            shape = tuple(LAYERS[layer.type].output_shape(layer, shape))
        except ValueError as exc:  # a shape rule explains why the layer does not fit
            problems.append(f"layers[{index}] ({layer.type}): {exc}")
        shapes.append(shape)
    if problems:
        raise SpecError(problems)
    return shapes


def build_model(spec: NetworkSpec, input_shape: Shape, task_kind: str, n_outputs: int,
                max_parameters: int = MAX_PARAMETERS) -> nn.Sequential:
    """The trainable network. Checks its size on the meta device before allocating anything."""
    n_params = count_parameters(build_on_meta(spec, input_shape, task_kind, n_outputs))
    if n_params > max_parameters:
        gib = n_params * BYTES_PER_TRAINED_PARAMETER / 2**30
        raise SpecError([
            f"layers: the network has {n_params:,} parameters (about {gib:.1f} GiB to train), more than the "
            f"{max_parameters:,} allowed; use fewer or smaller layers"
        ])
    return _assemble(spec, input_shape, task_kind, n_outputs)


def build_on_meta(spec: NetworkSpec, input_shape: Shape, task_kind: str, n_outputs: int) -> nn.Sequential:
    with torch.device("meta"):
        return _assemble(spec, input_shape, task_kind, n_outputs)


def _assemble(spec: NetworkSpec, input_shape: Shape, task_kind: str, n_outputs: int) -> nn.Sequential:
    shapes = output_shapes(spec, input_shape)
    blocks, shape = [], tuple(input_shape)
    for layer, out_shape in zip(spec.layers, shapes):
        blocks.append(LAYERS[layer.type].build(layer, shape))
        shape = out_shape
    blocks.append(_head(shape, task_kind, n_outputs))
    return nn.Sequential(*blocks)


def _head(shape: Shape, task_kind: str, n_outputs: int) -> nn.Module:
    units = TASK_KINDS[task_kind].output_units(n_outputs)
    linear = nn.Linear(math.prod(shape), units)
    # Raw scores (logits): the sigmoid/softmax lives in the loss and in predict, for numerical stability.
    return nn.Sequential(nn.Flatten(), linear) if len(shape) > 1 else linear


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def layer_table(spec: NetworkSpec, input_shape: Shape, task_kind: str, n_outputs: int) -> list[LayerRow]:
    """Input, each hidden layer and the output with shapes and parameter counts, without training."""
    model = build_on_meta(spec, input_shape, task_kind, n_outputs)
    shapes = output_shapes(spec, input_shape)
    kind = TASK_KINDS[task_kind]
    rows = [LayerRow("Input", "input", tuple(input_shape), 0, _input_detail(tuple(input_shape)))]
    for index, (layer, shape, block) in enumerate(zip(spec.layers, shapes, model)):
        rows.append(LayerRow(f"{index + 1}. {layer.type}", layer.type, shape, count_parameters(block), _detail(layer)))
    head_units = kind.output_units(n_outputs)
    rows.append(LayerRow("Output", "output", (head_units,), count_parameters(model[-1]),
                         f"{head_units} unit{'s' if head_units > 1 else ''}, {kind.output_activation} "
                         f"({kind.label.lower()})"))
    return rows


def _input_detail(shape: Shape) -> str:
    if len(shape) == 3:
        return f"{shape[1]}×{shape[2]} image, {shape[0]} channel{'s' if shape[0] > 1 else ''}"
    if len(shape) == 2:
        return f"{shape[0]} steps × {shape[1]} features"
    return f"{math.prod(shape)} features"


def _detail(layer) -> str:
    fields = layer.model_dump(exclude={"type"}, exclude_none=True)
    return ", ".join(f"{key} {value}" for key, value in fields.items()) or LAYERS[layer.type].label
