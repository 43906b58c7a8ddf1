"""Spec + data shape -> torch.nn.Module, and the per-layer table the Build page shows.

The model is a plain `nn.Sequential`: one child per hidden layer the user
stacked, then the output head whose size and activation follow from the task.
Tabular data with embedded category columns (nnbuilder.data.embedding) gets one
more child first, the embedding front that turns their codes into vectors.
An autoencoder's children are its encoder (the stacked layers), one linear
latent layer, the decoder (mirrored or stacked) and a linear head that rebuilds
every input feature; `encoder_of` slices the first two parts off for the latent space.
The table is computed on the `meta` device, so it costs no memory and works
while the user edits, before any data is trained on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import torch
from torch import nn

from nnbuilder.errors import SpecError, SpecPath, SpecProblem
from nnbuilder.layers import LAYERS, Shape, shape_problem
from nnbuilder.layers.embedding import TabularEmbeddings, check_codes_fit, embedded_width, embedding_dims
from nnbuilder.layers.embedding import describe as describe_embeddings
from nnbuilder.spec.network import NetworkSpec
from nnbuilder.model.heads import get_head

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


# Layers a mirrored decoder can copy: they read and write flat vectors.
MIRRORABLE = ("dense", "dropout", "batchnorm", "layernorm", "activation")


def hidden_layers(spec: NetworkSpec, task_kind: str) -> list[tuple[SpecPath, object]]:
    """(spec path, layer spec) of every hidden layer in order; an autoencoder adds its latent layer and decoder.

    A mirrored decoder's layers are copies, not in the spec: they share the path of the decoder itself."""
    layers = [(("layers", i), layer) for i, layer in enumerate(spec.layers)]
    if not get_head(task_kind).rebuilds_input:
        return layers
    settings = spec.autoencoder_settings
    latent = LAYERS["dense"].spec(units=settings.latent_dim, activation="linear")
    if settings.mirror_decoder:
        decoder = [(("autoencoder", "decoder"), layer) for _, layer in mirror(layers)]
    else:
        decoder = [(("autoencoder", "decoder", i), layer) for i, layer in enumerate(settings.decoder)]
    return [*layers, (("autoencoder", "latent_dim"), latent), *decoder]


def mirror(layers: list[tuple[SpecPath, object]]) -> list[tuple[SpecPath, object]]:
    """The encoder's dense blocks in reverse order; each dense keeps the dropout/norm/activation layers after it.

    Layers before the first dense (e.g. input dropout for a denoising autoencoder) are not mirrored.
    """
    blocks: list[list] = []
    for path, layer in layers:
        if layer.type not in MIRRORABLE:
            raise SpecError([SpecProblem(path, f"mirror_decoder copies only {', '.join(MIRRORABLE)} layers; turn "
                                         "autoencoder.mirror_decoder off and stack the decoder yourself", layer.type)])
        if layer.type == "dense":
            blocks.append([])
        if blocks:
            blocks[-1].append((path, layer))
    return [item for block in reversed(blocks) for item in block]


def embedded_input(spec: NetworkSpec, input_shape: Shape, embeddings: Sequence[int]) -> tuple[Shape, nn.Module | None]:
    """The shape the first hidden layer sees, and the embedding front module (None without embedded columns)."""
    if not embeddings:
        return tuple(input_shape), None
    check_codes_fit(input_shape[0], embeddings)
    dims = embedding_dims(embeddings, getattr(spec.input, "embedding_dim", None))
    front = TabularEmbeddings(input_shape[0] - len(embeddings), embeddings, dims)
    return (embedded_width(input_shape[0], embeddings, dims),), front


def output_shapes(spec: NetworkSpec, input_shape: Shape, task_kind: str = "", embeddings: Sequence[int] = ()) -> list[Shape]:
    """Shape after each hidden layer; raises SpecError naming every layer that cannot fit.

    `embeddings`: the table sizes of embedded category columns (PreparedData.embedding_levels), if any.
    """
    shapes, problems = [], []
    shape = embedded_input(spec, input_shape, embeddings)[0] if embeddings else tuple(input_shape)
    for path, layer in hidden_layers(spec, task_kind):
        try:
            shape = tuple(LAYERS[layer.type].output_shape(layer, shape))
        except ValueError as exc:  # a shape rule explains why the layer (or one inside its block) does not fit
            problems.append(shape_problem(path, layer, exc))
        shapes.append(shape)
    if problems:
        raise SpecError(problems)
    return shapes


