"""Convolution and pooling: conv1d/2d, max/avg pool 1d/2d, global average pool, flatten.

Shapes, one sample, batch left out:
    image      (C, H, W)   channels first, as the image input makes it
    sequence   (T, F)      steps first, features last, like the recurrent layers; a 1d layer slides
                           along T and treats the F features as its channels
    flat       (F,)        a 1d layer reads it as a one-feature signal of F steps
Padding is "same" or "valid". "valid" adds nothing, so a kernel k shrinks each side n to
(n - k) // stride + 1. "same" pads k - 1 zeros in all (the extra one after, for even k), so the
output side is ceil(n / stride): exactly n at stride 1.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field
from torch import nn

from nnbuilder.layers.activations import ActivationName, make_activation
from nnbuilder.layers.modules import ChannelsLast, MeanOver
from nnbuilder.layers.registry import LayerSpecBase, LayerType, Shape, register_layer

Padding = Literal["same", "valid"]


def describe_shape(shape: Shape) -> str:
    """What a layer receives, in words, for shape errors."""
    if len(shape) == 1:
        return (f"{shape[0]} flat features (tabular data, or the output of a dense, flatten or global pooling "
                "layer)")
    if len(shape) == 2:
        return f"a sequence of {shape[0]} steps × {shape[1]} features"
    return f"{shape[0]}-channel {shape[1]}×{shape[2]} images"


def needs_image(name: str, shape: Shape) -> None:
    if len(shape) != 3:
        raise ValueError(f"{name} needs image input (channels × height × width), but it receives "
                         f"{describe_shape(shape)}: choose the image input on the Data page and put {name} before "
                         "any dense, flatten or global pooling layer")


def needs_signal(name: str, shape: Shape) -> None:
    if len(shape) == 3:
        raise ValueError(f"{name} works on sequences or flat signals, but it receives {describe_shape(shape)}: use "
                         f"{name.replace('1d', '2d')} for images, or flatten first")


def _side(name: str, n: int, kernel: int, stride: int, padding: str, what: str, shape_text: str) -> int:
    out = math.ceil(n / stride) if padding == "same" else (n - kernel) // stride + 1
    if out < 1:
        fix = ("remove a pooling layer or use a larger input" if what == "pool" else
               "use padding \"same\" or a smaller kernel, remove a pooling layer, or use a larger input")
        raise ValueError(f"{name} with {what} {kernel} would shrink the {shape_text} to nothing: {fix}")
    return out


def _shape_text(shape: Shape) -> str:
    return f"{shape[1]}×{shape[2]} image" if len(shape) == 3 else f"{shape[0]}-step sequence"


def _channels(shape: Shape) -> int:
    return shape[1] if len(shape) == 2 else 1


def same_padding(kernel: int) -> tuple[int, int]:
    before = (kernel - 1) // 2
    return before, kernel - 1 - before


# ---- convolutions ------------------------------------------------------------------------------

class _ConvFields(LayerSpecBase):
    filters: int = Field(
        16, ge=1, le=4096,
        description="Number of filters (output channels); each learns one local pattern, such as an edge or a stroke. "
        "More finds more kinds of pattern but is slower and overfits small data; too few misses patterns. Often "
        "doubled after each pooling (16, 32, 64).",
        json_schema_extra={"ui": {"step": 8}},
    )
    kernel_size: int = Field(
        3, ge=1, le=64,
        description="Width of each filter's window in pixels (or steps); 3 is typical. Larger windows see bigger "
        "patterns at once but add parameters; smaller ones see fine detail and stack cheaply (two 3s see as far "
        "as one 5).",
    )
    stride: int = Field(
        1, ge=1, le=64,
        description="How far the window moves each step; 2 halves the size, a cheap way to shrink. Larger strides "
        "are faster but skip detail; smaller (1) looks at every position.",
    )
    padding: Padding = Field(
        "same",
        description="What happens at the edges: 'same' lets the window hang over the border (zeros added) so the size "
        "is kept; 'valid' keeps it inside, so the output shrinks a little with every layer.",
        json_schema_extra={"ui": {"notes": {
            "same": "pads with zeros so the output keeps the input's size (divided by the stride); the usual choice",
            "valid": "no padding: height and width (or steps) shrink by kernel_size - 1, and edges count less",
        }}},
    )
    activation: ActivationName = Field(
        "relu",
        description="The non-linearity after the convolution; relu is the usual choice. Without one (linear), "
        "stacked convolutions collapse into a single one and can only find straight-line combinations.",
    )


class Conv2dSpec(_ConvFields):
    type: Literal["conv2d"] = "conv2d"


class Conv1dSpec(_ConvFields):
    type: Literal["conv1d"] = "conv1d"


def _conv2d_shape(spec: Conv2dSpec, shape: Shape) -> Shape:
    needs_image("conv2d", shape)
    sides = [_side("conv2d", n, spec.kernel_size, spec.stride, spec.padding, "kernel", _shape_text(shape))
             for n in shape[1:]]
    return (spec.filters, *sides)


def _conv1d_shape(spec: Conv1dSpec, shape: Shape) -> Shape:
    needs_signal("conv1d", shape)
    steps = _side("conv1d", shape[0], spec.kernel_size, spec.stride, spec.padding, "kernel", _shape_text(shape))
    return (steps, spec.filters)


def _conv(spec, channels: int, conv_class, pad_class) -> nn.Module:
    k = spec.kernel_size
    before, after = same_padding(k) if spec.padding == "same" else (0, 0)
    if before == after:
        return conv_class(channels, spec.filters, k, stride=spec.stride, padding=before)
    pad = (before, after) if pad_class is nn.ZeroPad1d else (before, after, before, after)
    return nn.Sequential(pad_class(pad), conv_class(channels, spec.filters, k, stride=spec.stride))


def _build_conv2d(spec: Conv2dSpec, shape: Shape) -> nn.Module:
    return nn.Sequential(_conv(spec, shape[0], nn.Conv2d, nn.ZeroPad2d), make_activation(spec.activation))


def _build_conv1d(spec: Conv1dSpec, shape: Shape) -> nn.Module:
    conv = _conv(spec, _channels(shape), nn.Conv1d, nn.ZeroPad1d)
    return nn.Sequential(ChannelsLast(conv), make_activation(spec.activation))  # (T, F) in, (T', filters) out


# ---- pooling -----------------------------------------------------------------------------------

class _PoolFields(LayerSpecBase):
    pool_size: int = Field(
        2, ge=1, le=64,
        description="Size of the window pooled into one value; 2 halves the size. Larger pools shrink faster and "
        "ignore bigger shifts but throw away detail; smaller keep more (1 does nothing).",
    )
    stride: int | None = Field(
        None, ge=1, le=64,
        description="How far the window moves each step; leave empty to use the pool size (windows side by side). "
        "Smaller than the pool size overlaps the windows (keeps more); larger skips values.",
    )


class MaxPool2dSpec(_PoolFields):
    type: Literal["maxpool2d"] = "maxpool2d"


class AvgPool2dSpec(_PoolFields):
    type: Literal["avgpool2d"] = "avgpool2d"


class MaxPool1dSpec(_PoolFields):
    type: Literal["maxpool1d"] = "maxpool1d"


class AvgPool1dSpec(_PoolFields):
    type: Literal["avgpool1d"] = "avgpool1d"


def _pool_shape(name: str):
    def rule(spec, shape: Shape) -> Shape:
        stride = spec.stride or spec.pool_size
        if name.endswith("2d"):
            needs_image(name, shape)
            return (shape[0], *[_side(name, n, spec.pool_size, stride, "valid", "pool", _shape_text(shape))
                                for n in shape[1:]])
        needs_signal(name, shape)
        return (_side(name, shape[0], spec.pool_size, stride, "valid", "pool", _shape_text(shape)),
                _channels(shape))
    return rule


def _pool_build(pool_class, one_d: bool):
    def build(spec, shape: Shape) -> nn.Module:
        pool = pool_class(spec.pool_size, stride=spec.stride or spec.pool_size)
        return ChannelsLast(pool) if one_d else pool
    return build


# ---- reshaping ---------------------------------------------------------------------------------

class GlobalAvgPoolSpec(LayerSpecBase):
    type: Literal["global_avg_pool"] = "global_avg_pool"


def _global_shape(spec, shape: Shape) -> Shape:
    if len(shape) == 1:
        raise ValueError(f"global_avg_pool averages over image positions or sequence steps, but it receives "
                         f"{describe_shape(shape)}: use it after a conv2d or conv1d layer")
    return (shape[0],) if len(shape) == 3 else (shape[1],)


def _build_global(spec, shape: Shape) -> nn.Module:
    return MeanOver((2, 3) if len(shape) == 3 else (1,))  # (C, H, W) -> (C,);  (T, F) -> (F,)


class FlattenSpec(LayerSpecBase):
    type: Literal["flatten"] = "flatten"


for _name, _spec, _label, _summary, _shape, _build in [
    ("conv2d", Conv2dSpec, "Convolution 2D (images)",
     "Slides small learned filters over the image; each filter finds one local pattern wherever it appears.",
     _conv2d_shape, _build_conv2d),
    ("maxpool2d", MaxPool2dSpec, "Max pooling 2D",
     "Keeps the strongest response in each small window, shrinking the image and ignoring small shifts.",
     _pool_shape("maxpool2d"), _pool_build(nn.MaxPool2d, False)),
    ("avgpool2d", AvgPool2dSpec, "Average pooling 2D",
     "Averages each small window, shrinking the image smoothly while every value still counts a little.",
     _pool_shape("avgpool2d"), _pool_build(nn.AvgPool2d, False)),
    ("conv1d", Conv1dSpec, "Convolution 1D (sequences)",
     "Slides learned filters along the steps of a sequence or signal to find local patterns.",
     _conv1d_shape, _build_conv1d),
    ("maxpool1d", MaxPool1dSpec, "Max pooling 1D",
     "Keeps the strongest response in each window of steps, shortening the sequence.",
     _pool_shape("maxpool1d"), _pool_build(nn.MaxPool1d, True)),
    ("avgpool1d", AvgPool1dSpec, "Average pooling 1D",
     "Averages each window of steps, shortening the sequence smoothly while every step still counts a little.",
     _pool_shape("avgpool1d"), _pool_build(nn.AvgPool1d, True)),
    ("global_avg_pool", GlobalAvgPoolSpec, "Global average pooling",
     "Averages each channel over the whole image (or each feature over all steps): one number per channel.",
     _global_shape, _build_global),
    ("flatten", FlattenSpec, "Flatten",
     "Lays an image or a sequence out as one long vector, so dense layers can read it.",
     lambda spec, shape: (math.prod(shape),), lambda spec, shape: nn.Flatten()),
]:
    register_layer(LayerType(_name, _spec, _label, _summary, output_shape=_shape, build=_build))
