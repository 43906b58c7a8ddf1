"""Compiled networks against hand-built PyTorch oracles; the layer table without training."""

import math

import pytest
import torch
from torch import nn

from nnbuilder.model.compile import build_model, count_parameters, layer_table
from nnbuilder.errors import SpecError
from nnbuilder.layers import ACTIVATIONS, LAYERS
from nnbuilder.spec.network import parse_spec

class _StepsFirst(nn.Module):
    """Oracle helper: run a channels-first 1d module on a (batch, steps, features) tensor."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.transpose(1, 2)).transpose(1, 2)


IMAGE, SEQUENCE = (2, 6, 6), (10, 3)
# One example per registered layer type: its spec, a hand-built oracle, its output shape and
# (optionally) the input shape it is tried on: 8 features unless given.
ORACLES = {
    "dense": ({"type": "dense", "units": 5, "activation": "tanh"}, lambda: nn.Sequential(nn.Linear(8, 5), nn.Tanh()), (5,)),
    "dropout": ({"type": "dropout", "rate": 0.3}, lambda: nn.Dropout(0.3), (8,)),
    "batchnorm": ({"type": "batchnorm"}, lambda: nn.BatchNorm1d(8), (8,)),
    "layernorm": ({"type": "layernorm"}, lambda: nn.LayerNorm(8), (8,)),
    "activation": ({"type": "activation", "function": "elu"}, nn.ELU, (8,)),
    "conv2d": ({"type": "conv2d", "filters": 4, "kernel_size": 3, "activation": "tanh"},
               lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.Tanh()), (4, 6, 6), IMAGE),
    "maxpool2d": ({"type": "maxpool2d", "pool_size": 2}, lambda: nn.MaxPool2d(2), (2, 3, 3), IMAGE),
    "avgpool2d": ({"type": "avgpool2d", "pool_size": 3, "stride": 1}, lambda: nn.AvgPool2d(3, stride=1), (2, 4, 4), IMAGE),
    "conv1d": ({"type": "conv1d", "filters": 4, "kernel_size": 3, "stride": 2, "padding": "valid"},
               lambda: nn.Sequential(_StepsFirst(nn.Conv1d(3, 4, 3, stride=2)), nn.ReLU()), (4, 4), SEQUENCE),
    "maxpool1d": ({"type": "maxpool1d", "pool_size": 2}, lambda: _StepsFirst(nn.MaxPool1d(2)), (5, 3), SEQUENCE),
    "avgpool1d": ({"type": "avgpool1d", "pool_size": 2}, lambda: _StepsFirst(nn.AvgPool1d(2)), (5, 3), SEQUENCE),
    "global_avg_pool": ({"type": "global_avg_pool"}, lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
                        (2,), IMAGE),
    "flatten": ({"type": "flatten"}, nn.Flatten, (72,), IMAGE),
}


# Sequence layers have their own oracles (several settings each) in test_layers_sequence.py, the residual
# block (one per kind of skip path) in test_layers_residual.py.
ORACLES_ELSEWHERE = {"rnn", "lstm", "gru", "transformer_encoder", "residual"}


def test_every_registered_layer_has_an_oracle():
    assert set(ORACLES) | ORACLES_ELSEWHERE == set(LAYERS), "add an oracle for each new layer type"


def _copy_weights(source: nn.Module, target: nn.Module) -> None:
    # Same parameters in the same order: copy them by position.
    with torch.no_grad():
        for (_, s), (_, t) in zip(source.state_dict().items(), target.state_dict().items(), strict=True):
            t.copy_(s)


@pytest.mark.parametrize("layer_type", sorted(ORACLES))
def test_each_layer_matches_its_oracle(layer_type):
    layer, oracle_factory, out_shape, *given = ORACLES[layer_type]
    in_shape = given[0] if given else (8,)
    spec = parse_spec({"layers": [layer]})
    torch.manual_seed(0)
    model = build_model(spec, in_shape, "multiclass", 3).eval()
    head = nn.Linear(math.prod(out_shape), 3)
    oracle = nn.Sequential(oracle_factory(), nn.Sequential(nn.Flatten(), head) if len(out_shape) > 1 else head).eval()
    _copy_weights(model, oracle)
    x = torch.randn(16, *in_shape)
    torch.testing.assert_close(model(x), oracle(x))
    assert count_parameters(model) == count_parameters(oracle)
    rows = layer_table(spec, in_shape, "multiclass", 3)
    assert rows[1].output_shape == out_shape
    assert model[0](x).shape[1:] == out_shape


def test_issue_example_network_matches_hand_built_sequential():
    spec = parse_spec({"layers": [
        {"type": "dense", "units": 64, "activation": "relu"}, {"type": "dropout", "rate": 0.2},
        {"type": "batchnorm"}, {"type": "dense", "units": 32, "activation": "tanh"}]})
    model = build_model(spec, (4,), "multiclass", 3).eval()
    oracle = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Dropout(0.2), nn.BatchNorm1d(64),
                           nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 3)).eval()
    _copy_weights(model, oracle)
    x = torch.randn(10, 4)
    torch.testing.assert_close(model(x), oracle(x))


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_builds_and_runs(activation):
    spec = parse_spec({"layers": [{"type": "dense", "units": 4, "activation": activation}]})
    out = build_model(spec, (3,), "regression", 1)(torch.randn(5, 3))
    assert out.shape == (5, 1) and torch.isfinite(out).all()


@pytest.mark.parametrize("task, n_outputs, head_units", [
    ("binary", 2, 1), ("multiclass", 4, 4), ("regression", 1, 1), ("multi_regression", 3, 3)])
def test_output_layer_follows_the_task(task, n_outputs, head_units):
    spec = parse_spec({"layers": [{"type": "dense", "units": 6}]})
    rows = layer_table(spec, (5,), task, n_outputs)
    assert rows[-1].output_shape == (head_units,)
    assert rows[-1].parameters == 6 * head_units + head_units


def test_zero_hidden_layers_is_logistic_regression():
    model = build_model(parse_spec({}), (7,), "binary", 2)
    assert isinstance(model[0], nn.Linear) and count_parameters(model) == 7 + 1


def test_layer_table_counts_match_the_real_model_and_cost_no_memory():
    spec = parse_spec({"layers": [{"type": "dense", "units": 128}, {"type": "batchnorm"}, {"type": "dense", "units": 64}]})
    rows = layer_table(spec, (50,), "multiclass", 10)
    assert [r.name for r in rows] == ["Input", "1. dense", "2. batchnorm", "3. dense", "Output"]
    assert [r.parameters for r in rows] == [0, 50 * 128 + 128, 2 * 128, 128 * 64 + 64, 64 * 10 + 10]
    assert sum(r.parameters for r in rows) == count_parameters(build_model(spec, (50,), "multiclass", 10))
    # A table for a network far too big to allocate still works: it is computed on the meta device.
    huge = parse_spec({"layers": [{"type": "dense", "units": 16384}] * 4})
    assert sum(r.parameters for r in layer_table(huge, (16384,), "regression", 1)) > 1_000_000_000


def test_a_network_too_large_for_memory_is_refused_before_allocating():
    huge = parse_spec({"layers": [{"type": "dense", "units": 16384}] * 4})
    with pytest.raises(SpecError, match=r"parameters \(about .* GiB to train\), more than the .* allowed; use fewer or smaller layers"):
        build_model(huge, (16384,), "regression", 1)


def test_shape_problems_carry_the_path_of_the_layer_that_does_not_fit():
    spec = parse_spec({"layers": [
        {"type": "dense", "units": 8}, {"type": "lstm"},
        {"type": "residual", "layers": [{"type": "dense", "units": 8},
                                        {"type": "residual", "layers": [{"type": "conv2d"}]}]}]})
    with pytest.raises(SpecError) as caught:
        layer_table(spec, (4,), "binary", 2)
    found = caught.value.spec_problems  # every layer that does not fit, at once
    assert [(p.path, p.layer_type) for p in found] == [
        (("layers", 1), "lstm"), (("layers", 2, "layers", 1, "layers", 0), "conv2d")]
    assert found[1].text.startswith("layers[2].layers[1].layers[0] (conv2d): conv2d needs image input")
    assert caught.value.problems == [p.text for p in found]


def test_autoencoder_problems_name_the_decoder_layer_or_the_encoder_layer_a_mirror_cannot_copy():
    spec = parse_spec({"data": {"task": "autoencoder"}, "layers": [{"type": "dense", "units": 8}],
                       "autoencoder": {"mirror_decoder": False, "decoder": [{"type": "dense", "units": 8},
                                                                           {"type": "conv2d"}]}})
    with pytest.raises(SpecError) as caught:
        layer_table(spec, (4,), "autoencoder", 4)
    assert [p.path for p in caught.value.spec_problems] == [("autoencoder", "decoder", 1)]
    mirrored = parse_spec({"data": {"task": "autoencoder"}, "layers": [{"type": "dense", "units": 8}, {"type": "lstm"}]})
    with pytest.raises(SpecError, match="mirror_decoder copies only") as caught:
        layer_table(mirrored, (4,), "autoencoder", 4)
    assert [(p.path, p.layer_type) for p in caught.value.spec_problems] == [(("layers", 1), "lstm")]


def test_too_many_parameters_is_a_problem_of_the_whole_stack():
    huge = parse_spec({"layers": [{"type": "dense", "units": 16384}] * 4})
    with pytest.raises(SpecError) as caught:
        build_model(huge, (16384,), "regression", 1)
    (problem,) = caught.value.spec_problems
    assert problem.path == ("layers",) and str(caught.value).startswith("layers: the network has ")
