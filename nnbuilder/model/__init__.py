"""Spec + data shape -> torch.nn.Module.

    compile.py   build the network, the per-layer table (shapes, parameters), the autoencoder's mirror
    heads.py     output heads by name: output units, loss, target shaping, probabilities, headline metric
    device.py    arrays onto the model's device
"""

from nnbuilder.model.compile import (MAX_PARAMETERS, LayerRow, build_model, count_parameters, encoder_of,
                                     layer_detail, layer_table, mirror, output_shapes)
from nnbuilder.model.device import model_device, to_device, to_model_device
from nnbuilder.model.heads import OutputHead, find_head, get_head, register_head, task_label

__all__ = ["MAX_PARAMETERS", "LayerRow", "OutputHead", "build_model", "count_parameters", "encoder_of", "find_head",
           "get_head", "layer_detail", "layer_table", "mirror", "model_device", "output_shapes", "register_head",
           "task_label", "to_device", "to_model_device"]
