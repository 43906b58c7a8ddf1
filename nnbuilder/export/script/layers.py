"""The generated script's network, written out as code: one emitter per layer type.

`network_source(spec, input_shape, task, n_outputs)` returns the text of a `Net(nn.Module)` class whose
`__init__` holds one attribute per layer (`self.hidden1 = nn.Linear(13, 64)`) and whose `forward`
comments every shape. It mirrors `nnbuilder.model.compile` exactly: modules are created in the same order
with the same constructors, so a seeded script starts from the same weights and
`bundle.model.state_dict()` values load into `Net` in order (the tests check both).

`EMITTERS` is keyed by layer type, like `nnbuilder.layers.LAYERS`; a new layer type (residual,
embedding ...) adds one emitter here. A type without one raises ExportError naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from nnbuilder.model.compile import output_shapes
from nnbuilder.errors import ExportError
from nnbuilder.export.script.transformer import HELPERS
from nnbuilder.layers.conv import same_padding
from nnbuilder.layers.embedding import embedding_dims
from nnbuilder.layers.residual import block_shapes, skip_kind
from nnbuilder.model.heads import get_head

# Activation name -> the functional call a module of that name runs (same defaults as the modules).
ACTIVATION_CODE = {
    "relu": "torch.relu({})", "leaky_relu": "F.leaky_relu({}, 0.01)", "elu": "F.elu({})", "gelu": "F.gelu({})",
    "selu": "F.selu({})", "sigmoid": "torch.sigmoid({})", "tanh": "torch.tanh({})", "softplus": "F.softplus({})",
    "linear": "{}",
}


@dataclass
class Code:
    """What one layer adds to the script: `__init__` lines, `forward` lines and helper definitions by name."""

    init: list[str] = field(default_factory=list)
    forward: list[str] = field(default_factory=list)
    helpers: tuple[str, ...] = ()


def shape_text(shape) -> str:
    return "(" + ", ".join(["batch", *map(str, shape)]) + ")"


def activate(name: str, expression: str) -> str:
    if name not in ACTIVATION_CODE:
        raise ExportError(f"the script export has no code for the activation '{name}'; choose one of "
                          f"{', '.join(ACTIVATION_CODE)} or export with --format torchscript")
    return ACTIVATION_CODE[name].format(expression)


# ---- the emitters: (layer spec, attribute name, input shape, output shape) -> Code -----------------------

def _dense(layer, name, shape, out) -> Code:
    n_in = math.prod(shape)
    code = Code([f"self.{name} = nn.Linear({n_in}, {layer.units})  "
                 f"# {n_in} × {layer.units} weights + {layer.units} biases"])
    if len(shape) > 1:
        code.forward.append(f"x = x.flatten(1)  # (batch, {n_in}): a dense layer reads one flat vector per row")
    code.forward.append(f"x = {activate(layer.activation, f'self.{name}(x)')}  # {shape_text(out)}")
    return code


def _dropout(layer, name, shape, out) -> Code:
    return Code([f"self.{name} = nn.Dropout({layer.rate})  # zeroes {layer.rate:.0%} of values, in training only"],
                [f"x = self.{name}(x)  # {shape_text(out)}"])


def _batchnorm(layer, name, shape, out) -> Code:
    if len(shape) == 3:
        return Code([f"self.{name} = nn.BatchNorm2d({shape[0]})  # one mean/variance per channel"],
                    [f"x = self.{name}(x)  # {shape_text(out)}"])
    if len(shape) == 2:  # (T, F): torch's BatchNorm1d wants the features first
        return Code([f"self.{name} = nn.BatchNorm1d({shape[1]})  # one mean/variance per feature, over all steps"],
                    [f"x = self.{name}(x.transpose(1, 2)).transpose(1, 2)  # {shape_text(out)}"])
    return Code([f"self.{name} = nn.BatchNorm1d({shape[0]})  # one mean/variance per feature"],
                [f"x = self.{name}(x)  # {shape_text(out)}"])


def _layernorm(layer, name, shape, out) -> Code:
    size = list(shape) if len(shape) == 3 else shape[-1]
    return Code([f"self.{name} = nn.LayerNorm({size})  # normalises each sample on its own"],
                [f"x = self.{name}(x)  # {shape_text(out)}"])


def _activation(layer, name, shape, out) -> Code:
    return Code([], [f"x = {activate(layer.function, 'x')}  # {shape_text(out)}"])


def _padding(layer) -> tuple[int, int]:
    return same_padding(layer.kernel_size) if layer.padding == "same" else (0, 0)


def _conv_init(layer, name, cls, channels) -> str:
    before, after = _padding(layer)
    pad = f", padding={before}" if before == after and before else ""
    window = f"{layer.kernel_size}×{layer.kernel_size}" if cls == "Conv2d" else f"{layer.kernel_size} steps"
    return (f"self.{name} = nn.{cls}({channels}, {layer.filters}, {layer.kernel_size}, stride={layer.stride}{pad})"
            f"  # {layer.filters} filters of {window}")


def _uneven_pad(layer, dims: int) -> list[str]:
    before, after = _padding(layer)
    if before == after:
        return []
    pad = ", ".join([str(before), str(after)] * dims)
    return [f"x = F.pad(x, ({pad}))  # 'same' padding with an even kernel: the extra zero goes after"]


def _conv2d(layer, name, shape, out) -> Code:
    return Code([_conv_init(layer, name, "Conv2d", shape[0])],
                _uneven_pad(layer, 2) + [f"x = {activate(layer.activation, f'self.{name}(x)')}  # {shape_text(out)}"])


def _channels_first(shape) -> str:
    # The app keeps sequences steps-first (batch, T, F); torch's 1d layers want (batch, channels, T).
    if len(shape) == 1:
        return f"x = x.unsqueeze(1)  # (batch, 1, {shape[0]}): the row read as a one-channel signal"
    return f"x = x.transpose(1, 2)  # (batch, {shape[1]}, {shape[0]}): channels first for torch"


def _conv1d(layer, name, shape, out) -> Code:
    channels = shape[1] if len(shape) == 2 else 1
    call = activate(layer.activation, f"self.{name}(x)")
    return Code([_conv_init(layer, name, "Conv1d", channels)],
                [_channels_first(shape), *_uneven_pad(layer, 1),
                 f"x = {call}.transpose(1, 2)  # {shape_text(out)}: steps first again"])


def _pool(cls: str):
    def emit(layer, name, shape, out) -> Code:
        stride = layer.stride or layer.pool_size
        init = [f"self.{name} = nn.{cls}({layer.pool_size}, stride={stride})"]
        if cls.endswith("2d"):
            return Code(init, [f"x = self.{name}(x)  # {shape_text(out)}"])
        return Code(init, [_channels_first(shape), f"x = self.{name}(x).transpose(1, 2)  # {shape_text(out)}"])
    return emit


def _global_avg_pool(layer, name, shape, out) -> Code:
    dims = "(2, 3)" if len(shape) == 3 else "1"
    return Code([], [f"x = x.mean(dim={dims})  # {shape_text(out)}: the average over every position"])


def _flatten(layer, name, shape, out) -> Code:
    return Code([], [f"x = x.flatten(1)  # {shape_text(out)}"])


def _recurrent(cls: str):
    def emit(layer, name, shape, out) -> Code:
        args = [str(shape[1]), str(layer.units), "batch_first=True"]
        if layer.layers > 1:
            args.append(f"num_layers={layer.layers}")
            if layer.dropout:
                args.append(f"dropout={layer.dropout}")
        if layer.bidirectional:
            args.append("bidirectional=True")
        init = [f"self.{name} = nn.{cls}({', '.join(args)})"]
        if layer.return_sequences:
            return Code(init, [f"x, _ = self.{name}(x)  # {shape_text(out)}: the output at every step"])
        state = "(h, _)" if cls == "LSTM" else "h"  # an LSTM also returns its cell state
        last = "torch.cat([h[-2], h[-1]], dim=1)" if layer.bidirectional else "h[-1]"
        why = "the top layer's last state, both directions" if layer.bidirectional else "the top layer's last state"
        return Code(init, [f"_, {state} = self.{name}(x)  # h: (layers × directions, batch, {layer.units})",
                           f"x = {last}  # {shape_text(out)}: {why}"])
    return emit


def _transformer(layer, name, shape, out) -> Code:
    if len(shape) == 1:  # a table row: one token per column
        where = f"    steps={shape[0]}, features=1, columns=True, model_dim={layer.model_dim}, heads={layer.heads}, "
    else:
        where = f"    steps={shape[0]}, features={shape[1]}, model_dim={layer.model_dim}, heads={layer.heads}, "
    return Code([f"self.{name} = SelfAttentionEncoder(  # {layer.blocks} block(s) of {layer.heads}-head attention",
                 where + f"ff_dim={layer.ff_dim}, dropout={layer.dropout},",
                 f"    positions={layer.positional_encoding!r}, blocks={layer.blocks}, pooling={layer.pooling!r})"],
                [f"x = self.{name}(x)  # {shape_text(out)}"], ("transformer",))


def _projection(kind: str, inp, out) -> str | None:
    """The skip path's module as code (nnbuilder.layers.residual builds the same), None for the identity."""
    if kind == "linear":
        return f"nn.Linear({inp[0]}, {out[0]}, bias=False)"
    if kind == "flatten":
        return f"nn.Linear({math.prod(inp)}, {out[0]}, bias=False)"
    if kind == "features":  # a Linear on (batch, T, F) maps the features of every step
        return f"nn.Linear({inp[-1]}, {out[-1]}, bias=False)"
    if kind == "conv":
        return f"nn.Conv2d({inp[0]}, {out[0]}, kernel_size=1, stride={inp[1] // out[1]}, bias=False)"
    return None


