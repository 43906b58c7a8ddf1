"""Convolution, pooling and normalisation layers: shape rules agree with the real modules; errors in words."""

import pytest
import torch
from torch import nn

from nnbuilder.model.compile import build_model, count_parameters, layer_table
from nnbuilder.errors import SpecError
from nnbuilder.layers import LAYERS
from nnbuilder.spec.network import parse_spec

CASES = [
    ({"type": "conv2d", "filters": 5, "kernel_size": 3}, (3, 9, 7)),
    ({"type": "conv2d", "filters": 5, "kernel_size": 4}, (1, 9, 7)),  # even kernel, "same"
    ({"type": "conv2d", "filters": 5, "kernel_size": 4, "stride": 2}, (1, 9, 7)),
    ({"type": "conv2d", "filters": 5, "kernel_size": 3, "stride": 2, "padding": "valid"}, (1, 9, 7)),
    ({"type": "conv2d", "filters": 2, "kernel_size": 5, "stride": 3, "padding": "same"}, (2, 8, 8)),
    ({"type": "maxpool2d", "pool_size": 2}, (3, 9, 7)),
    ({"type": "maxpool2d", "pool_size": 3, "stride": 2}, (3, 9, 7)),
    ({"type": "avgpool2d", "pool_size": 2, "stride": 1}, (3, 9, 7)),
    ({"type": "conv1d", "filters": 6, "kernel_size": 3}, (11, 4)),
    ({"type": "conv1d", "filters": 6, "kernel_size": 2, "stride": 3}, (11, 4)),
    ({"type": "conv1d", "filters": 6, "kernel_size": 5, "padding": "valid"}, (11, 4)),
    ({"type": "conv1d", "filters": 3, "kernel_size": 3}, (12,)),  # a flat vector is a one-feature signal
    ({"type": "maxpool1d", "pool_size": 2}, (11, 4)),
    ({"type": "avgpool1d", "pool_size": 3, "stride": 2}, (11, 4)),
    ({"type": "maxpool1d", "pool_size": 4}, (12,)),
    ({"type": "global_avg_pool"}, (3, 9, 7)),
    ({"type": "global_avg_pool"}, (11, 4)),
    ({"type": "flatten"}, (3, 9, 7)),
    ({"type": "flatten"}, (11, 4)),
    ({"type": "batchnorm"}, (3, 9, 7)),
    ({"type": "batchnorm"}, (11, 4)),
    ({"type": "layernorm"}, (3, 9, 7)),
    ({"type": "layernorm"}, (11, 4)),
    ({"type": "dense", "units": 7}, (3, 9, 7)),
    ({"type": "dense", "units": 7}, (11, 4)),
    ({"type": "dropout"}, (3, 9, 7)),
]


@pytest.mark.parametrize("layer, in_shape", CASES, ids=lambda v: str(v))
def test_shape_rule_matches_the_real_module(layer, in_shape):
    spec = parse_spec({"layers": [layer]})
    rule_shape = LAYERS[layer["type"]].output_shape(spec.layers[0], in_shape)
    module = LAYERS[layer["type"]].build(spec.layers[0], in_shape).eval()
    assert module(torch.randn(4, *in_shape)).shape == (4, *rule_shape)


def test_batchnorm_normalises_image_channels_and_sequence_features():
    spec = parse_spec({"layers": [{"type": "batchnorm"}]})
    image = LAYERS["batchnorm"].build(spec.layers[0], (3, 5, 5))
    assert isinstance(image, nn.BatchNorm2d) and image.num_features == 3
    sequence = LAYERS["batchnorm"].build(spec.layers[0], (10, 4)).train()
    out = sequence(torch.randn(8, 10, 4) * 5 + 3)
    torch.testing.assert_close(out.mean(dim=(0, 1)), torch.zeros(4), atol=1e-5, rtol=0)
    assert count_parameters(sequence) == 2 * 4


def test_small_cnn_table_counts_match_the_model():
    spec = parse_spec({"layers": [
        {"type": "conv2d", "filters": 16}, {"type": "maxpool2d"}, {"type": "conv2d", "filters": 32},
        {"type": "flatten"}, {"type": "dense", "units": 64}]})
    rows = layer_table(spec, (1, 8, 8), "multiclass", 10)
    assert [r.output_shape for r in rows] == [(1, 8, 8), (16, 8, 8), (16, 4, 4), (32, 4, 4), (512,), (64,), (10,)]
    assert [r.parameters for r in rows] == [0, 16 * 9 + 16, 0, 32 * 16 * 9 + 32, 0, 512 * 64 + 64, 64 * 10 + 10]
    assert sum(r.parameters for r in rows) == count_parameters(build_model(spec, (1, 8, 8), "multiclass", 10))
    assert rows[0].detail == "8×8 image, 1 channel"
    assert "stride" not in rows[2].detail  # an empty stride (= pool size) is left out


@pytest.mark.parametrize("layers, in_shape, expected", [
    ([{"type": "conv2d"}], (64,), "layers[0] (conv2d): conv2d needs image input (channels × height × width), but it "
     "receives 64 flat features (tabular data"),
    ([{"type": "conv2d"}], (64,), "choose the image input on the Data page"),
    ([{"type": "maxpool2d"}] * 4, (1, 8, 8), "layers[3] (maxpool2d): maxpool2d with pool 2 would shrink the 1×1 "
     "image to nothing: remove a pooling layer or use a larger input"),
    ([{"type": "conv2d", "kernel_size": 9, "padding": "valid"}], (1, 8, 8), "conv2d with kernel 9 would shrink the "
     "8×8 image to nothing: use padding \"same\""),
    ([{"type": "flatten"}, {"type": "maxpool2d"}], (1, 8, 8), "layers[1] (maxpool2d): maxpool2d needs image input"),
    ([{"type": "conv1d"}], (1, 8, 8), "conv1d works on sequences or flat signals, but it receives 1-channel 8×8 "
     "images: use conv2d for images"),
    ([{"type": "global_avg_pool"}], (5,), "global_avg_pool averages over image positions or sequence steps"),
])
def test_shape_errors_are_explained_in_words(layers, in_shape, expected):
    with pytest.raises(SpecError) as info:
        layer_table(parse_spec({"layers": layers}), in_shape, "binary", 2)
    assert any(expected in problem for problem in info.value.problems), info.value.problems


def test_every_problem_is_reported_at_once():
    spec = parse_spec({"layers": [{"type": "conv1d"}, {"type": "conv2d"}, {"type": "dense", "units": 4}]})
    with pytest.raises(SpecError) as info:
        build_model(spec, (1, 8, 8), "binary", 2)
    assert [p.split(":")[0] for p in info.value.problems] == ["layers[0] (conv1d)"]
    spec = parse_spec({"layers": [{"type": "conv2d"}, {"type": "global_avg_pool"}, {"type": "maxpool2d"},
                                  {"type": "conv1d", "kernel_size": 40, "padding": "valid"}]})
    with pytest.raises(SpecError) as info:
        build_model(spec, (1, 8, 8), "binary", 2)
    assert [p.split(":")[0] for p in info.value.problems] == ["layers[2] (maxpool2d)", "layers[3] (conv1d)"]
