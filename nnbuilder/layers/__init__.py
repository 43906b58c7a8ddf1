"""Layer types by name. Importing this package registers every built-in type."""

from . import core  # noqa: F401  (registers dense, dropout, batchnorm, activation)
from .activations import ACTIVATIONS, make_activation
from .registry import LAYERS, LayerSpecBase, LayerType, Shape, register_layer

__all__ = ["ACTIVATIONS", "LAYERS", "LayerSpecBase", "LayerType", "Shape", "make_activation", "register_layer"]