def _residual(layer, name, shape, out) -> Code:
    """The block's layers inline, then the input added back (through a projection when the shape changed).

    Created in nnbuilder's order (the block's layers, then the skip projection) so weights line up."""
    code = Code([f"# {name} (residual): its layers, then a skip connection around them"],
                [f"{name}_input = x  # {name} (residual) starts: keep its input"])
    inner_shape = tuple(shape)
    for index, (inner, inner_out) in enumerate(zip(layer.layers, block_shapes(layer, shape)), start=1):
        part = _emit(inner, f"{name}_{PREFIXES.get(inner.type, inner.type)}{index}", inner_shape, inner_out,
                     f"{name}.layers[{index - 1}]")
        code.init += part.init
        code.forward += part.forward
        code.helpers += tuple(h for h in part.helpers if h not in code.helpers)
        inner_shape = tuple(inner_out)
    kind, inp = skip_kind(tuple(shape), tuple(out)), tuple(shape)
    projection = _projection(kind, inp, tuple(out))
    if projection is None:
        code.forward.append(f"x = x + {name}_input  # {shape_text(out)}: add the input back")
        return code
    code.init.append(f"self.{name}_skip = {projection}  # skip path")
    flat = ".flatten(1)" if kind == "flatten" else ""
    code.forward.append(f"x = x + self.{name}_skip({name}_input{flat})  # {shape_text(out)}: add the projected input")
    return code


