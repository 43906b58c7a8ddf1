"""The spec's layer union: one member per registered layer type, told apart by `type`.

The union is read from the layer registry each time a layer is validated, not frozen when this module is
imported, so a layer type registered later (a plug-in, or a test's own layer) is accepted by every stack
of the spec at once: the main `layers`, residual blocks, an autoencoder's decoder, a GAN's discriminator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainValidator, SerializeAsAny, ValidationError
from pydantic_core import PydanticCustomError

from nnbuilder.layers import LAYERS, LayerSpecBase
from nnbuilder.layers.residual import ResidualSpec


@dataclass(frozen=True)
class RegistryUnion:
    """Marks an annotation as a union whose members are a registry's spec classes, keyed by `tag`.

    `nnbuilder.spec.messages` reads it to find the member class an error points into (for ranges and
    choices), as it does for a plain pydantic union."""

    registry: dict
    tag: str = "type"

    def members(self) -> dict[str, type]:
        return {name: entry.spec for name, entry in self.registry.items()}


def _validate_layer(value: Any) -> LayerSpecBase:
    if isinstance(value, LayerSpecBase):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("model_type", "Input should be an object of settings")
    if "type" not in value:
        raise PydanticCustomError("union_tag_not_found", "Unable to extract tag using discriminator 'type'",
                                  {"discriminator": "'type'"})
    tag = value["type"]
    member = LAYERS.get(tag) if isinstance(tag, str) else None
    if member is None:
        raise PydanticCustomError(
            "union_tag_invalid", "Input tag {tag} found using {discriminator} does not match any of the expected "
            "tags: {expected_tags}", {"discriminator": "'type'", "tag": str(tag), "expected_tags": ", ".join(LAYERS)})
    try:
        return member.spec.model_validate(value)
    except ValidationError as exc:  # keep each error's place, with the tag in loc as pydantic's own unions do
        raise ValidationError.from_exception_data(exc.title, [
            {"type": err["type"], "loc": (tag, *err["loc"]), "input": err["input"],
             **({"ctx": err["ctx"]} if "ctx" in err else {})}
            for err in exc.errors(include_url=False)]) from None


LayerSpec = Annotated[SerializeAsAny[LayerSpecBase], PlainValidator(_validate_layer), RegistryUnion(LAYERS)]
# A residual block holds layers of any type (itself included), so its model completes once the union exists.
ResidualSpec.model_rebuild(_types_namespace={"AnyLayerSpec": LayerSpec})
