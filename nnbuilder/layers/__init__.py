"""Layer types by name. Importing this package registers every built-in type."""

from nnbuilder.layers import core  # noqa: F401  (registers dense, dropout, batchnorm, layernorm, activation)
from nnbuilder.layers import conv  # noqa: F401  (registers conv1d/2d, pooling, global_avg_pool, flatten)
from nnbuilder.layers import recurrent  # noqa: F401  (registers rnn, lstm, gru)
from nnbuilder.layers import attention  # noqa: F401  (registers transformer_encoder)
from nnbuilder.layers import residual  # noqa: F401  (registers residual; its inner layers are any of the above)
from nnbuilder.layers.activations import ACTIVATIONS, make_activation
from nnbuilder.layers.registry import (LAYERS, BlockShapeError, LayerSpecBase, LayerType, Shape, register_layer,
                                       shape_problem)

__all__ = ["ACTIVATIONS", "LAYERS", "BlockShapeError", "LayerSpecBase", "LayerType", "Shape", "make_activation", "register_layer",
           "shape_problem"]
