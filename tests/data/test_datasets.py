"""Built-in datasets: shapes, targets, determinism, options, and the messy demo CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nnbuilder.data.pipeline import infer_task, load_table, prepare
from nnbuilder.data.datasets import ASSETS, DATASETS, list_datasets, load_dataset, load_sample
from nnbuilder.errors import DataError
from nnbuilder.spec.network import DataSpec

SHAPES = {
    "iris": (150, 5), "wine": (178, 14), "breast_cancer": (569, 31), "digits": (1797, 65), "diabetes": (442, 11),
    "moons": (500, 3), "circles": (500, 3), "spiral": (500, 3), "xor": (500, 3), "blobs": (500, 3),
    "sales": (1096, 4), "transactions": (1500, 6), "people": (1000, 5), "rentals": (3000, 5), "customers": (400, 11),
}
GENERATED = ["moons", "circles", "spiral", "xor", "blobs"]


def test_registry_lists_every_dataset():
    assert [info.name for info in list_datasets()] == list(DATASETS) == list(SHAPES)


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_dataset_loads_with_its_target_and_task(name):
    info = DATASETS[name]
    df = load_dataset(name)
    assert df.shape == SHAPES[name]
    assert info.target in df.columns and info.description
    assert infer_task(df[info.target].dropna()) == info.task_hint


def test_labels_are_readable_names():
    assert sorted(load_dataset("iris")["species"].unique()) == ["setosa", "versicolor", "virginica"]
    assert set(load_dataset("breast_cancer")["diagnosis"]) == {"malignant", "benign"}
    assert load_dataset("wine")["cultivar"].str.startswith("cultivar_").all()


def test_digits_has_named_pixels():
    df = load_dataset("digits")
    assert list(df.columns) == [f"pixel{i}" for i in range(64)] + ["digit"]
    assert sorted(df["digit"].unique()) == list(range(10))


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sets_are_deterministic_per_seed(name):
    a, b = load_dataset(name, seed=3), load_dataset(name, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not load_dataset(name, seed=4)[["x1", "x2"]].equals(a[["x1", "x2"]])
    assert list(a.columns) == ["x1", "x2", "label"]


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sets_take_size_and_noise(name):
    small = load_dataset(name, n_samples=60, noise=0.0)
    assert len(small) == 60
    assert not small.equals(load_dataset(name, n_samples=60, noise=0.5))


def test_extra_options_per_dataset():
    assert load_dataset("spiral", arms=4)["label"].nunique() == 4
    assert load_dataset("blobs", centers=5)["label"].nunique() == 5


def test_sample_references_parse_options():
    df = load_sample("moons?noise=0.3&n_samples=120&seed=2")
    pd.testing.assert_frame_equal(df, load_dataset("moons", noise=0.3, n_samples=120, seed=2))
    table, warnings = load_table("sample:xor?n_samples=40")
    assert len(table) == 40 and warnings == []


@pytest.mark.parametrize("reference, words", [
    ("mons", ["unknown dataset 'mons'", "did you mean 'moons'", "iris"]),
    ("moons?nois=0.3", ["no option 'nois'", "did you mean 'noise'"]),
    ("moons?noise=loud", ["must be a number", "'loud'"]),
    ("moons?n_samples=2.5", ["whole number"]),
    ("moons?n_samples=3", ["must be in"]),
    ("iris?seed=1", ["no option 'seed'", "none"]),
    ("moons?=&", ["cannot read the options"]),
])
def test_bad_references_are_data_errors(reference, words):
    with pytest.raises(DataError) as info:
        load_sample(reference)
    for word in words:
        assert word in str(info.value)


def test_the_messy_demo_is_messy_in_every_promised_way():
    df = load_dataset("customers")
    p = prepare(df, DataSpec(target="churned"), seed=0)
    roles = {c.name: c.role for c in p.columns}
    assert roles == {
        "customer_id": "excluded", "age": "numeric", "monthly_charges": "numeric", "plan": "categorical",
        "contract": "categorical", "paperless_billing": "boolean", "signup_date": "datetime",
        "support_calls": "numeric", "notes": "excluded", "country": "excluded", "churned": "target",
    }
    assert df["age"].isna().any() and df["plan"].isna().any()
    assert {w.code for w in p.warnings} >= {"missing_target", "dropped_column"}


def test_the_messy_demo_is_learnable():
    from sklearn.linear_model import LogisticRegression

    p = prepare(load_dataset("customers"), DataSpec(target="churned"), seed=0)
    model = LogisticRegression(max_iter=1000).fit(p.X_train, p.y_train)
    assert model.score(np.vstack([p.X_val, p.X_test]), np.concatenate([p.y_val, p.y_test])) > 0.8


def test_the_demo_csv_matches_its_generator(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_messy_customers", ASSETS / "make_messy_customers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path / "fresh.csv")
    module.main()
    assert (tmp_path / "fresh.csv").read_bytes() == (ASSETS / "messy_customers.csv").read_bytes()