EMITTERS: dict[str, Callable[..., Code]] = {
    "dense": _dense, "dropout": _dropout, "batchnorm": _batchnorm, "layernorm": _layernorm,
    "activation": _activation, "conv2d": _conv2d, "conv1d": _conv1d,
    "maxpool2d": _pool("MaxPool2d"), "avgpool2d": _pool("AvgPool2d"),
    "maxpool1d": _pool("MaxPool1d"), "avgpool1d": _pool("AvgPool1d"),
    "global_avg_pool": _global_avg_pool, "flatten": _flatten,
    "rnn": _recurrent("RNN"), "lstm": _recurrent("LSTM"), "gru": _recurrent("GRU"),
    "transformer_encoder": _transformer, "residual": _residual,
}
PREFIXES = {"residual": "block", "dense": "hidden", "batchnorm": "norm", "layernorm": "norm", "transformer_encoder": "encoder",
            "conv2d": "conv", "conv1d": "conv",
            "maxpool2d": "pool", "avgpool2d": "pool", "maxpool1d": "pool", "avgpool1d": "pool"}


def _emit(layer, name, shape, out, path) -> Code:
    if layer.type not in EMITTERS:
        raise ExportError(f"{path} ({layer.type}): the script export has no code for this layer "
                          "type yet; export with --format torchscript or onnx instead")
    return EMITTERS[layer.type](layer, name, shape, out)


