"""The 'internals' probe: gradient and weight norms against autograd, histograms, dead ReLUs, flags, the lr."""

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nnbuilder.train import probes
from nnbuilder.model.compile import build_model, layer_table
from nnbuilder.data.pipeline import load_table
from nnbuilder.tasks import prepare
from nnbuilder.train.probes import ProbeRunner, make_probes
from nnbuilder.spec.network import parse_spec
from nnbuilder.views.internals import (BINS, PROBE_ROWS, InternalsProbe, _widen, gradient_flags,
                                       make_internals_probe)
from nnbuilder.runs.workflow import train_from_spec

PRESETS = Path(__file__).resolve().parents[2] / "assets" / "presets"


def _spec(layers, target="label", **training):
    settings = {"epochs": 4, "learning_rate": 0.01, "early_stopping_patience": 0, "seed": 0, **training}
    return parse_spec({"data": {"target": target}, "layers": layers, "training": settings})


MLP = [{"type": "dense", "units": 16}, {"type": "dropout", "rate": 0.2}, {"type": "batchnorm"},
       {"type": "dense", "units": 8, "activation": "relu"}]


@pytest.fixture(scope="module")
def moons():
    return load_table("sample:moons")[0]


@pytest.fixture(scope="module")
def trained(moons):
    return train_from_spec(moons, _spec(MLP, epochs=3))


@pytest.fixture
def every_epoch(monkeypatch):
    """Collect after every epoch whatever the budget says, so the history is predictable."""
    monkeypatch.setattr(ProbeRunner, "due", lambda self, seconds: bool(self.probes))


