"""Permutation importance and integrated gradients against oracles (sklearn metrics, a linear model's weights)."""

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from nnbuilder.bundle.bundle import load_bundle, save_bundle
from nnbuilder.data.pipeline import load_table
from nnbuilder.errors import NNBuilderError
from nnbuilder.evaluate.importance import (ExplainError, evaluation_rows, feature_sources, integrated_gradients,
                               permutation_importance_table)
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec


def synthetic(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """`signal` decides the target, `noise` is pure noise, `colour` shifts it a little, `day` is a date."""
    rng = np.random.default_rng(seed)
    signal, noise = rng.normal(0, 1, n), rng.normal(0, 1, n)
    colour = rng.choice(["red", "green", "blue"], n)
    shift = pd.Series(colour).map({"red": 0.5, "green": 0.0, "blue": -0.5}).to_numpy()
    return pd.DataFrame({
        "signal": signal, "noise": noise, "colour": colour,
        "day": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "label": np.where(signal + 0.3 * shift > 0, "yes", "no"),
        "amount": 3.0 * signal + shift + rng.normal(0, 0.1, n),
    })


def train(df, target, layers=({"type": "dense", "units": 16},), epochs=15, drop=(), split=None, **input_):
    data = {"target": target, "drop_columns": list(drop), **({"split": split} if split else {})}
    spec = parse_spec({"data": data, "layers": list(layers), "input": {"kind": "tabular", **input_},
                       "training": {"epochs": epochs, "learning_rate": 0.01, "seed": 0}})
    return train_from_spec(df, spec)


@pytest.fixture(scope="module")
def table():
    return synthetic()


@pytest.fixture(scope="module")
def classifier(table):
    return train(table, "label", drop=["amount"])


@pytest.fixture(scope="module")
def regressor(table):
    return train(table, "amount", drop=["label"])


@pytest.fixture(scope="module")
def linear(table):
    """No hidden layer: prediction = std × (w · x + b) + mean, the textbook oracle for integrated gradients."""
    return train(table[["signal", "noise", "amount"]], "amount", layers=[], epochs=20)


@pytest.fixture(scope="module")
def classifier_bundle(classifier, tmp_path_factory):
    return load_bundle(save_bundle(classifier, tmp_path_factory.mktemp("explain") / "model"))


# --- permutation importance ---------------------------------------------------------------------------------

def test_informative_column_ranks_first_and_noise_near_zero(classifier):
    table = permutation_importance_table(classifier)
    by_column = {row["column"]: row for row in table}
    assert set(by_column) == {"signal", "noise", "colour", "day"}  # raw columns, not one-hot or date parts
    assert table[0]["column"] == "signal" and table[0]["rank"] == 1
    assert by_column["signal"]["importance_mean"] > 0.3
    assert abs(by_column["noise"]["importance_mean"]) < 0.03
    assert [row["rank"] for row in table] == [1, 2, 3, 4]
    means = [row["importance_mean"] for row in table]
    assert means == sorted(means, reverse=True)
    assert all(row["importance_std"] >= 0 and row["metric"] == "accuracy" and row["split"] == "test" for row in table)


def test_score_equals_the_models_own_test_metric(classifier, classifier_bundle):
    table = permutation_importance_table(classifier, n_repeats=2)
    test = classifier.prepared.raw_test
    predicted = classifier_bundle.predict(test)["prediction"]
    assert table[0]["baseline_score"] == pytest.approx(skm.accuracy_score(test["label"], predicted))
    assert table[0]["baseline_score"] == pytest.approx(classifier.metrics["test"]["accuracy"])
    assert table[0]["n_rows"] == len(test)


def test_balanced_accuracy_on_request(classifier, classifier_bundle):
    test = classifier.prepared.raw_test
    table = permutation_importance_table(classifier, n_repeats=1, metric="balanced_accuracy")
    expected = skm.balanced_accuracy_score(test["label"], classifier_bundle.predict(test)["prediction"])
    assert table[0]["baseline_score"] == pytest.approx(expected)
    assert table[0]["metric_label"] == "balanced accuracy"


def test_regression_scores_r2_in_original_units(regressor):
    table = permutation_importance_table(regressor, n_repeats=3)
    assert table[0]["column"] == "signal" and table[0]["metric"] == "r2"
    assert table[0]["baseline_score"] == pytest.approx(regressor.metrics["test"]["r2"], abs=1e-6)
    assert abs({r["column"]: r for r in table}["noise"]["importance_mean"]) < 0.02


def test_bundle_needs_rows_and_then_agrees_with_the_trained_model(classifier, classifier_bundle):
    with pytest.raises(ExplainError, match="keeps no test rows"):
        permutation_importance_table(classifier_bundle)
    rows = classifier.prepared.raw_test
    assert (permutation_importance_table(classifier_bundle, rows, n_repeats=2)
            == [dict(r, split="given rows") for r in permutation_importance_table(classifier, n_repeats=2)])


def test_validation_rows_when_there_is_no_test_split(table):
    model = train(table, "label", drop=["amount"], epochs=5, split={"train": 0.8, "val": 0.2, "test": 0.0})
    with pytest.raises(ExplainError, match="no test rows"):
        permutation_importance_table(model)
    rows, split = evaluation_rows(model, table)  # checked against X_val inside
    assert split == "validation" and len(rows) == len(model.prepared.X_val)
    result = permutation_importance_table(model, n_repeats=1, frame=table)
    assert result[0]["split"] == "validation"
    assert result[0]["baseline_score"] == pytest.approx(model.metrics["val"]["accuracy"])
    with pytest.raises(ExplainError, match="not the one this model was trained on"):
        evaluation_rows(model, synthetic(seed=1))


def test_rows_are_capped(classifier, monkeypatch):
    import nnbuilder.evaluate.importance as explain
    monkeypatch.setattr(explain, "MAX_ROWS", 50)
    assert permutation_importance_table(classifier, n_repeats=1)[0]["n_rows"] == 50


# --- integrated gradients ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("index", [0, 1, 2])
def test_completeness_on_a_trained_classifier(classifier, classifier_bundle, index):
    row = classifier.prepared.raw_test.iloc[[index]]
    result = integrated_gradients(classifier, row)
    predicted = classifier_bundle.predict(row).iloc[0]
    assert result["explained"] == "probability" and result["target"] == predicted["prediction"]
    assert result["prediction"] == pytest.approx(predicted[f"probability_{predicted['prediction']}"], abs=1e-6)
    delta = result["prediction"] - result["baseline_prediction"]
    total = sum(a["attribution"] for a in result["attributions"])
    assert total == pytest.approx(result["total"])
    assert abs(total - delta) <= 0.01 * abs(delta) + 1e-6
    assert result["relative_gap"] <= 0.01


def test_completeness_on_a_regressor_in_original_units(regressor, tmp_path):
    row = regressor.prepared.raw_test.iloc[[3]]
    result = integrated_gradients(regressor, row, steps=16)
    expected = load_bundle(save_bundle(regressor, tmp_path / "r")).predict(row)["prediction"].iloc[0]
    assert result["explained"] == "value" and result["target"] == "amount"
    assert result["prediction"] == pytest.approx(expected, rel=1e-5)
    assert abs(result["gap"]) <= 0.01 * abs(result["prediction"] - result["baseline_prediction"]) + 1e-6


def _linear_oracle(model, row):
    """std × w_i × (x_i − b_i), with b the encoded training medians, from the fitted sklearn parts."""
    prepared = model.prepared
    numeric = prepared.preprocessor.named_transformers_["numeric"]
    imputer, scaler = numeric.named_steps["impute"], numeric.named_steps["scale"]
    x = (row[["signal", "noise"]].to_numpy(dtype=float)[0] - scaler.mean_) / scaler.scale_
    b = (imputer.statistics_ - scaler.mean_) / scaler.scale_
    w = model.model[-1].weight.detach().double().numpy()[0]
    return prepared.target_std[0] * w * (x - b), prepared.target_std[0] * w * x


def test_linear_model_attribution_is_weight_times_distance(linear):
    row = linear.prepared.raw_test.iloc[[5]]
    median_oracle, zero_oracle = _linear_oracle(linear, row)
    for baseline, oracle in (("median", median_oracle), ("zero", zero_oracle)):
        result = integrated_gradients(linear, row, steps=2, baseline=baseline)
        got = [a["attribution"] for a in result["attributions"]]
        np.testing.assert_allclose(got, oracle, rtol=1e-4, atol=1e-6)
        assert result["relative_gap"] < 1e-4 and result["steps"] == 2  # exact for a straight line


def test_a_row_as_baseline_explains_the_difference_between_two_rows(linear):
    rows = linear.prepared.raw_test
    result = integrated_gradients(linear, rows.iloc[[0]], baseline=rows.iloc[[1]], steps=2)
    assert result["baseline"] == "given row"
    assert result["baseline_prediction"] == pytest.approx(integrated_gradients(linear, rows.iloc[[1]])["prediction"])
    assert result["total"] == pytest.approx(result["prediction"] - result["baseline_prediction"], rel=1e-4)


def test_one_hot_groups_and_date_parts_add_up_to_their_column(classifier):
    result = integrated_gradients(classifier, classifier.prepared.raw_test.iloc[[0]])
    features, per_column = result["features"], {a["column"]: a["attribution"] for a in result["attributions"]}
    colour = [name for name in features if name.startswith("colour=")]
    day = [name for name in features if name.startswith("day_")]
    assert sorted(colour) == ["colour=blue", "colour=green", "colour=red"] and "day_month" in day
    assert per_column["colour"] == pytest.approx(sum(features[n] for n in colour))
    assert per_column["day"] == pytest.approx(sum(features[n] for n in day))
    assert feature_sources(classifier.prepared.preprocessing).count("colour") == 3
    shown = {a["column"]: a["value"] for a in result["attributions"]}
    assert shown["day"] == classifier.prepared.raw_test["day"].iloc[0]


def test_another_class_can_be_explained(classifier):
    row = classifier.prepared.raw_test.iloc[[0]]
    chosen = integrated_gradients(classifier, row)
    other = "no" if chosen["target"] == "yes" else "yes"
    flipped = integrated_gradients(classifier, row, target_class=other)
    assert flipped["target"] == other
    assert flipped["prediction"] == pytest.approx(1 - chosen["prediction"], abs=1e-6)  # two classes: p and 1 - p
    assert flipped["total"] == pytest.approx(-chosen["total"], abs=2e-3)


def test_several_targets_score_average_r2_and_explain_the_chosen_one(table, tmp_path):
    model = train(table, ["amount", "noise"], drop=["label"], epochs=5)
    assert model.task == "multi_regression"
    importance = permutation_importance_table(model, n_repeats=1)
    assert importance[0]["baseline_score"] == pytest.approx(model.metrics["test"]["r2"], abs=1e-6)
    row = model.prepared.raw_test.iloc[[0]]
    result = integrated_gradients(model, row, target_class="noise")
    expected = load_bundle(save_bundle(model, tmp_path / "m")).predict(row)["prediction_noise"].iloc[0]
    assert result["target"] == "noise" and result["prediction"] == pytest.approx(expected, rel=1e-5)


def test_a_row_equal_to_the_baseline_has_nothing_to_explain(linear):
    row = linear.prepared.raw_test.iloc[[0]]
    result = integrated_gradients(linear, row, baseline=row)
    assert result["prediction"] == result["baseline_prediction"] and result["relative_gap"] == 0.0
    assert all(a["attribution"] == 0.0 for a in result["attributions"])


def test_embedded_categories_are_explained_through_their_vectors():
    df, _ = load_table("sample:rentals")
    model = train(df.head(300), "rent", epochs=2, categorical="embedding", embedding_min_levels=3)
    assert model.prepared.embedding_levels  # the front of the network looks codes up
    result = integrated_gradients(model, model.prepared.raw_test.iloc[[0]])
    assert any("(vector 1)" in name for name in result["features"])
    assert {a["column"] for a in result["attributions"]} == set(model.prepared.feature_columns)
    assert result["relative_gap"] <= 0.01


# --- refusals: one clear line ---------------------------------------------------------------------------------

def _one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert isinstance(excinfo.value, NNBuilderError) and "\n" not in message
    return message


@pytest.mark.parametrize("call, words", [
    (lambda m, rows: integrated_gradients(m, rows.drop(columns=["signal"]).iloc[[0]]), "lacks 'signal'"),
    (lambda m, rows: integrated_gradients(m, rows.iloc[:3]), "exactly one row; got 3 rows"),
    (lambda m, rows: integrated_gradients(m, rows.iloc[0].to_dict()), "must be a table"),
    (lambda m, rows: integrated_gradients(m, rows.iloc[[0]], target_class="maybe"), "one of the classes"),
    (lambda m, rows: integrated_gradients(m, rows.iloc[[0]], baseline="mean"), "baseline must be one of"),
    (lambda m, rows: integrated_gradients(m, rows.iloc[[0]], baseline=np.zeros(7)), "got array([0., 0."),
    (lambda m, rows: integrated_gradients(m, rows.iloc[[0]], baseline=rows.iloc[:2]), "baseline row must be exactly"),
    (lambda m, rows: integrated_gradients(m, rows.iloc[[0]], steps=1), "steps must be"),
    (lambda m, rows: permutation_importance_table(m, n_repeats=0), "n_repeats must be"),
    (lambda m, rows: permutation_importance_table(m, metric="r2"), "metric must be one of accuracy"),
    (lambda m, rows: permutation_importance_table(m, rows.drop(columns=["label"])), "lack 'label'"),
    (lambda m, rows: permutation_importance_table(m, rows.iloc[:1]), "at least 2 rows"),
    (lambda m, rows: permutation_importance_table(m, rows.assign(label="maybe")), "'maybe', which is not one of the classes"),
    (lambda m, rows: permutation_importance_table(m, "rows.csv"), "must be a table"),
    (lambda m, rows: permutation_importance_table(object()), "trained model or a loaded bundle"),
])
def test_bad_inputs_are_named(classifier, call, words):
    with pytest.raises(NNBuilderError) as excinfo:
        call(classifier, classifier.prepared.raw_test)
    assert words in _one_line(excinfo)


def test_regression_rows_need_numeric_targets(regressor):
    rows = regressor.prepared.raw_test.astype({"amount": object})
    rows.loc[rows.index[0], "amount"] = "lots"
    with pytest.raises(ExplainError) as excinfo:
        permutation_importance_table(regressor, rows)
    assert "'amount' of the rows must hold numbers" in _one_line(excinfo)
    with pytest.raises(ExplainError) as excinfo:
        integrated_gradients(regressor, rows.iloc[[0]], target_class="price")
    assert "names the target to explain" in _one_line(excinfo)


UNSUPPORTED = [
    ("autoencoder", "moons", {"data": {"task": "autoencoder", "target": None}}, "this one is an autoencoder"),
    ("gan", "moons", {"data": {"task": "gan"}}, "this one is a GAN"),
    ("image", "digits", {"data": {"target": "digit"}, "input": {"kind": "image"}}, "this one reads an image"),
]


@pytest.mark.parametrize("name, dataset, spec, words", UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_unsupported_models_are_refused_with_the_reason(name, dataset, spec, words):
    df, _ = load_table(f"sample:{dataset}")
    spec = parse_spec({**spec, "layers": [{"type": "dense", "units": 4}], "training": {"epochs": 1}})
    model = train_from_spec(df.head(200), spec)
    for call in (lambda: permutation_importance_table(model),
                 lambda: integrated_gradients(model, df.head(1))):
        with pytest.raises(ExplainError) as excinfo:
            call()
        message = _one_line(excinfo)
        assert words in message and "predict a target from table columns" in message
