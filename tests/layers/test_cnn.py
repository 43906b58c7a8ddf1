"""A CNN on scikit-learn's digits, end to end: spec preset, image input, training, bundle, CLI."""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nnbuilder.bundle.bundle import bundle_zip_bytes, load_bundle, save_bundle
from nnbuilder.cli.main import main
from nnbuilder.data.pipeline import ImagePreprocessing, load_table
from nnbuilder.errors import BundleError, DataError
from nnbuilder.evaluate.metrics import model_outputs
from nnbuilder.spec.network import load_spec, parse_spec
from nnbuilder.runs.workflow import describe_network, train_from_spec

PRESET = Path(__file__).resolve().parents[2] / "assets" / "presets" / "cnn_digits.json"


@pytest.fixture(scope="module")
def digits():
    df, _ = load_table("sample:digits")
    return df


@pytest.fixture(scope="module")
def trained(digits):
    started = time.perf_counter()
    result = train_from_spec(digits, load_spec(PRESET), device="cpu")
    result.seconds = time.perf_counter() - started
    return result


def test_cnn_on_digits_reaches_097_test_accuracy(trained):
    print(f"digits CNN: test accuracy {trained.metrics['test']['accuracy']:.4f}, "
          f"{len(trained.fit.history)} epochs, {trained.seconds:.1f} s")
    assert trained.prepared.input_shape == (1, 8, 8)
    assert trained.metrics["test"]["accuracy"] >= 0.97


def test_preset_layer_table(digits, trained):
    rows = describe_network(trained.spec, trained.prepared)
    assert [r.output_shape for r in rows] == [(1, 8, 8), (16, 8, 8), (16, 4, 4), (32, 4, 4), (512,), (64,), (10,)]
    assert sum(r.parameters for r in rows) == sum(p.numel() for p in trained.model.parameters())


def test_image_bundle_round_trip(digits, trained, tmp_path):
    folder = save_bundle(trained, tmp_path / "cnn")
    assert "preprocessing.skops" not in {p.name for p in folder.iterdir()}  # plain JSON state only
    bundle = load_bundle(folder)
    assert isinstance(bundle.preprocessing, ImagePreprocessing)
    assert bundle.preprocessing == trained.prepared.image
    rows = digits.drop(columns=["digit"]).head(50)
    predicted = bundle.predict(rows)
    expected = model_outputs(trained.model, trained.prepared.preprocessing.transform(rows), trained.task)
    columns = [f"probability_{c}" for c in trained.prepared.classes]
    np.testing.assert_allclose(predicted[columns].to_numpy(), expected, rtol=1e-6, atol=1e-7)
    assert (predicted["prediction"] == digits["digit"].head(50)).mean() > 0.9
    archive = tmp_path / "cnn.zip"
    archive.write_bytes(bundle_zip_bytes(folder))
    pd.testing.assert_frame_equal(load_bundle(archive).predict(rows.head(5)), bundle.predict(rows.head(5)))
    with pytest.raises(DataError, match="lacks 2 pixel column.*'pixel5', 'pixel6'"):
        bundle.predict(rows.drop(columns=["pixel5", "pixel6"]))


def test_cli_trains_inspects_and_predicts_a_cnn(tmp_path, capsys):
    spec = tmp_path / "cnn.json"
    data = json.loads(PRESET.read_text())
    data["training"]["epochs"] = 3
    spec.write_text(json.dumps(data))
    out = tmp_path / "model"
    assert main(["train", "sample:digits", "--target", "digit", "--spec", str(spec), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["task"] == "multiclass" and summary["metrics"]["test"]["accuracy"] > 0.5
    assert main(["inspect", "--data", "sample:digits", "--target", "digit", "--spec", str(spec)]) == 0
    shown = capsys.readouterr().out
    assert "8×8 image, 1 channel" in shown and "(16, 8, 8)" in shown and "(32, 4, 4)" in shown
    pixels = tmp_path / "pixels.csv"
    df, _ = load_table("sample:digits")
    df.drop(columns=["digit"]).head(7).to_csv(pixels, index=False)
    assert main(["predict", str(out), str(pixels)]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1 + 7


def test_image_bundle_refuses_tampering(trained, tmp_path):
    folder = save_bundle(trained, tmp_path / "cnn")
    (folder / "preprocessing.skops").write_bytes(b"not for an image model")
    with pytest.raises(BundleError, match=r"unexpected files \(preprocessing.skops\)"):
        load_bundle(folder)


def test_tabular_bundle_without_its_preprocessing_is_refused(tmp_path):
    df, _ = load_table("sample:iris")
    spec = parse_spec({"data": {"target": "species"}, "layers": [{"type": "dense", "units": 4}],
                       "training": {"epochs": 2}})
    folder = save_bundle(train_from_spec(df, spec), tmp_path / "iris")
    (folder / "preprocessing.skops").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["preprocessing.skops"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="missing preprocessing.skops"):
        load_bundle(folder)
