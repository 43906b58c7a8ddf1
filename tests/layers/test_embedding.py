"""Categorical embeddings for tabular input: the data side, the model side against an oracle, bundles, errors."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from nnbuilder.bundle.bundle import load_bundle, save_bundle
from nnbuilder.model.compile import build_model, count_parameters, layer_table
from nnbuilder.data.pipeline import load_table
from nnbuilder.tasks import prepare
from nnbuilder.errors import DataError, SpecError
from nnbuilder.layers.embedding import TabularEmbeddings, embedding_dims
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec


def _spec(categorical="embedding", **extra):
    data = extra.pop("data", {"target": "rent"})
    return parse_spec({"data": data, "input": {"kind": "tabular", "categorical": categorical, **extra},
                       "layers": [{"type": "dense", "units": 32}],
                       "training": {"epochs": 30, "learning_rate": 0.01, "seed": 0}})


@pytest.fixture(scope="module")
def rentals():
    return load_table("sample:rentals")[0]


@pytest.fixture(scope="module")
def trained(rentals):
    return train_from_spec(rentals, _spec())


def test_module_matches_hand_lookups(seed):
    front = TabularEmbeddings(2, [4, 4], [2, 5])
    x = torch.tensor([[0.5, -1.0, 0.0, 2.0], [1.5, 2.0, -1.0, 1.0]])  # 2 plain features, then 2 codes
    out = front(x)
    assert out.shape == (2, 2 + 2 + 5)
    first, second = front.tables
    expected = torch.cat([x[:, :2], first.weight[[1, 0]], second.weight[[3, 2]]], dim=1)  # code + 1; -1 -> row 0
    torch.testing.assert_close(out, expected)


def test_dims_follow_the_rule_or_the_spec():
    assert embedding_dims([3, 10, 151]) == [round(1.6 * 3 ** 0.56), round(1.6 * 10 ** 0.56), 16]  # capped at 16
    assert embedding_dims([3, 151], dim=7) == [7, 7]


def test_many_level_column_is_kept_and_coded_last(rentals):
    prepared = prepare(rentals, _spec().data, input=_spec().input)
    roles = {c.name: c.role for c in prepared.columns}
    assert roles["neighbourhood"] == "categorical"
    assert prepared.feature_names[-1] == "neighbourhood (code)"
    assert prepared.embedding_levels == [prepared.X_train[:, -1].max() + 2]  # codes 0..levels-1, +1 for unknown
    assert np.all(prepared.X_train[:, -1] == np.round(prepared.X_train[:, -1]))
    one_hot = prepare(rentals, _spec("one_hot").data, input=_spec("one_hot").input)
    assert {c.name: c.role for c in one_hot.columns}["neighbourhood"] == "excluded"  # 150 > 50 categories
    assert one_hot.embedding_levels == []


def test_small_categories_stay_one_hot(class_frame):
    spec = _spec(data={"target": "label"}, embedding_min_levels=4)
    prepared = prepare(class_frame, spec.data, input=spec.input)
    assert prepared.embedding_levels == [] and "color=red" in prepared.feature_names
    spec = _spec(data={"target": "label"}, embedding_min_levels=3)
    prepared = prepare(class_frame, spec.data, input=spec.input)
    assert prepared.embedding_levels == [4] and prepared.feature_names[-1] == "color (code)"


def test_compiled_model_is_embedding_front_plus_stack(trained):
    prepared = trained.prepared
    spec = trained.spec
    model = build_model(spec, prepared.input_shape, "regression", 1, embeddings=prepared.embedding_levels)
    dim = embedding_dims(prepared.embedding_levels)[0]
    plain = prepared.input_shape[0] - 1
    oracle = nn.Sequential(TabularEmbeddings(plain, prepared.embedding_levels, [dim]),
                           nn.Sequential(nn.Linear(plain + dim, 32), nn.ReLU()), nn.Linear(32, 1))
    assert count_parameters(model) == count_parameters(oracle)
    rows = layer_table(spec, prepared.input_shape, "regression", 1, embeddings=prepared.embedding_levels)
    assert [r.name for r in rows] == ["Input", "Embeddings", "1. dense", "Output"]
    assert rows[1].output_shape == (plain + dim,) and rows[1].detail == f"1 column: 150 categories → {dim}"


def test_embeddings_learn_what_one_hot_had_to_drop(rentals, trained):
    baseline = train_from_spec(rentals, _spec("one_hot"))
    assert trained.metrics["test"]["r2"] > 0.95
    assert baseline.metrics["test"]["r2"] < 0.7  # without the neighbourhood only the size explains the rent


def test_bundle_round_trip_and_unseen_category(tmp_path, rentals, trained):
    bundle = load_bundle(save_bundle(trained, tmp_path / "rentals"))
    rows = rentals.head(5).copy()
    from nnbuilder.evaluate.metrics import model_outputs
    expected = trained.prepared.untransform_target(
        model_outputs(trained.model, trained.prepared.preprocessing.transform(rows), "regression"))[:, 0]
    np.testing.assert_allclose(bundle.predict(rows)["prediction"].to_numpy(), expected, rtol=1e-6)
    rows.iloc[4] = rows.iloc[3]
    rows["neighbourhood"] = ["Atlantis", None, "", "Oldfield", "Oldfield "]  # unseen, missing, blank, known (+space)
    predicted = bundle.predict(rows)["prediction"].to_numpy()
    assert np.isfinite(predicted).all() and predicted[3] == pytest.approx(predicted[4])


@pytest.mark.parametrize("task", ["autoencoder", "gan"])
def test_tasks_that_rebuild_inputs_refuse_embeddings(rentals, task):
    spec = _spec(data={"target": None, "task": task})
    with pytest.raises(DataError, match="set input.categorical to one_hot"):
        prepare(rentals, spec.data, input=spec.input)


@pytest.mark.parametrize("bad, words", [
    ({"categorical": "hashing"}, "input.categorical must be one of one_hot, embedding"),
    ({"embedding_dim": 0}, "input.embedding_dim must be"),
    ({"embedding_min_levels": 1}, "input.embedding_min_levels must be"),
])
def test_bad_settings_are_named(bad, words):
    with pytest.raises(SpecError, match=words):
        parse_spec({"input": {"kind": "tabular", **bad}})
