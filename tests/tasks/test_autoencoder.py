"""The autoencoder task: spec, mirrored compile, data, anomaly scores, bundle, CLI and bad inputs."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from nnbuilder.tasks.autoencoder.anomaly import anomaly_report, flagged_rows, plane
from nnbuilder.bundle.bundle import load_bundle, save_bundle
from nnbuilder.cli.main import main
from nnbuilder.model.compile import build_model, count_parameters, encoder_of, layer_table
from nnbuilder.tasks import detect_task, prepare
from nnbuilder.tasks.autoencoder.data import anomaly_class
from nnbuilder.data.datasets import ASSETS, load_dataset
from nnbuilder.errors import DataError, SpecError
from nnbuilder.spec.network import AutoencoderSpec, DataSpec, ImageInputSpec, load_spec, parse_spec
from nnbuilder.runs.workflow import train_from_spec

PRESET = ASSETS / "presets" / "autoencoder_anomalies.json"


def ae_spec(layers=None, **autoencoder) -> dict:
    return {"data": {"task": "autoencoder"},
            "layers": layers if layers is not None else [{"type": "dense", "units": 16, "activation": "tanh"},
                                                         {"type": "dropout", "rate": 0.1},
                                                         {"type": "dense", "units": 8, "activation": "relu"}],
            **({"autoencoder": autoencoder} if autoencoder else {})}


@pytest.fixture(scope="module")
def trained():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        spec = load_spec(PRESET)
        started = time.perf_counter()
        result = train_from_spec(load_dataset("transactions"), spec, device="cpu")
        result.seconds = time.perf_counter() - started
        return result
    finally:
        torch.set_num_threads(threads)


# --- spec -----------------------------------------------------------------------------------------------

def test_spec_accepts_the_task_and_defaults_the_section():
    spec = parse_spec(ae_spec())
    assert spec.autoencoder is None and spec.autoencoder_settings == AutoencoderSpec()
    assert spec.autoencoder_settings.latent_dim == 2 and spec.autoencoder_settings.mirror_decoder
    for name, field in AutoencoderSpec.model_fields.items():
        assert field.description, name


def test_mirror_off_needs_decoder_layers():
    with pytest.raises(SpecError, match="autoencoder has mirror_decoder off but no decoder layers"):
        parse_spec(ae_spec(mirror_decoder=False))
    with pytest.raises(SpecError, match=r"autoencoder.latent_dim must be"):
        parse_spec(ae_spec(latent_dim=0))


def test_autoencoder_on_image_input_is_one_clear_error():
    with pytest.raises(SpecError, match="autoencoder works on tables only") as info:
        parse_spec({**ae_spec(), "input": {"kind": "image"}})
    assert len(info.value.problems) == 1
    digits = load_dataset("digits")
    with pytest.raises(DataError, match="autoencoder task works on tables only for now.*image"):
        prepare(digits, DataSpec(task="autoencoder"), input=ImageInputSpec())
    with pytest.raises(DataError, match="tables only"):
        detect_task(digits, DataSpec(task="autoencoder"), ImageInputSpec())


# --- compile --------------------------------------------------------------------------------------------

def test_mirrored_network_matches_a_hand_built_oracle():
    spec = parse_spec(ae_spec(latent_dim=3))
    model = build_model(spec, (10,), "autoencoder", 10)
    oracle = nn.Sequential(
        nn.Linear(10, 16), nn.Tanh(), nn.Dropout(0.1), nn.Linear(16, 8), nn.ReLU(),  # encoder
        nn.Linear(8, 3),  # latent
        nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 16), nn.Tanh(), nn.Dropout(0.1),  # mirrored decoder
        nn.Linear(16, 10),  # reconstruction
    )
    assert count_parameters(model) == count_parameters(oracle)
    oracle_params = [p for p in oracle.parameters()]
    with torch.no_grad():
        for mine, theirs in zip(model.parameters(), oracle_params):
            assert mine.shape == theirs.shape
            theirs.copy_(mine)
    model.eval(), oracle.eval()
    x = torch.randn(5, 10)
    torch.testing.assert_close(model(x), oracle(x))
    assert encoder_of(model, spec)(x).shape == (5, 3)

    rows = layer_table(spec, (10,), "autoencoder", 10)
    assert [r.name for r in rows] == ["Input", "1. dense", "2. dropout", "3. dense", "Latent",
                                      "Decoder 1. dense", "Decoder 2. dense", "Decoder 3. dropout", "Output"]
    assert [r.output_shape for r in rows] == [(10,), (16,), (16,), (8,), (3,), (8,), (16,), (16,), (10,)]
    assert [r.parameters for r in rows] == [0, 176, 0, 136, 27, 32, 144, 0, 170]
    assert sum(r.parameters for r in rows) == count_parameters(oracle)


def test_own_decoder_and_leading_layers():
    spec = parse_spec(ae_spec([{"type": "dropout", "rate": 0.2}, {"type": "dense", "units": 6}],
                              mirror_decoder=False, latent_dim=2,
                              decoder=[{"type": "dense", "units": 5, "activation": "tanh"}]))
    rows = layer_table(spec, (4,), "autoencoder", 4)
    assert [(r.name, r.output_shape) for r in rows] == [
        ("Input", (4,)), ("1. dropout", (4,)), ("2. dense", (6,)), ("Latent", (2,)),
        ("Decoder 1. dense", (5,)), ("Output", (4,))]
    mirrored = parse_spec(ae_spec([{"type": "dropout", "rate": 0.2}, {"type": "dense", "units": 6}]))
    # input dropout (denoising) is not mirrored onto the output
    assert [r.name for r in layer_table(mirrored, (4,), "autoencoder", 4)][-2:] == ["Decoder 1. dense", "Output"]


def test_mirror_refuses_layers_it_cannot_copy_and_bad_decoder_shapes():
    spec = parse_spec(ae_spec([{"type": "conv1d", "filters": 4, "kernel_size": 3}, {"type": "flatten"}]))
    with pytest.raises(SpecError, match=r"layers\[0\] \(conv1d\): mirror_decoder copies only"):
        build_model(spec, (12,), "autoencoder", 12)
    bad = parse_spec(ae_spec(mirror_decoder=False, decoder=[{"type": "conv2d"}]))
    with pytest.raises(SpecError, match=r"autoencoder.decoder\[0\] \(conv2d\)"):
        build_model(bad, (12,), "autoencoder", 12)


# --- data -----------------------------------------------------------------------------------------------

def test_prepare_encodes_the_table_and_reconstructs_itself():
    df = load_dataset("transactions")
    prepared = prepare(df, DataSpec(target="is_anomaly", task="autoencoder"))
    assert prepared.task == "autoencoder" and prepared.target == ["is_anomaly"]
    assert "is_anomaly" not in prepared.feature_columns and prepared.y_train is prepared.X_train
    assert prepared.n_outputs == prepared.input_shape[0] == len(prepared.feature_names)
    assert prepared.anomaly_class == "yes" and prepared.classes == ["no", "yes"]
    assert abs(prepared.X_train[:, 0].mean()) < 1e-5  # standardised on the train rows
    # stratified by the label: every split holds about the same share of anomalies
    shares = [np.mean(prepared.labels[s] == "yes") for s in ("train", "val", "test")]
    assert max(shares) - min(shares) < 0.01

    no_label = prepare(df.drop(columns="is_anomaly"), DataSpec(task="autoencoder"))
    assert no_label.target == [] and no_label.labels is None and no_label.anomaly_class is None

    gappy = df.assign(is_anomaly=df["is_anomaly"].where(np.arange(len(df)) % 3 > 0))
    kept = prepare(gappy, DataSpec(target="is_anomaly", task="autoencoder"))
    assert kept.n_rows == len(df)  # rows without a label are kept


def test_anomaly_class_is_the_rarer_value():
    assert anomaly_class(pd.Series(["no"] * 9 + ["yes"])) == "yes"
    assert anomaly_class(pd.Series([1] * 3 + [0] * 7)) == 1
    assert anomaly_class(pd.Series([0, 1, 0, 1])) == 1  # tie: the later one sorted
    assert anomaly_class(pd.Series(["a", "b", "c"])) is None
    assert anomaly_class(None) is None


# --- evaluation -----------------------------------------------------------------------------------------

def test_separates_injected_anomalies(trained):
    test = trained.metrics["test"]
    assert test["roc_auc"] >= 0.9, test
    for key in ("reconstruction_error_mean", "reconstruction_error_median", "reconstruction_error_p95",
                "reconstruction_error_max", "threshold", "flagged_share", "precision", "recall"):
        assert test[key] is not None
    train = trained.metrics["train"]
    # the default threshold is the training rows' 95th percentile: about 5% of them are flagged
    assert train["threshold"] == pytest.approx(train["reconstruction_error_p95"])
    assert 0.04 <= train["flagged_share"] <= 0.06
    assert trained.fit.metric == "reconstruction_r2" and "val_reconstruction_r2" in trained.fit.history[-1]


def test_details_hold_a_2d_latent_space_per_row(trained):
    details = trained.details["test"]
    n = trained.metrics["test"]["n"]
    assert len(details["errors"]) == len(details["latent"]) == len(details["labels"]) == n
    assert all(len(point) == 2 for point in details["latent"])
    assert set(details["labels"]) == {"yes", "no"} and details["anomaly_class"] == "yes"
    assert details["threshold"] == trained.metrics["train"]["threshold"]
    flagged = flagged_rows(details["errors"], details["threshold"])
    assert len(flagged) == round(trained.metrics["test"]["flagged_share"] * n)
    assert list(np.asarray(details["errors"])[flagged]) == sorted(np.asarray(details["errors"])[flagged], reverse=True)


def test_report_threshold_and_labels_by_hand():
    errors = np.array([0.1, 0.2, 0.3, 5.0, 6.0])
    labels = np.array(["no", "no", None, "yes", "no"], dtype=object)
    report = anomaly_report(errors, 1.0, labels, "yes")
    assert report["flagged_share"] == pytest.approx(0.4) and report["reconstruction_error_max"] == 6.0
    assert report["precision"] == pytest.approx(0.5) and report["recall"] == 1.0
    assert report["roc_auc"] == pytest.approx(2 / 3)  # the unlabelled row is left out
    assert anomaly_report(errors, 1.0, np.array(["no"] * 5, dtype=object), "yes")["roc_auc"] is None
    assert anomaly_report(np.zeros(0), 1.0) == {"n": 0}


def test_latent_projection_to_two_dimensions():
    codes = np.random.default_rng(0).normal(size=(50, 5))
    assert plane(codes).shape == (50, 2)
    assert plane(codes[:, :1]).shape == (50, 2) and np.all(plane(codes[:, :1])[:, 1] == 0)


def test_wider_latent_space_is_projected(one_thread):
    df = load_dataset("transactions", n_samples=300)
    spec = parse_spec({**ae_spec(latent_dim=4), "data": {"task": "autoencoder"}, "training": {"epochs": 2}})
    result = train_from_spec(df, spec, device="cpu")
    assert "roc_auc" not in result.metrics["test"]  # no label: no detector scores
    assert result.details["test"]["labels"] is None
    assert all(len(point) == 2 for point in result.details["test"]["latent"])


# --- bundle and CLI -------------------------------------------------------------------------------------

def test_bundle_round_trip_gives_identical_scores(trained, tmp_path):
    save_bundle(trained, tmp_path / "ae")
    bundle = load_bundle(tmp_path / "ae")
    assert bundle.task == "autoencoder" and bundle.meta["anomaly_threshold"] == trained.metrics["train"]["threshold"]
    rows = trained.prepared.raw_test.drop(columns="is_anomaly")
    out = bundle.predict(rows)
    assert list(out.columns) == ["anomaly_score", "anomaly", "latent_1", "latent_2"]
    n = len(trained.details["test"]["errors"])
    np.testing.assert_allclose(out["anomaly_score"].to_numpy()[:n], trained.details["test"]["errors"], rtol=1e-5)
    np.testing.assert_allclose(out[["latent_1", "latent_2"]].to_numpy()[:n], trained.details["test"]["latent"],
                               rtol=1e-4, atol=1e-6)
    assert out["anomaly"].mean() == pytest.approx(trained.metrics["test"]["flagged_share"])
    again = load_bundle(tmp_path / "ae").predict(rows)
    pd.testing.assert_frame_equal(out, again)


def test_cli_trains_and_predicts_anomaly_scores(tmp_path, capsys, one_thread):
    out = tmp_path / "run"
    code = main(["train", "sample:transactions?n_samples=600", "--task", "autoencoder", "--target", "is_anomaly",
                 "--spec", str(PRESET), "--epochs", "5", "--device", "cpu", "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["task"] == "autoencoder"
    test = summary["metrics"]["test"]
    assert {"n", "reconstruction_error_mean", "reconstruction_error_median", "reconstruction_error_p95",
            "reconstruction_error_max", "threshold", "flagged_share", "roc_auc", "precision", "recall"} <= set(test)
    rows = tmp_path / "rows.csv"
    load_dataset("transactions").drop(columns="is_anomaly").head(20).to_csv(rows, index=False)
    assert main(["predict", str(out), str(rows), "--out", str(tmp_path / "scores.csv")]) == 0
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert list(scores.columns) == ["anomaly_score", "anomaly", "latent_1", "latent_2"] and len(scores) == 20

    capsys.readouterr()
    image = tmp_path / "image.json"
    image.write_text(json.dumps({**ae_spec(), "input": {"kind": "image"}}), encoding="utf-8")
    assert main(["train", "sample:digits", "--spec", str(image)]) == 2
    assert "autoencoder works on tables only" in capsys.readouterr().err
