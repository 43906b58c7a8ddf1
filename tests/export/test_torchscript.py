"""TorchScript export and the model card: the file reproduces the network; the card tells the truth."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from nnbuilder.bundle.bundle import load_bundle, save_bundle
from nnbuilder.cli.main import main
from nnbuilder.data.pipeline import load_table
from nnbuilder.errors import ExportError
from nnbuilder.export.formats import export_bundle
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec


def _bundle(folder, dataset, spec):
    df, _ = load_table(f"sample:{dataset}")
    trained = train_from_spec(df, parse_spec(spec))
    return df, trained, load_bundle(save_bundle(trained, folder / dataset))


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    return _bundle(tmp_path_factory.mktemp("c"), "customers", {
        "data": {"target": "churned"}, "layers": [{"type": "dense", "units": 16}, {"type": "dropout", "rate": 0.2}],
        "training": {"epochs": 8, "learning_rate": 0.01}})


@pytest.fixture(scope="module")
def rentals(tmp_path_factory):
    return _bundle(tmp_path_factory.mktemp("r"), "rentals", {
        "data": {"target": "rent"}, "input": {"kind": "tabular", "categorical": "embedding"},
        "layers": [{"type": "residual", "layers": [{"type": "dense", "units": 16}]}],
        "training": {"epochs": 5, "learning_rate": 0.01}})


def _load(path):
    extra = {"preprocessing.json": "", "model_card.md": ""}
    module = torch.jit.load(str(path), _extra_files=extra)
    return module, json.loads(extra["preprocessing.json"]), extra["model_card.md"].decode()


def test_classifier_file_reproduces_bundle_probabilities_from_the_json_recipe(tmp_path, churn):
    df, trained, bundle = churn
    module, info, card = _load(export_bundle(bundle, "torchscript", tmp_path / "m.pt", check_rows=df))
    assert info["task"] == "binary" and info["classes"] == bundle.classes and card == bundle.card
    rows = df.head(40)
    logits = module(torch.from_numpy(bundle.preprocessing.transform(rows))).detach().numpy()[:, 0]
    p_yes = 1 / (1 + np.exp(-logits))  # the output contract: sigmoid(logit) is classes[1]
    expected = bundle.predict(rows)[f"probability_{bundle.classes[1]}"].to_numpy()
    np.testing.assert_allclose(p_yes, expected, atol=1e-5)
    numeric = info["tabular"]["numeric"]
    assert numeric["columns"][0] == "age" and len(numeric["mean"]) == len(numeric["columns"])


def test_regression_with_embeddings_and_residual_in_original_units(tmp_path, rentals):
    df, trained, bundle = rentals
    module, info, _ = _load(export_bundle(bundle, "torchscript", tmp_path / "r.pt"))  # probe rows only
    rows = df.head(25)
    out = module(torch.from_numpy(bundle.preprocessing.transform(rows))).detach().numpy()
    values = out[:, 0] * info["target_std"][0] + info["target_mean"][0]
    np.testing.assert_allclose(values, bundle.predict(rows)["prediction"].to_numpy(), rtol=1e-5)
    assert info["tabular"]["embedded"]["columns"] == ["neighbourhood"]


def test_regression_with_categories_and_gaps_in_original_units(tmp_path):
    df, _, bundle = _bundle(tmp_path, "customers", {
        "data": {"target": "monthly_charges"}, "layers": [{"type": "dense", "units": 8}], "training": {"epochs": 4}})
    assert df["monthly_charges"].isna().any() and df["plan"].isna().any()  # gaps in the target and the inputs
    module, info, _ = _load(export_bundle(bundle, "torchscript", tmp_path / "c.pt", check_rows=df))
    rows = df[df["monthly_charges"].notna()].head(40)
    out = module(torch.from_numpy(bundle.preprocessing.transform(rows))).detach().numpy()[:, 0]
    np.testing.assert_allclose(out * info["target_std"][0] + info["target_mean"][0],
                               bundle.predict(rows)["prediction"].to_numpy(), rtol=1e-5)
    assert "plan" in info["tabular"]["categorical"]["columns"]


def test_image_and_gan_models_export(tmp_path):
    _, _, digits = _bundle(tmp_path, "digits", {
        "data": {"target": "digit"}, "input": {"kind": "image"},
        "layers": [{"type": "conv2d", "filters": 4}, {"type": "global_avg_pool"}], "training": {"epochs": 1}})
    module, info, _ = _load(export_bundle(digits, "torchscript", tmp_path / "d.pt"))
    assert info["input"]["shape"] == ["N", 1, 8, 8] and info["image"]["pixel_max"] > 0
    _, _, gan = _bundle(tmp_path, "people", {"data": {"task": "gan"}, "layers": [{"type": "dense", "units": 16}],
                                             "training": {"epochs": 2}})
    assert "## Quality of the synthetic rows" in gan.card and "1,000 training rows" in gan.card
    module, info, _ = _load(export_bundle(gan, "torchscript", tmp_path / "g.pt"))
    noise = torch.randn(3, info["input"]["shape"][1])
    outputs = []
    for model in (module, gan.model):  # categories are sampled inside: same seed, same rows
        torch.manual_seed(1)
        outputs.append(model(noise))
    torch.testing.assert_close(*outputs)


def test_check_rows_that_do_not_fit_are_named(tmp_path, churn):
    _, _, bundle = churn
    with pytest.raises(ExportError, match="cannot be encoded"):
        export_bundle(bundle, "torchscript", tmp_path / "x.pt", check_rows=pd.DataFrame({"a": [1, 2]}))
    assert not (tmp_path / "x.pt").exists()
    with pytest.raises(ExportError, match="unknown export format 'tflite'; choose one of onnx, torchscript, python"):
        export_bundle(bundle, "tflite", tmp_path / "x")


def test_cli_export_writes_the_file_and_refuses_bad_input(tmp_path, churn, capsys):
    df, _, bundle = churn
    folder = tmp_path / "b"
    save_bundle(churn[1], folder)
    data = tmp_path / "rows.csv"
    df.head(30).to_csv(data, index=False)
    assert main(["export", str(folder), "--format", "torchscript", "--out", str(tmp_path / "c.pt"),
                 "--check-data", str(data)]) == 0
    assert (tmp_path / "c.pt").stat().st_size > 0 and "wrote" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing"), "--format", "torchscript"]) == 2
    assert capsys.readouterr().err.startswith("error: model bundle")
    result = subprocess.run([sys.executable, "-m", "nnbuilder", "export", str(folder), "--format", "keras"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice: 'keras'" in result.stderr


def test_card_states_data_architecture_training_metrics_and_limits(churn):
    _, trained, bundle = churn
    card = bundle.card
    assert card.startswith("# Model card: Binary classification of `churned`")
    for heading in ("## Data", "## Task and output", "## Architecture", "## Training", "## Metrics", "## Warnings",
                    "## Intended use and limits", "## How to use"):
        assert heading in card
    test = trained.metrics["test"]
    assert f"| accuracy | {trained.metrics['train']['accuracy']:.4g} | {trained.metrics['val']['accuracy']:.4g} | " \
           f"{test['accuracy']:.4g} |" in card
    assert f"| rows | {trained.metrics['train']['n']} | {trained.metrics['val']['n']} | {test['n']} |" in card
    assert "| plan | categorical |" in card and "`customer_id` (identifier-like" in card
    assert "| learning_rate | 0.01 |" in card and "on cpu" in card
    assert f"{sum(p.numel() for p in trained.model.parameters()):,} trainable parameters" in card


def test_card_for_other_tasks_leads_with_their_metrics(rentals, tmp_path):
    _, trained, bundle = rentals
    assert "| r2 |" in bundle.card and "Embeddings" in bundle.card and "target's own units" in bundle.card
    _, _, anomalies = _bundle(tmp_path, "transactions", {
        "data": {"target": "is_anomaly", "task": "autoencoder"}, "layers": [{"type": "dense", "units": 8}],
        "training": {"epochs": 2}})
    assert "reconstruction error exceeds" in anomalies.card and "| reconstruction_error_p95 |" in anomalies.card
    assert anomalies.card.startswith("# Model card: Autoencoder (label `is_anomaly`)")
