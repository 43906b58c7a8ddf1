"""The residual block against hand-built oracles, one per kind of skip path; its errors in words."""

import pytest
import torch
from torch import nn

from nnbuilder.model.compile import build_model, count_parameters, layer_table
from nnbuilder.data.pipeline import load_table
from nnbuilder.errors import SpecError
from nnbuilder.layers import LAYERS
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec


def _block(layers: list[dict], shape):
    spec = parse_spec({"layers": [{"type": "residual", "layers": layers}]})
    return LAYERS["residual"].build(spec.layers[0], shape).eval(), spec


def _copy_weights(source: nn.Module, target: nn.Module) -> None:
    with torch.no_grad():
        for (_, s), (_, t) in zip(source.state_dict().items(), target.state_dict().items(), strict=True):
            t.copy_(s)


class _Oracle(nn.Module):
    def __init__(self, body, skip=None):
        super().__init__()
        self.body, self.skip = body, skip

    def forward(self, x):
        return self.body(x) + (x if self.skip is None else self.skip(x))


CASES = {
    # same width: the input is added back unchanged (no extra parameters)
    "identity": ([{"type": "dense", "units": 8, "activation": "tanh"}], (8,),
                 lambda: _Oracle(nn.Sequential(nn.Linear(8, 8), nn.Tanh())), (8,)),
    # wider: a bias-free linear projection on the skip path
    "linear": ([{"type": "dense", "units": 5, "activation": "relu"}], (8,),
               lambda: _Oracle(nn.Sequential(nn.Linear(8, 5), nn.ReLU()), nn.Linear(8, 5, bias=False)), (5,)),
    # an image halved by a strided convolution: a strided 1x1 convolution on the skip path
    "conv": ([{"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": 2, "activation": "relu"}], (2, 6, 6),
             lambda: _Oracle(nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.ReLU()),
                             nn.Conv2d(2, 4, 1, stride=2, bias=False)), (4, 3, 3)),
    # a sequence whose features change: a per-step linear projection
    "features": ([{"type": "lstm", "units": 6, "return_sequences": True}], (5, 3),
                 None, (5, 6)),
    # an image flattened into a vector inside the block: flatten + linear on the skip path
    "flatten": ([{"type": "flatten"}, {"type": "dense", "units": 4, "activation": "linear"}], (2, 3, 3),
                lambda: _Oracle(nn.Sequential(nn.Flatten(), nn.Linear(18, 4)),
                                nn.Sequential(nn.Flatten(), nn.Linear(18, 4, bias=False))), (4,)),
}


@pytest.mark.parametrize("name", CASES)
def test_block_matches_its_oracle(name, seed):
    layers, shape, oracle, out_shape = CASES[name]
    block, spec = _block(layers, shape)
    assert LAYERS["residual"].output_shape(spec.layers[0], shape) == out_shape
    x = torch.randn(4, *shape)
    assert block(x).shape == (4, *out_shape)
    if oracle is not None:
        expected = oracle().eval()
        assert count_parameters(block) == count_parameters(expected)
        _copy_weights(block, expected)
        torch.testing.assert_close(block(x), expected(x))


def test_sequence_block_adds_a_projected_input_per_step(seed):
    block, _ = _block([{"type": "lstm", "units": 6, "return_sequences": True}], (5, 3))
    x = torch.randn(2, 5, 3)
    manual = block.block(x) + x @ block.skip.weight.T  # (batch, 5, 6)
    torch.testing.assert_close(block(x), manual)


def test_identity_block_adds_no_parameters_and_nests():
    spec = parse_spec({"layers": [{"type": "residual", "layers": [
        {"type": "dense", "units": 8},
        {"type": "residual", "layers": [{"type": "dense", "units": 8}, {"type": "dropout", "rate": 0.1}]},
    ]}]})
    rows = layer_table(spec, (8,), "binary", 2)
    assert rows[1].type == "residual" and rows[1].output_shape == (8,)
    assert rows[1].parameters == 2 * (8 * 8 + 8)  # two dense layers, identity skips
    assert rows[1].detail == "2 layers + skip: dense 8, residual"


@pytest.mark.parametrize("layers, shape, words", [
    ([{"type": "maxpool1d", "pool_size": 2}], (6, 3), "turns 6 steps into 3"),
    ([{"type": "conv2d", "filters": 2, "kernel_size": 3, "stride": 2, "padding": "valid"}], (1, 7, 7),
     "even shrink"),
    ([{"type": "flatten"}, {"type": "dense", "units": 4}, {"type": "conv2d"}], (1, 4, 4), "conv2d needs image input"),
])
def test_shapes_no_skip_can_bridge_are_refused_in_words(layers, shape, words):
    spec = parse_spec({"layers": [{"type": "residual", "layers": layers}]})
    with pytest.raises(SpecError, match=words) as caught:
        layer_table(spec, shape, "multiclass", 3)
    assert caught.value.problems[0].startswith("layers[0]")


def test_inner_problems_name_the_inner_layer():
    with pytest.raises(SpecError) as caught:
        parse_spec({"layers": [{"type": "residual", "layers": [{"type": "dense", "units": 0}]}]})
    assert caught.value.problems == ["layers[0].layers[0].units must be in [1, 16384]; got 0"]
    with pytest.raises(SpecError, match=r"layers\[0\]\.layers must hold at least 1 item; got 0"):
        parse_spec({"layers": [{"type": "residual", "layers": []}]})
    spec = parse_spec({"layers": [{"type": "residual", "layers": [
        {"type": "residual", "layers": [{"type": "conv2d"}]}]}]})
    with pytest.raises(SpecError) as caught:
        layer_table(spec, (8,), "binary", 2)
    assert caught.value.problems[0].startswith("layers[0].layers[0].layers[0] (conv2d): conv2d needs image input")


def test_default_block_is_valid_and_round_trips():
    spec = parse_spec({"layers": [{"type": "residual"}]})
    assert [layer.type for layer in spec.layers[0].layers] == ["dense", "dense"]
    assert parse_spec(spec.model_dump()) == spec


@pytest.mark.slow
def test_deep_residual_mlp_learns_moons():
    df, _ = load_table("sample:moons")
    block = {"type": "residual", "layers": [{"type": "dense", "units": 32, "activation": "relu"},
                                            {"type": "dense", "units": 32, "activation": "linear"}]}
    spec = parse_spec({"data": {"target": "label"}, "layers": [{"type": "dense", "units": 32}, *[block] * 4],
                       "training": {"epochs": 40, "learning_rate": 0.01, "seed": 0}})
    trained = train_from_spec(df, spec)
    model = build_model(spec, trained.prepared.input_shape, "binary", 2)
    assert count_parameters(model) == count_parameters(trained.model)
    assert trained.metrics["test"]["accuracy"] > 0.95
