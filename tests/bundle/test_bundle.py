"""Bundles round-trip exactly and refuse anything altered or unexpected."""

import json
import pickle
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest
from safetensors.torch import load_file, save_file

from nnbuilder.bundle.bundle import bundle_zip_bytes, load_bundle, save_bundle
from nnbuilder.data.pipeline import load_table
from nnbuilder.errors import BundleError, DataError
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec


def _train_and_save(folder, dataset, target, units, epochs):
    df, _ = load_table(f"sample:{dataset}")
    spec = parse_spec({"data": {"target": target}, "layers": [{"type": "dense", "units": units}],
                       "training": {"epochs": epochs, "learning_rate": 0.01}})
    trained = train_from_spec(df, spec)
    return df, trained, save_bundle(trained, folder / dataset)


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    return _train_and_save(tmp_path_factory.mktemp("b"), "customers", "churned", 16, 15)


@pytest.fixture(scope="module")
def regression(tmp_path_factory):
    return _train_and_save(tmp_path_factory.mktemp("r"), "diabetes", "progression", 8, 10)


def _expected_predictions(trained, df):
    from nnbuilder.evaluate.metrics import model_outputs
    return model_outputs(trained.model, trained.prepared.preprocessing.transform(df), trained.task)


def test_classifier_round_trip_gives_identical_predictions(churn):
    df, trained, folder = churn
    bundle = load_bundle(folder)
    predictions = bundle.predict(df)
    proba = _expected_predictions(trained, df)
    columns = [f"probability_{c}" for c in trained.prepared.classes]
    np.testing.assert_array_equal(predictions[columns].to_numpy(), proba)
    assert list(predictions["prediction"]) == [trained.prepared.classes[k] for k in proba.argmax(1)]
    assert bundle.history == json.loads(json.dumps(trained.fit.history))
    assert bundle.metrics["metrics"]["test"]["accuracy"] == trained.metrics["test"]["accuracy"]
    assert bundle.spec == trained.spec


def test_regression_round_trip_in_original_units(regression):
    df, trained, folder = regression
    predicted = load_bundle(folder).predict(df)["prediction"].to_numpy()
    expected = trained.prepared.untransform_target(_expected_predictions(trained, df))[:, 0]
    np.testing.assert_allclose(predicted, expected, rtol=1e-6)
    assert 20 < predicted.mean() < 300  # diabetes progression units, not standardised


def test_zip_round_trip(churn, tmp_path):
    df, _, folder = churn
    archive = tmp_path / "model.zip"
    archive.write_bytes(bundle_zip_bytes(folder))
    pd.testing.assert_frame_equal(load_bundle(archive).predict(df.head(20)), load_bundle(folder).predict(df.head(20)))


def test_missing_columns_are_named(churn):
    df, _, folder = churn
    with pytest.raises(DataError, match="lacks 1 column.*'age'"):
        load_bundle(folder).predict(df.drop(columns=["age"]))


def test_unseen_category_is_ignored(churn):
    df, _, folder = churn
    odd = df.head(3).copy()
    odd["plan"] = "platinum-deluxe"
    assert len(load_bundle(folder).predict(odd)) == 3


def _copy(folder, tmp_path):
    return shutil.copytree(folder, tmp_path / "copy")


def test_pickle_dropped_in_is_refused(churn, tmp_path):
    copy = _copy(churn[2], tmp_path)
    (copy / "evil.pkl").write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(BundleError, match=r"unexpected files \(evil.pkl\)"):
        load_bundle(copy)


def test_swapped_weights_are_refused(churn, tmp_path):
    copy = _copy(churn[2], tmp_path)
    weights = load_file(str(copy / "weights.safetensors"))
    save_file({k: v * 0 for k, v in weights.items()}, str(copy / "weights.safetensors"))
    with pytest.raises(BundleError, match="weights.safetensors was altered"):
        load_bundle(copy)


@pytest.mark.parametrize("victim", ["manifest.json", "meta.json"])
def test_missing_files_are_refused(churn, tmp_path, victim):
    copy = _copy(churn[2], tmp_path)
    (copy / victim).unlink()
    with pytest.raises(BundleError, match="manifest.json is missing|missing meta.json"):
        load_bundle(copy)


def test_zip_with_path_traversal_is_refused(tmp_path):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../escape.json", "{}")
    with pytest.raises(BundleError, match="unexpected path"):
        load_bundle(archive)


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="does not exist"):
        load_bundle(tmp_path / "nothing")
    (tmp_path / "file.txt").write_text("hello")
    with pytest.raises(BundleError, match="neither a bundle folder nor a bundle zip"):
        load_bundle(tmp_path / "file.txt")
    with pytest.raises(BundleError, match="manifest.json is missing"):
        load_bundle(tmp_path)


def test_saving_over_an_existing_bundle_replaces_it_whole(churn, tmp_path):
    _, trained, _ = churn
    target = tmp_path / "model"
    save_bundle(trained, target)
    save_bundle(trained, target)
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["spec.json", "weights.safetensors", "preprocessing.skops", "meta.json", "history.json", "metrics.json",
         "model_card.md", "manifest.json"])
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging folders left behind


def test_a_bundle_saved_before_model_cards_still_loads(churn, tmp_path):
    """Nothing a user saved is lost: an older bundle (no model_card.md, no embedding_levels) loads and gets a card."""
    from nnbuilder.bundle.files import sha256

    _, trained, folder = churn
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    (old / "model_card.md").unlink()
    meta = json.loads((old / "meta.json").read_text())
    del meta["embedding_levels"], meta["created"]
    (old / "meta.json").write_text(json.dumps(meta))
    manifest = {name: sha256(old / name) for name in json.loads((old / "manifest.json").read_text())
                if name != "model_card.md"}
    (old / "manifest.json").write_text(json.dumps(manifest))
    bundle = load_bundle(old)
    assert bundle.card.startswith("# Model card: Binary classification of `churned`")
    assert bundle.predict(load_table("sample:customers")[0].head(3))["prediction"].notna().all()