@pytest.fixture
def one_thread():
    """Many tiny collections: on a busy 2-core box two threads per op wait on each other (10-100× slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _probe(spec, prepared) -> InternalsProbe:
    probe = make_probes(["internals"], spec, prepared)
    assert len(probe) == 1 and probe[0].name == "internals"
    return probe[0]


def _layer(views, name):
    return next(layer for layer in views["layers"] if layer["name"] == name)


def test_gradient_and_weight_norms_match_autograd(trained):
    probe = _probe(trained.spec, trained.prepared)
    model = trained.model
    oracle = copy.deepcopy(model).eval()  # the hand computation, on its own copy
    views = probe.collect(model, 3, {"lr": 0.01})
    assert all(p.grad is None for p in model.parameters())  # nothing left for the optimizer

    x = torch.as_tensor(probe.x_rows, dtype=torch.float32)
    y = torch.as_tensor(probe.y_rows).float().unsqueeze(1)
    assert len(x) == min(PROBE_ROWS, len(trained.prepared.X_train))
    weights = {"1. dense": oracle[0][0].weight, "4. dense": oracle[3][0].weight, "Output": oracle[4].weight}
    grads = torch.autograd.grad(nn.BCEWithLogitsLoss()(oracle(x), y), list(weights.values()))
    assert [layer["name"] for layer in views["layers"]] == list(weights)  # dropout and batchnorm hold no weight
    for (name, weight), grad in zip(weights.items(), grads):
        layer = _layer(views, name)
        assert math.isfinite(layer["grad_norm"][-1]) and layer["grad_norm"][-1] > 0
        assert layer["grad_norm"][-1] == pytest.approx(float(grad.norm()), rel=1e-3)
        assert layer["weight_norm"][-1] == pytest.approx(float(weight.detach().norm()), rel=1e-3)
        assert layer["ratio"][-1] == pytest.approx(float(grad.norm() / weight.detach().norm()), rel=2e-3)
        assert layer["weights"] == weight.numel()


def test_histograms_count_every_weight_on_a_power_of_two_range(trained):
    views = _probe(trained.spec, trained.prepared).collect(trained.model, 1, {"lr": 0.01})
    first = views["layers"][0]
    weight = trained.model[0][0].weight.detach()
    assert len(first["weight_hist"][-1]) == BINS
    assert sum(first["weight_hist"][-1]) == sum(first["grad_hist"][-1]) == weight.numel()
    top = float(weight.abs().max())
    assert top <= first["weight_range"] < 2 * top and math.log2(first["weight_range"]).is_integer()
    expected, _ = np.histogram(weight.numpy(), bins=BINS, range=(-first["weight_range"], first["weight_range"]))
    assert first["weight_hist"][-1] == expected.tolist()


def test_a_widened_range_rebins_older_histograms_exactly():
    values = np.random.default_rng(0).uniform(-0.9, 0.9, 5000)
    narrow, _ = np.histogram(values, bins=BINS, range=(-1, 1))
    wide, _ = np.histogram(values, bins=BINS, range=(-4, 4))
    assert _widen(narrow.tolist(), 2) == wide.tolist()


def test_views_do_not_change_the_trained_weights(moons, every_epoch):
    plain = train_from_spec(moons, _spec(MLP))
    seen = train_from_spec(moons, _spec(MLP), views=["internals"])
    assert seen.fit.views["internals"]["epochs"] == [1, 2, 3, 4]
    for (name, a), b in zip(plain.model.state_dict().items(), seen.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)  # batch-norm statistics included


def test_learning_rate_follows_a_step_schedule(moons, every_epoch):
    run = train_from_spec(moons, _spec(MLP, epochs=6, lr_schedule="step"), views=["internals"])
    views = run.fit.views["internals"]
    assert views["schedule"] == "step" and views["epochs"] == [1, 2, 3, 4, 5, 6]
    assert views["lr"] == [row["lr"] for row in run.fit.history]
    assert views["lr"] == pytest.approx([0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001])


def test_dead_relus_are_measured_and_flagged(moons):
    spec = _spec([{"type": "dense", "units": 8, "activation": "relu"}])
    prepared = prepare(moons, spec.data, seed=0, input=spec.input)
    torch.manual_seed(0)
    model = build_model(spec, prepared.input_shape, prepared.task, prepared.n_outputs).eval()
    with torch.no_grad():
        model[0][0].bias[:4] = -100.0  # these four units are negative for every row
    probe = _probe(spec, prepared)
    views = probe.collect(model, 1, {"lr": 0.01})
    hidden = model[0](torch.as_tensor(probe.x_rows))  # oracle: units never positive on the probe rows
    expected = float((hidden > 0).any(dim=0).logical_not().float().mean())
    assert expected >= 0.5 and _layer(views, "1. dense")["dead"][-1] == pytest.approx(expected, abs=1e-4)
    assert any("ReLU units are dead" in flag for flag in views["flags"]) == (expected > 0.5)
    with torch.no_grad():
        model[0][0].bias[:] = -100.0
    views = probe.collect(model, 2, {"lr": 0.01})
    layer = _layer(views, "1. dense")
    assert layer["dead"][-1] == 1.0 and layer["relu_units"] == 8
    assert any(flag.startswith("layer 1. dense: 100% of its ReLU units are dead") and "leaky_relu" in flag
               for flag in views["flags"])
    assert layer["grad_norm"][-1] == 0.0  # a dead layer passes no gradient to its weights


def test_a_deep_sigmoid_stack_is_flagged_for_vanishing_gradients(moons):
    deep = _spec([{"type": "dense", "units": 16, "activation": "sigmoid"}] * 10, epochs=2)
    views = train_from_spec(moons, deep, views=["internals"]).fit.views["internals"]
    flags = [f for f in views["flags"] if "vanishing gradients" in f]
    assert len(flags) == 1 and "1. dense" in flags[0] and "relu/leaky_relu" in flags[0]
    norms = [layer["grad_norm"][-1] for layer in views["layers"]]
    assert norms[0] < 1e-5 * max(norms)  # the flag's own rule, checked on the numbers it read


def test_a_healthy_relu_network_raises_no_flag(trained):
    assert _probe(trained.spec, trained.prepared).collect(trained.model, 1, {"lr": 0.01})["flags"] == []


def _views(norms, epochs=(1, 2), lr=0.1):
    return {"epochs": list(epochs), "lr": [lr] * len(epochs),
            "layers": [{"name": name, "grad_norm": series, "dead": [None] * len(series)}
                       for name, series in norms.items()]}


def test_exploding_gradients_are_flagged_with_a_lower_learning_rate():
    (flag,) = gradient_flags(_views({"1. dense": [1.0, 5e3], "Output": [1.0, 2e3]}))
    assert "exploding" in flag and "1. dense, Output" in flag and "lower the learning rate (e.g. to 0.01)" in flag
    (flag,) = gradient_flags(_views({"1. dense": [0.5, 40.0], "Output": [1.0, 2.0]}))
    assert "1. dense: the gradients are exploding" in flag and "growing 80× per epoch" in flag
    # 10× over two epochs is ~3× per epoch; a tiny gradient waking up is no explosion
    assert gradient_flags(_views({"1. dense": [1.0, 10.0], "Output": [1.0, 2.0]}, epochs=(1, 3))) == []
    assert gradient_flags(_views({"1. dense": [1e-4, 1e-2], "Output": [1e-2, 2e-2]})) == []


def test_flags_of_nothing_are_empty():
    assert gradient_flags({}) == [] and gradient_flags({"layers": []}) == []
    assert gradient_flags(_views({"1. dense": [None]}, epochs=(1,))) == []


def test_the_final_collection_replaces_its_epoch(trained):
    probe = _probe(trained.spec, trained.prepared)
    probe.collect(trained.model, 1, {"lr": 0.01})
    probe.collect(trained.model, 2, {"lr": 0.01})
    views = probe.collect(trained.model, 2, {"lr": 0.001})  # best weights, shown as the last epoch
    assert views["epochs"] == [1, 2] and views["lr"] == [0.01, 0.001]
    assert all(len(layer["grad_norm"]) == 2 for layer in views["layers"])
    views = probe.collect(copy.deepcopy(trained.model), 1, {"lr": 0.01})  # another model: a history of its own
    assert views["epochs"] == [1] and all(len(layer["grad_norm"]) == 1 for layer in views["layers"])


def test_history_is_thinned_and_its_json_stays_small(moons, one_thread):
    spec = _spec([{"type": "dense", "units": 32, "activation": "tanh"}] * 12)
    prepared = prepare(moons, spec.data, seed=0, input=spec.input)
    model = build_model(spec, prepared.input_shape, prepared.task, prepared.n_outputs)
    probe = _probe(spec, prepared)
    for epoch in range(1, 111):
        with torch.no_grad():
            model[0][0].weight.mul_(1.03)  # growing weights widen the range again and again
        views = probe.collect(model, epoch, {"lr": 0.01})
    text = json.dumps(views, allow_nan=False)
    assert len(text) < 300_000
    assert views["epochs"][0] == 1 and views["epochs"][-1] == 110 and len(views["epochs"]) <= 600 // 13
    assert views["epochs"] == sorted(set(views["epochs"]))
    layer = views["layers"][0]
    assert all(sum(h) == layer["weights"] for h in layer["weight_hist"])  # every kept histogram, re-binned
    views["layers"][0]["grad_norm"].append(1.0)  # the page gets copies: the probe's history is its own
    views["layers"][0]["weight_hist"][0][0] += 5
    again = probe.views()["layers"][0]
    assert len(again["grad_norm"]) == len(views["epochs"]) and sum(again["weight_hist"][0]) == layer["weights"]


def test_the_gan_gets_no_probe():
    df, _ = load_table("sample:people")
    spec = parse_spec(json.loads((PRESETS / "gan_synthetic_rows.json").read_text()))
    prepared = prepare(df, spec.data, seed=0, input=spec.input)
    assert prepared.task == "gan" and make_internals_probe(spec, prepared) is None
    assert make_probes(["internals"], spec, prepared) == []


def test_unknown_probe_name_is_refused():
    import nnbuilder.views  # noqa: F401  (importing the views registers their probes)
    assert "internals" in probes.PROBES
    with pytest.raises(ValueError, match="registered: .*internals"):
        make_probes(["internal"], None, None)


@pytest.mark.parametrize("preset, dataset, expect", [
    ("cnn_digits.json", "digits", "conv2d"),
    ("lstm_timeseries.json", "sales", "lstm"),
    ("transformer_timeseries.json", "sales", "transformer_encoder"),
    ("autoencoder_anomalies.json", "transactions", "latent"),
])
def test_every_input_kind_gets_named_finite_layers(preset, dataset, expect):
    df, _ = load_table(f"sample:{dataset}")
    spec = parse_spec(json.loads((PRESETS / preset).read_text()))
    prepared = prepare(df, spec.data, seed=0, input=spec.input)
    torch.manual_seed(0)
    model = build_model(spec, prepared.input_shape, prepared.task, prepared.n_outputs,
                        embeddings=prepared.embedding_levels)
    views = _probe(spec, prepared).collect(model, 1, {"lr": 0.01})
    names = [row.name for row in layer_table(spec, prepared.input_shape, prepared.task, prepared.n_outputs)]
    assert [layer["name"] for layer in views["layers"]] == [n for n in names if n in {l["name"] for l in views["layers"]}]
    assert expect in {layer["kind"] for layer in views["layers"]} and views["layers"][-1]["name"] == "Output"
    for layer in views["layers"]:
        assert math.isfinite(layer["grad_norm"][-1]) and layer["grad_norm"][-1] > 0, layer["name"]
        assert sum(layer["weight_hist"][-1]) == layer["weights"]
    assert all(p.grad is None for p in model.parameters())


def test_embedded_categories_are_a_layer_of_their_own():
    df, _ = load_table("sample:customers")
    spec = parse_spec({"data": {"target": "churned"}, "input": {"kind": "tabular", "categorical": "embedding",
                                                                "embedding_min_levels": 2},
                       "layers": [{"type": "dense", "units": 8}], "training": {"epochs": 1}})
    prepared = prepare(df, spec.data, seed=0, input=spec.input)
    assert prepared.embedding_levels, "the customers table should embed its categories"
    model = build_model(spec, prepared.input_shape, prepared.task, prepared.n_outputs,
                        embeddings=prepared.embedding_levels)
    views = _probe(spec, prepared).collect(model, 1, {"lr": 0.01})
    assert [layer["name"] for layer in views["layers"]] == ["Embeddings", "1. dense", "Output"]
    assert _layer(views, "Embeddings")["weights"] == sum(t.weight.numel() for t in model[0].tables)
