"""Arrays into a model (nnbuilder.model.device): float32 on the model's device, labels keep their type."""

import numpy as np
import pytest
import torch
from torch import nn

from nnbuilder.model.device import model_device, to_model_device


def test_an_array_becomes_a_float32_tensor_on_the_models_device():
    model = nn.Linear(3, 1)
    x = to_model_device(np.arange(6, dtype=np.float64).reshape(2, 3), model)
    assert x.dtype == torch.float32 and x.device == next(model.parameters()).device
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_class_codes_keep_their_type_when_asked():
    assert to_model_device(np.array([0, 2, 1]), nn.Linear(1, 1), dtype=None).dtype == torch.int64


def test_a_contiguous_float32_array_on_the_cpu_is_not_copied():
    rows = np.ones((4, 2), dtype=np.float32)
    assert to_model_device(rows, nn.Linear(2, 1)).data_ptr() == rows.ctypes.data


def test_a_model_without_weights_reads_on_the_cpu():
    assert model_device(nn.ReLU()) == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_tensor_follows_a_model_on_the_gpu():
    model = nn.Linear(2, 1).cuda()
    assert to_model_device(np.zeros((1, 2)), model).device == next(model.parameters()).device