def _embeddings(spec, input_shape, levels) -> Code:
    """The lookup tables of embedded category columns: their codes are the last columns of x."""
    dims = embedding_dims(levels, getattr(spec.input, "embedding_dim", None))
    plain = input_shape[0] - len(levels)
    width = plain + sum(dims)
    tables = ", ".join(f"nn.Embedding({n}, {d})" for n, d in zip(levels, dims))
    return Code([f"# one table per EMBEDDED_FEATURES column: a row per category (+ row 0 for unseen), {dims} long",
                 f"self.embeddings = nn.ModuleList([{tables}])"],
                [f"codes = x[:, {plain}:].round().long() + 1  # (batch, {len(levels)}): -1 (unseen category) -> row 0",
                 "vectors = [table(codes[:, i]) for i, table in enumerate(self.embeddings)]",
                 f"x = torch.cat([x[:, :{plain}], *vectors], dim=1)  # (batch, {width}): numbers, one-hot, vectors"])


def network_source(spec, input_shape, task: str, n_outputs: int, embeddings=()) -> str:
    """The `Net` class (and any helper class it needs) as Python source."""
    shapes = output_shapes(spec, tuple(input_shape), task, embeddings)
    init, forward, helpers = [], [f"# x: {shape_text(input_shape)}"], []
    shape = tuple(input_shape)
    if embeddings:
        front = _embeddings(spec, shape, list(embeddings))
        init, forward = front.init, forward + front.forward
        shape = (shape[0] - len(embeddings) + sum(embedding_dims(embeddings, getattr(spec.input, "embedding_dim",
                                                                                      None))),)
    for index, (layer, out) in enumerate(zip(spec.layers, shapes), start=1):
        name = f"{PREFIXES.get(layer.type, layer.type)}{index}"
        code = _emit(layer, name, shape, out, f"layers[{index - 1}]")
        init += code.init
        forward += code.forward
        helpers += [h for h in code.helpers if h not in helpers]
        shape = tuple(out)
    kind = get_head(task)
    units = kind.output_units(n_outputs)
    n_in = math.prod(shape)
    init.append(f"self.output = nn.Linear({n_in}, {units})  # {units} output{'s' if units > 1 else ''}: "
                f"{kind.label.lower()}")
    if len(shape) > 1:
        forward.append(f"x = x.flatten(1)  # (batch, {n_in})")
    forward.append(f"return self.output(x)  # (batch, {units}): raw scores; the loss applies "
                   f"the {kind.output_activation}" if kind.is_classification else
                   f"return self.output(x)  # (batch, {units}): standardised target value(s)")
    lines = [HELPERS[h] for h in helpers]
    lines += ["class Net(nn.Module):",
              f'    """{len(spec.layers)} hidden layer(s) and the output layer, as built on the Build page."""',
              "",
              "    def __init__(self):",
              "        super().__init__()",
              "        # Created in the same order as nnbuilder builds them, so the same seed gives the same start.",
              *[f"        {line}" for line in init],
              "",
              "    def forward(self, x):",
              *[f"        {line}" for line in forward]]
    return "\n".join(lines) + "\n"