def encoder_of(model: nn.Sequential, spec: NetworkSpec) -> nn.Sequential:
    """An autoencoder's layers up to and including the latent layer: rows -> (rows, latent_dim)."""
    return model[:len(spec.layers) + 1]


def build_model(spec: NetworkSpec, input_shape: Shape, task_kind: str, n_outputs: int,
                max_parameters: int = MAX_PARAMETERS, embeddings: Sequence[int] = ()) -> nn.Sequential:
    """The trainable network. Checks its size on the meta device before allocating anything."""
    n_params = count_parameters(build_on_meta(spec, input_shape, task_kind, n_outputs, embeddings))
    if n_params > max_parameters:
        gib = n_params * BYTES_PER_TRAINED_PARAMETER / 2**30
        raise SpecError([SpecProblem(
            ("layers",), f"the network has {n_params:,} parameters (about {gib:.1f} GiB to train), more than the "
            f"{max_parameters:,} allowed; use fewer or smaller layers", sentence=True,
        )])
    return _assemble(spec, input_shape, task_kind, n_outputs, embeddings)


def build_on_meta(spec: NetworkSpec, input_shape: Shape, task_kind: str, n_outputs: int,
                  embeddings: Sequence[int] = ()) -> nn.Sequential:
    with torch.device("meta"):
        return _assemble(spec, input_shape, task_kind, n_outputs, embeddings)


def _assemble(spec: NetworkSpec, input_shape: Shape, task_kind: str, n_outputs: int,
              embeddings: Sequence[int] = ()) -> nn.Sequential:
    layers = [layer for _, layer in hidden_layers(spec, task_kind)]
    shapes = output_shapes(spec, input_shape, task_kind, embeddings)
    shape, front = embedded_input(spec, input_shape, embeddings)
    blocks = [] if front is None else [front]  # the embedding front is the first child when there is one
    for layer, out_shape in zip(layers, shapes):
        blocks.append(LAYERS[layer.type].build(layer, shape))
        shape = out_shape
    blocks.append(_head(shape, task_kind, n_outputs))
    return nn.Sequential(*blocks)


def _head(shape: Shape, task_kind: str, n_outputs: int) -> nn.Module:
    units = get_head(task_kind).output_units(n_outputs)
    linear = nn.Linear(math.prod(shape), units)
    # Raw scores (logits): the sigmoid/softmax lives in the loss and in predict, for numerical stability.
    return nn.Sequential(nn.Flatten(), linear) if len(shape) > 1 else linear


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def layer_table(spec: NetworkSpec, input_shape: Shape, task_kind: str, n_outputs: int,
                embeddings: Sequence[int] = ()) -> list[LayerRow]:
    """Input, each hidden layer and the output with shapes and parameter counts, without training."""
    model = build_on_meta(spec, input_shape, task_kind, n_outputs, embeddings)
    layers = [layer for _, layer in hidden_layers(spec, task_kind)]
    shapes = output_shapes(spec, input_shape, task_kind, embeddings)
    kind = get_head(task_kind)
    rows = [LayerRow("Input", "input", tuple(input_shape), 0, _input_detail(tuple(input_shape)))]
    if embeddings:
        front = model[0]
        dims = [table.embedding_dim for table in front.tables]
        rows.append(LayerRow("Embeddings", "embedding", embedded_input(spec, input_shape, embeddings)[0],
                             count_parameters(front), describe_embeddings(embeddings, dims)))
        model = model[1:]
    n_encoder = len(spec.layers)
    for index, (layer, shape, block) in enumerate(zip(layers, shapes, model)):
        name, detail = f"{index + 1}. {layer.type}", layer_detail(layer)
        if kind.rebuilds_input and index == n_encoder:
            name, detail = "Latent", f"{layer.units} units, linear (the bottleneck)"
        elif kind.rebuilds_input and index > n_encoder:
            name = f"Decoder {index - n_encoder}. {layer.type}"
        rows.append(LayerRow(name, "latent" if name == "Latent" else layer.type, shape, count_parameters(block), detail))
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
    count = math.prod(shape)
    return f"{count} feature{'s' if count != 1 else ''}"


def layer_detail(layer) -> str:
    """The layer table's one-line summary of a layer's settings (its type's own wording when it has one)."""
    if LAYERS[layer.type].detail is not None:
        return LAYERS[layer.type].detail(layer)
    fields = layer.model_dump(exclude={"type"}, exclude_none=True)
    return ", ".join(f"{key} {value}" for key, value in fields.items()) or LAYERS[layer.type].label


