"""The generated script's network, written out as code: one emitter per layer type.

`network_source(spec, input_shape, task, n_outputs)` returns the text of a `Net(nn.Module)` class whose
`__init__` holds one attribute per layer (`self.hidden1 = nn.Linear(13, 64)`) and whose `forward`
comments every shape. It mirrors `nnbuilder.compile` exactly: modules are created in the same order
with the same constructors, so a seeded script starts from the same weights and
`bundle.model.state_dict()` values load into `Net` in order (the tests check both).

`EMITTERS` is keyed by layer type, like `nnbuilder.layers.LAYERS`; a new layer type (residual,
embedding ...) adds one emitter here. A type without one raises ExportError naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from .compile import output_shapes
from .errors import ExportError
from .layers import ACTIVATIONS
from .layers.conv import _same_padding
from .tasks import TASK_KINDS

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
    return _same_padding(layer.kernel_size) if layer.padding == "same" else (0, 0)


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
    return Code([f"self.{name} = SelfAttentionEncoder(  # {layer.blocks} block(s) of {layer.heads}-head attention",
                 f"    steps={shape[0]}, features={shape[1]}, model_dim={layer.model_dim}, heads={layer.heads}, "
                 f"ff_dim={layer.ff_dim}, dropout={layer.dropout},",
                 f"    positions={layer.positional_encoding!r}, blocks={layer.blocks}, pooling={layer.pooling!r})"],
                [f"x = self.{name}(x)  # {shape_text(out)}"], ("transformer",))


EMITTERS: dict[str, Callable[..., Code]] = {
    "dense": _dense, "dropout": _dropout, "batchnorm": _batchnorm, "layernorm": _layernorm,
    "activation": _activation, "conv2d": _conv2d, "conv1d": _conv1d,
    "maxpool2d": _pool("MaxPool2d"), "avgpool2d": _pool("AvgPool2d"),
    "maxpool1d": _pool("MaxPool1d"), "avgpool1d": _pool("AvgPool1d"),
    "global_avg_pool": _global_avg_pool, "flatten": _flatten,
    "rnn": _recurrent("RNN"), "lstm": _recurrent("LSTM"), "gru": _recurrent("GRU"),
    "transformer_encoder": _transformer,
}
PREFIXES = {"dense": "hidden", "batchnorm": "norm", "layernorm": "norm", "transformer_encoder": "encoder",
            "conv2d": "conv", "conv1d": "conv",
            "maxpool2d": "pool", "avgpool2d": "pool", "maxpool1d": "pool", "avgpool1d": "pool"}


def network_source(spec, input_shape, task: str, n_outputs: int) -> str:
    """The `Net` class (and any helper class it needs) as Python source."""
    shapes = output_shapes(spec, tuple(input_shape), task)
    init, forward, helpers = [], [f"# x: {shape_text(input_shape)}"], []
    shape = tuple(input_shape)
    for index, (layer, out) in enumerate(zip(spec.layers, shapes), start=1):
        if layer.type not in EMITTERS:
            raise ExportError(f"layers[{index - 1}] ({layer.type}): the script export has no code for this layer "
                              "type yet; export with --format torchscript or onnx instead")
        name = f"{PREFIXES.get(layer.type, layer.type)}{index}"
        code = EMITTERS[layer.type](layer, name, shape, out)
        init += code.init
        forward += code.forward
        helpers += [h for h in code.helpers if h not in helpers]
        shape = tuple(out)
    kind = TASK_KINDS[task]
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


_TRANSFORMER = '''\
def sinusoidal_positions(steps, width):
    """The fixed position code of "Attention is all you need": sin on even, cos on odd features."""
    position = torch.arange(steps, dtype=torch.float32).unsqueeze(1)  # (steps, 1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(steps, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : width // 2]  # an odd width: one cos column fewer
    return table  # (steps, width)


class SelfAttentionEncoder(nn.Module):
    """Project each step to model_dim, add positions, run pre-norm transformer blocks, pool the steps."""

    def __init__(self, steps, features, model_dim, heads, ff_dim, dropout, positions, blocks, pooling):
        super().__init__()
        self.project = nn.Linear(features, model_dim) if features != model_dim else nn.Identity()
        self.pooling = pooling
        # "cls": a learned summary token put in front of the sequence; its final state is the output.
        self.cls = nn.Parameter(torch.zeros(1, 1, model_dim)) if pooling == "cls" else None
        length = steps + (1 if pooling == "cls" else 0)
        if positions == "learned":  # one trained vector per position
            self.position = nn.Parameter(torch.randn(1, length, model_dim) * 0.02)
        elif positions == "sinusoidal":  # fixed waves, recomputed here rather than saved
            table = sinusoidal_positions(length, model_dim).unsqueeze(0)  # (1, length, d)
            self.register_buffer("position", table, persistent=False)
        else:
            self.position = None
        # Pre-norm blocks (norm_first) and a final LayerNorm train stably without a learning-rate warm-up
        layer = nn.TransformerEncoderLayer(model_dim, heads, ff_dim, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, blocks, norm=nn.LayerNorm(model_dim),
                                             enable_nested_tensor=False)

    def forward(self, x):  # x: (batch, T, features)
        h = self.project(x)  # (batch, T, d)
        if self.cls is not None:
            h = torch.cat([self.cls.expand(h.shape[0], -1, -1), h], dim=1)  # (batch, 1 + T, d)
        if self.position is not None:
            h = h + self.position[:, : h.shape[1]]
        h = self.encoder(h)  # every step attends to every other step
        if self.pooling == "mean":
            return h.mean(dim=1)  # (batch, d)
        if self.pooling == "cls":
            return h[:, 0]  # (batch, d)
        if self.pooling == "last":
            return h[:, -1]  # (batch, d)
        return h  # (batch, T, d)


'''
HELPERS = {"transformer": _TRANSFORMER}
