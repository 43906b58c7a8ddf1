"""The spec's layer union: one member per registered layer type, told apart by `type`."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from nnbuilder.layers import LAYERS
from nnbuilder.layers.residual import ResidualSpec

LayerSpec = Annotated[Union[tuple(t.spec for t in LAYERS.values())], Field(discriminator="type")]
# A residual block holds layers of any type (itself included), so its model completes once the union exists.
ResidualSpec.model_rebuild(_types_namespace={"AnyLayerSpec": LayerSpec})
