"""The generated training script: standalone, readable, and the same model, split, features and score as the app.

Oracles: the bundle's own weights and outputs (the generated `Net` loads them in order), the app's
`PreparedData` arrays (the script's split and encoding), the bundle's test metric (the script's run),
and `nnbuilder.model.compile.build_model` for every layer type (parameter count, same start, same outputs).
Two subprocess runs (customers, diabetes) prove the script works with nnbuilder unimportable; the
other checks import the generated file as a module.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnbuilder.export.script import writer as export_script
from nnbuilder.export.script import layers as export_script_layers
from nnbuilder.export.script import train as export_script_train
from nnbuilder.bundle.bundle import load_bundle, save_bundle
from nnbuilder.model.compile import build_model
from nnbuilder.data.pipeline import load_table
from nnbuilder.errors import ExportError, NNBuilderError
from nnbuilder.export.formats import export_bundle
from nnbuilder.layers import ACTIVATIONS, LAYERS, make_activation
from nnbuilder.train.optim import OPTIMIZERS, SCHEDULES, make_optimizer, make_schedule
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec

CASES = {  # name -> (dataset, data section, layers, training, input)
    "churn": ("customers", {"target": "churned"},
              [{"type": "dense", "units": 16}, {"type": "dropout", "rate": 0.2}, {"type": "dense", "units": 8}],
              {"epochs": 15, "learning_rate": 0.01}, None),
    "diabetes": ("diabetes", {"target": "progression"},
                 [{"type": "dense", "units": 16, "activation": "tanh"}, {"type": "batchnorm"}],
                 {"epochs": 12, "learning_rate": 0.02, "optimizer": "sgd", "lr_schedule": "cosine",
                  "weight_decay": 1e-4, "l1": 1e-4}, None),
    "iris": ("iris", {"target": "species"}, [{"type": "dense", "units": 8}, {"type": "layernorm"}],
             {"epochs": 8, "learning_rate": 0.02, "optimizer": "rmsprop", "lr_schedule": "step",
              "early_stopping_patience": 2}, None),
    "two_targets": ("diabetes", {"target": ["progression", "bmi"], "split": {"train": 0.8, "val": 0.0, "test": 0.2}},
                    [{"type": "dense", "units": 8}], {"epochs": 5, "optimizer": "adamw",
                                                      "lr_schedule": "reduce_on_plateau"}, None),
    # regression on a table with categories, yes/no, dates and missing values
    "charges": ("customers", {"target": "monthly_charges"},
                [{"type": "dense", "units": 16}, {"type": "dropout", "rate": 0.1}],
                {"epochs": 10, "learning_rate": 0.01}, None),
    "rentals": ("rentals", {"target": "rent"},  # categorical embeddings + a residual block
                [{"type": "dense", "units": 16}, {"type": "residual", "layers": [{"type": "dense", "units": 16}]}],
                {"epochs": 6, "learning_rate": 0.01}, {"kind": "tabular", "categorical": "embedding"}),
    "digits": ("digits", {"target": "digit"},
               [{"type": "conv2d", "filters": 4}, {"type": "maxpool2d"}, {"type": "flatten"},
                {"type": "dense", "units": 16}], {"epochs": 3, "learning_rate": 0.01}, {"kind": "image"}),
}
METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "r2", "multi_regression": "r2"}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """name -> (raw table, TrainedModel, Bundle, script path, generated module), built once on first use."""
    cache, root = {}, tmp_path_factory.mktemp("export_script")

    def get(name):
        if name not in cache:
            dataset, data, layers, training, input_ = CASES[name]
            df, _ = load_table(f"sample:{dataset}")
            spec = parse_spec({"data": data, "layers": layers, "training": training,
                               **({"input": input_} if input_ else {})})
            trained = train_from_spec(df, spec, device="cpu")
            bundle = load_bundle(save_bundle(trained, root / name))
            script = export_bundle(bundle, "python", root / f"train_{name}.py")
            cache[name] = (df, trained, bundle, script, _import(script, f"generated_{name}"))
        return cache[name]

    return get


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the file itself ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["churn", "diabetes", "digits"])
def test_script_is_standalone_readable_python(made, name):
    _, _, _, script, _ = made(name)
    source = script.read_text(encoding="utf-8")
    tree = ast.parse(source)  # compiles
    compile(source, script.name, "exec")
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"argparse", "copy", "json", "math", "warnings", "pathlib", "joblib", "numpy", "pandas",
                        "torch", "sklearn"}, imported
    assert "nnbuilder" not in imported
    lines = source.splitlines()
    assert max(len(line) for line in lines) <= 110
    explained = sum(len(ast.get_docstring(node, clean=False).splitlines()) for node in ast.walk(tree)
                    if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node))
    explained += sum("#" in line for line in lines)
    assert explained / sum(bool(line.strip()) for line in lines) > 0.25  # commented like a tutorial
    assert ast.get_docstring(tree).startswith("Train your nnbuilder network")
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert all(ast.get_docstring(f) or f.name in {"split_once", "loss_function", "loss_target", "main",
                                                   "mean_loss"} for f in functions)
    assert "class Net(nn.Module):" in source and "nn.Sequential" not in source


def test_network_is_written_out_layer_by_layer(made):
    _, _, bundle, script, _ = made("churn")
    source = script.read_text(encoding="utf-8")
    n_features = len(bundle.meta["feature_names"])
    assert f"self.hidden1 = nn.Linear({n_features}, 16)" in source
    assert "self.dropout2 = nn.Dropout(0.2)" in source
    assert "x = torch.relu(self.hidden3(x))  # (batch, 8)" in source
    assert "self.output = nn.Linear(8, 1)" in source


# ---- same data, same model, same score ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["churn", "diabetes", "iris", "two_targets", "rentals", "digits"])
def test_script_splits_and_encodes_like_the_app(made, name):
    df, trained, _, _, module = made(name)
    data, prepared = module.prepare_data(df), trained.prepared
    for split in ("train", "val", "test"):
        np.testing.assert_allclose(data[f"X_{split}"], getattr(prepared, f"X_{split}"), atol=1e-6)
        np.testing.assert_allclose(data[f"y_{split}"], getattr(prepared, f"y_{split}"), atol=1e-6)
    assert data["classes"] == prepared.classes
    if prepared.target_mean is not None:
        np.testing.assert_allclose(data["target_mean"], prepared.target_mean)


def test_idle_hour_part_is_left_out_like_the_app(made):
    _, trained, _, _, module = made("churn")
    assert "signup_date_hour" not in module.NUMERIC_FEATURES  # every signup is at midnight
    assert module.NUMERIC_FEATURES + module.CATEGORY_FEATURES == list(trained.prepared.preprocessor.feature_names_in_)


@pytest.mark.parametrize("name", ["churn", "diabetes", "iris", "two_targets", "rentals", "digits"])
def test_generated_net_takes_the_bundle_weights_in_order(made, name):
    _, trained, bundle, _, module = made(name)
    torch.manual_seed(bundle.spec.training.seed)
    net = module.Net()
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in bundle.model.parameters())
    values = list(bundle.model.state_dict().values())
    net.load_state_dict(dict(zip(net.state_dict(), values)))
    net.eval()
    x = torch.as_tensor(trained.prepared.X_test)
    with torch.no_grad():
        torch.testing.assert_close(net(x), bundle.model(x))


@pytest.mark.parametrize("name", ["iris", "two_targets", "rentals", "digits"])
def test_script_training_reproduces_the_app_in_process(made, name):
    df, trained, bundle, _, module = made(name)
    data = module.prepare_data(df)
    torch.manual_seed(module.SEED)
    model = module.train(module.Net(), data, torch.device("cpu"))
    result = module.test_metrics(model, data, torch.device("cpu"))
    metric = METRIC[bundle.task]
    assert result[metric] == pytest.approx(bundle.metrics["metrics"]["test"][metric], abs=0.03)
    assert result["n"] == bundle.metrics["metrics"]["test"]["n"]


@pytest.mark.parametrize("name", ["churn", "charges"])
def test_running_the_script_without_nnbuilder_matches_the_app(made, name, tmp_path):
    df, _, bundle, script, module = made(name)
    csv = tmp_path / "data.csv"
    df.to_csv(csv, index=False)
    # nnbuilder is installed in this venv, so block it outright: any `import nnbuilder` would fail.
    runner = ("import runpy, sys; sys.modules['nnbuilder'] = None; sys.argv = sys.argv[1:]; "
              "runpy.run_path(sys.argv[0], run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", runner, str(script), str(csv), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    metric = METRIC[bundle.task]
    assert result["test"][metric] == pytest.approx(bundle.metrics["metrics"]["test"][metric], abs=0.03)
    weights = torch.load(tmp_path / "out" / "weights.pt", weights_only=True)
    module.Net().load_state_dict(weights)  # the saved weights fit the generated module
    assert (tmp_path / "out" / "preprocessing.joblib").stat().st_size > 0


def test_script_names_a_missing_column(made):
    df, _, _, _, module = made("churn")
    with pytest.raises(SystemExit, match=r"lacks 1 column\(s\).*'age'"):
        module.prepare_data(df.drop(columns=["age"]))


# ---- optimizers, schedules, losses: the script's against nnbuilder.train.optim -------------------------------

@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_optimizer_and_schedule_match_nnbuilder(made, optimizer, schedule):
    _, _, bundle, _, _ = made("iris")
    training = bundle.spec.training.model_copy(update={"optimizer": optimizer, "lr_schedule": schedule,
                                                       "epochs": 9, "early_stopping_patience": 6})
    fake = SimpleNamespace(spec=bundle.spec.model_copy(update={"training": training}), meta=bundle.meta,
                           metrics=bundle.metrics, preprocessing=bundle.preprocessing)
    namespace = {}
    exec(compile(export_script.script_source(fake), "generated", "exec"), namespace)
    model = namespace["Net"]()
    ours = namespace["make_optimizer"](model, torch.device("cpu"))
    theirs = make_optimizer(optimizer, model.parameters(), training.learning_rate, training.weight_decay,
                            training.momentum)
    assert type(ours) is type(theirs) and ours.defaults == theirs.defaults
    ours_schedule, theirs_schedule = namespace["make_schedule"](ours), make_schedule(schedule, theirs, 9, 6)
    assert type(ours_schedule) is type(theirs_schedule)
    if theirs_schedule is not None:
        keep = {"optimizer", "_get_lr_called_within_step", "_last_lr", "_is_initial", "_step_count"}
        assert {k: v for k, v in vars(ours_schedule).items() if k not in keep} == \
               {k: v for k, v in vars(theirs_schedule).items() if k not in keep}


def test_every_optimizer_schedule_and_task_has_code():
    assert set(export_script_train.OPTIMIZER_CODE) == set(OPTIMIZERS)
    assert set(export_script_train.SCHEDULE_CODE) == set(SCHEDULES)
    assert set(export_script_train.LOSS_CODE) == set(METRIC)


# ---- every layer type: against nnbuilder.model.compile -------------------------------------------------------

LAYER_CASES = [  # (input shape, layers): every layer type with an emitter, in the shapes it accepts
    ((5,), [{"type": "dense", "units": 8, "activation": "selu"}, {"type": "dropout"}, {"type": "batchnorm"},
            {"type": "layernorm"}, {"type": "activation", "function": "gelu"}]),
    ((1, 8, 8), [{"type": "conv2d", "filters": 4, "kernel_size": 2}, {"type": "maxpool2d"}, {"type": "batchnorm"},
                 {"type": "layernorm"}, {"type": "conv2d", "filters": 3, "padding": "valid", "stride": 2},
                 {"type": "avgpool2d", "pool_size": 1}, {"type": "global_avg_pool"}]),
    ((3, 6, 6), [{"type": "conv2d", "filters": 4, "activation": "leaky_relu"}, {"type": "flatten"},
                 {"type": "dense", "units": 5}]),
    ((1, 8, 8), [{"type": "conv2d", "filters": 2}, {"type": "dense", "units": 3, "activation": "elu"}]),
    ((12,), [{"type": "conv1d", "filters": 4, "kernel_size": 4}, {"type": "maxpool1d"}, {"type": "batchnorm"},
             {"type": "layernorm"},
             {"type": "lstm", "units": 5, "return_sequences": True, "layers": 2, "dropout": 0.1},
             {"type": "gru", "units": 3, "bidirectional": True, "return_sequences": True},
             {"type": "rnn", "units": 3, "bidirectional": True}]),
    ((12,), [{"type": "conv1d", "filters": 8, "padding": "valid", "activation": "softplus"},
             {"type": "avgpool1d", "stride": 1},
             {"type": "transformer_encoder", "heads": 2, "model_dim": 8, "ff_dim": 16, "blocks": 1,
              "positional_encoding": "learned", "pooling": "cls"}]),
    ((12,), [{"type": "conv1d", "filters": 6, "activation": "sigmoid"},
             {"type": "conv1d", "filters": 4, "kernel_size": 2},
             {"type": "transformer_encoder", "heads": 2, "model_dim": 8, "ff_dim": 16, "pooling": "none"},
             {"type": "global_avg_pool"}]),
    ((12,), [{"type": "conv1d", "filters": 8},
             {"type": "transformer_encoder", "heads": 2, "model_dim": 8, "ff_dim": 16, "pooling": "last",
              "positional_encoding": "none"},
             {"type": "dense", "units": 4}]),
    ((12,), [{"type": "conv1d", "filters": 8},
             {"type": "transformer_encoder", "heads": 2, "model_dim": 8, "ff_dim": 16, "pooling": "none"},
             {"type": "lstm", "units": 4, "bidirectional": True, "layers": 2}]),
    # a table row read as one token per column
    ((7,), [{"type": "transformer_encoder", "heads": 2, "model_dim": 8, "ff_dim": 16, "pooling": "cls",
             "positional_encoding": "learned"}, {"type": "dense", "units": 4}]),
    # residual blocks: identity and linear skips, nested blocks, a per-step and a strided 1x1 conv projection
    ((6,), [{"type": "residual", "layers": [{"type": "dense", "units": 6}, {"type": "dropout", "rate": 0.1}]},
            {"type": "residual", "layers": [{"type": "dense", "units": 4},
                                            {"type": "residual", "layers": [{"type": "dense", "units": 4}]}]}]),
    ((1, 8, 8), [{"type": "conv2d", "filters": 4},
                 {"type": "residual", "layers": [{"type": "conv2d", "filters": 6, "stride": 2}]},
                 {"type": "residual", "layers": [{"type": "flatten"}, {"type": "dense", "units": 5}]}]),
    ((12,), [{"type": "conv1d", "filters": 3},
             {"type": "residual", "layers": [{"type": "lstm", "units": 5, "return_sequences": True}]}]),
]
TASKS = [("multiclass", 3), ("binary", 1), ("regression", 1), ("multi_regression", 2)]


def _generated(layers, shape, task, n_outputs):
    spec = parse_spec({"layers": layers})
    namespace = {"torch": torch, "nn": nn, "F": F, "math": math}
    source = export_script_layers.network_source(spec, shape, task, n_outputs)
    assert max(len(line) for line in source.splitlines()) <= 110
    exec(compile(source, "net", "exec"), namespace)
    return spec, namespace["Net"]


@pytest.mark.parametrize("case", range(len(LAYER_CASES)))
def test_every_layer_type_matches_the_compiled_model(case):
    shape, layers = LAYER_CASES[case]
    task, n_outputs = TASKS[case % len(TASKS)]
    spec, net_class = _generated(layers, shape, task, n_outputs)
    torch.manual_seed(3)
    reference = build_model(spec, shape, task, n_outputs)
    torch.manual_seed(3)
    net = net_class()
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in reference.parameters())
    ours, theirs = net.state_dict(), reference.state_dict()
    assert [v.shape for v in ours.values()] == [v.shape for v in theirs.values()]
    assert all(torch.equal(a, b) for a, b in zip(ours.values(), theirs.values()))  # the same seeded start
    x = torch.randn(4, *shape)
    net.load_state_dict({k: torch.rand_like(v) + 0.5 if v.is_floating_point() else v  # variances > 0
                         for k, v in ours.items()})
    reference.load_state_dict(dict(zip(theirs, net.state_dict().values())))  # random weights, loaded in order
    net.eval(), reference.eval()
    torch.testing.assert_close(net(x), reference(x))


def test_every_emitter_is_exercised():
    used = {layer["type"] for _, layers in LAYER_CASES for layer in layers}
    assert used == set(export_script_layers.EMITTERS)
    assert set(export_script_layers.EMITTERS) <= set(LAYERS)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_code_computes_what_the_module_does(name):
    x = torch.linspace(-5, 5, 41)
    code = export_script_layers.activate(name, "x")
    torch.testing.assert_close(eval(code, {"torch": torch, "F": F, "x": x}), make_activation(name)(x))


# ---- what the script export refuses ---------------------------------------------------------------------

def test_layer_type_without_emitter_is_named(monkeypatch):
    monkeypatch.delitem(export_script_layers.EMITTERS, "dropout")
    with pytest.raises(ExportError, match=r"layers\[1\] \(dropout\): the script export has no code"):
        _generated([{"type": "dense"}, {"type": "dropout"}], (4,), "binary", 1)


def test_unknown_activation_is_named(monkeypatch):
    monkeypatch.delitem(export_script_layers.ACTIVATION_CODE, "tanh")
    with pytest.raises(ExportError, match="activation 'tanh'"):
        _generated([{"type": "dense", "activation": "tanh"}], (4,), "binary", 1)


def test_optimizer_without_code_is_named(made, monkeypatch, tmp_path):
    monkeypatch.delitem(export_script_train.OPTIMIZER_CODE, "adam")
    with pytest.raises(ExportError, match="optimizer 'adam'"):
        export_bundle(made("churn")[2], "python", tmp_path / "t.py")
    assert not list(tmp_path.iterdir())


def test_autoencoder_bundle_is_refused(tmp_path):
    df, _ = load_table("sample:iris")
    spec = parse_spec({"data": {"task": "autoencoder"}, "layers": [{"type": "dense", "units": 4}],
                       "training": {"epochs": 1}})
    bundle = load_bundle(save_bundle(train_from_spec(df.drop(columns=["species"]), spec, device="cpu"),
                                     tmp_path / "ae"))
    with pytest.raises(ExportError, match="supervised tabular and image models.*--format torchscript"):
        export_bundle(bundle, "python", tmp_path / "ae.py")
    assert not (tmp_path / "ae.py").exists()


@pytest.mark.parametrize("task, kind", [("gan", "tabular"), ("forecast", "sequence"), ("binary", "sequence"),
                                        ("regression", "sequence")])
def test_sequence_and_gan_bundles_are_refused(task, kind, tmp_path):
    fake = SimpleNamespace(meta={"task": task, "input_kind": kind}, spec=None)
    with pytest.raises(ExportError, match=f"supervised tabular and image models.*{kind} input.*torchscript") as info:
        export_bundle(fake, "python", tmp_path / "x.py")
    assert isinstance(info.value, NNBuilderError) and "\n" not in str(info.value)


def test_export_writes_atomically_into_a_new_folder(made, tmp_path):
    out = export_bundle(made("churn")[2], "python", tmp_path / "new" / "deeper" / "train_model.py")
    assert out == tmp_path / "new" / "deeper" / "train_model.py" and out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["train_model.py"]  # no temp file left behind
    assert "python train_model.py data.csv" in out.read_text(encoding="utf-8")


def test_unknown_preprocessing_step_is_named(made, tmp_path):
    bundle = made("churn")[2]
    preprocessing = SimpleNamespace(columns=bundle.preprocessing.columns,
                                    feature_columns=bundle.preprocessing.feature_columns,
                                    preprocessor=SimpleNamespace(transformers_=[("hashed", None, ["plan"])]))
    fake = SimpleNamespace(spec=bundle.spec, meta=bundle.meta, metrics=bundle.metrics, preprocessing=preprocessing)
    with pytest.raises(ExportError, match="preprocessing step 'hashed'"):
        export_bundle(fake, "python", tmp_path / "t.py")
