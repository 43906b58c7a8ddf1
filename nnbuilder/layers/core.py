"""The fully connected family: dense, dropout, batch and layer norm and a bare activation.

Every one of them accepts any input shape: dense flattens an image (C, H, W) or a sequence
(T, F) first; batchnorm normalises channels of an image and features of a sequence.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field
from torch import nn

from nnbuilder.layers.activations import ActivationName, make_activation
from nnbuilder.layers.modules import ChannelsLast
from nnbuilder.layers.registry import LayerSpecBase, LayerType, Shape, register_layer


def _features(shape: Shape) -> int:
    # Dense-style layers see one flat vector per sample.
    return math.prod(shape)


class DenseSpec(LayerSpecBase):
    type: Literal["dense"] = "dense"
    units: int = Field(
        64, ge=1, le=16384,
        description="Number of neurons. More units fit more complex patterns but overfit small data and train slower; "
        "too few and the network underfits (it cannot bend enough to follow the data). 16-128 suits most tables.",
        json_schema_extra={"ui": {"step": 8}},
    )
    activation: ActivationName = Field(
        "relu",
        description="The non-linearity after the layer: what lets the network bend its decision boundary. Without one "
        "(linear), any stack of dense layers collapses into a single straight-line model. relu is a good default.",
    )


def _build_dense(spec: DenseSpec, shape: Shape) -> nn.Module:
    linear = nn.Linear(_features(shape), spec.units)
    if len(shape) > 1:
        return nn.Sequential(nn.Flatten(), linear, make_activation(spec.activation))
    return nn.Sequential(linear, make_activation(spec.activation))


class DropoutSpec(LayerSpecBase):
    type: Literal["dropout"] = "dropout"
    rate: float = Field(
        0.2, ge=0.0, lt=1.0,
        description="Fraction of values zeroed at random while training (never when predicting), so no neuron can rely "
        "on another. Fights overfitting: raise it when validation loss climbs; too high (over ~0.5) underfits, too "
        "low does nothing. 0.1-0.3 is typical.",
        json_schema_extra={"ui": {"step": 0.05}},
    )


class BatchNormSpec(LayerSpecBase):
    type: Literal["batchnorm"] = "batchnorm"


def _build_batchnorm(spec: BatchNormSpec, shape: Shape) -> nn.Module:
    if len(shape) == 3:  # (C, H, W): one mean/variance per channel
        return nn.BatchNorm2d(shape[0])
    if len(shape) == 2:  # (T, F): one per feature, over the batch and all steps
        return ChannelsLast(nn.BatchNorm1d(shape[1]))
    return nn.BatchNorm1d(shape[0])


class LayerNormSpec(LayerSpecBase):
    type: Literal["layernorm"] = "layernorm"


def _build_layernorm(spec: LayerNormSpec, shape: Shape) -> nn.Module:
    # Per sample: over the features of a vector or of each step; over all of (C, H, W) for an image.
    return nn.LayerNorm(list(shape) if len(shape) == 3 else shape[-1])


class ActivationSpec(LayerSpecBase):
    type: Literal["activation"] = "activation"
    function: ActivationName = Field(
        "relu",
        description="The non-linearity to apply on its own, e.g. after a batch normalisation. It is what lets "
        "stacked layers learn curves instead of one straight line.",
    )


def _same(spec, shape: Shape) -> Shape:
    return shape


register_layer(LayerType(
    "dense", DenseSpec, "Dense (fully connected)",
    "Every input connects to every neuron, which weighs and adds them up; the workhorse of tabular networks.",
    output_shape=lambda spec, shape: (spec.units,),
    build=_build_dense,
))
register_layer(LayerType(
    "dropout", DropoutSpec, "Dropout",
    "Randomly switches off a fraction of values while training, so the network cannot rely on any single one.",
    output_shape=_same,
    build=lambda spec, shape: nn.Dropout(spec.rate),
))
register_layer(LayerType(
    "batchnorm", BatchNormSpec, "Batch normalisation",
    "Re-centres and re-scales each feature over the mini-batch; steadies deep networks and often allows a higher "
    "learning rate.",
    output_shape=_same,
    build=_build_batchnorm,
))
register_layer(LayerType(
    "layernorm", LayerNormSpec, "Layer normalisation",
    "Re-centres and re-scales each sample's values on their own, independent of the batch; common in sequence models.",
    output_shape=_same,
    build=_build_layernorm,
))
register_layer(LayerType(
    "activation", ActivationSpec, "Activation",
    "Applies a non-linearity on its own, e.g. after a batch normalisation; it is what makes stacked layers bend.",
    output_shape=_same,
    build=lambda spec, shape: make_activation(spec.function),
))
