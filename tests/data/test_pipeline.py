"""prepare(): splitting, train-only preprocessing, target encoding, warnings, and encoding new rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nnbuilder.data.pipeline import PreparedData, Preprocessing, prepare, transform_features
from nnbuilder.errors import DataError
from nnbuilder.spec.network import DataSpec


def spec(**fields) -> DataSpec:
    return DataSpec.model_validate(fields)


def codes(prepared: PreparedData) -> list[str]:
    return [w.code for w in prepared.warnings]


def test_messy_frame_end_to_end(messy_frame, seed):
    p = prepare(messy_frame, spec(target="churned"), seed=seed)
    assert p.task == "binary" and p.classes == ["no", "yes"] and p.n_outputs == 1
    assert p.feature_columns == ["age", "income", "score", "plan", "paperless", "signup"]
    for X in (p.X_train, p.X_val, p.X_test):
        assert X.dtype == np.float32 and np.isfinite(X).all()
    assert p.input_shape == (len(p.feature_names),) == (p.X_train.shape[1],)
    assert "signup_year" in p.feature_names and "signup_hour" not in p.feature_names  # all midnight
    assert "plan=basic" in p.feature_names and "paperless=true" in p.feature_names
    assert p.y_train.dtype == np.int64
    dropped = {w.column for w in p.warnings if w.code == "dropped_column"}
    assert dropped == {"id", "customer_code", "notes", "country", "empty"}
    assert all(w.message.endswith(".") and w.to_dict()["code"] == w.code for w in p.warnings)


def test_split_sizes_follow_the_spec(class_frame):
    p = prepare(class_frame, spec(target="label", split={"train": 0.6, "val": 0.2, "test": 0.2}))
    assert (len(p.y_train), len(p.y_val), len(p.y_test)) == (180, 60, 60)
    assert len(p.raw_test) == 60 and list(p.raw_test.columns) == ["x1", "x2", "color", "label"]
    assert p.n_rows == 300


@pytest.mark.parametrize("val, test", [(0.0, 0.2), (0.2, 0.0), (0.0, 0.01)])
def test_empty_shares_give_empty_splits(class_frame, val, test):
    p = prepare(class_frame, spec(target="label", split={"train": 1 - val - test, "val": val, "test": test}))
    assert len(p.y_val) == round(300 * val) and len(p.y_test) == round(300 * test)
    assert p.X_val.shape[1] == p.X_train.shape[1] == p.X_test.shape[1]


def test_classification_splits_are_stratified(class_frame):
    p = prepare(class_frame, spec(target="label", split={"train": 0.6, "val": 0.2, "test": 0.2}))
    assert p.classes == ["a", "b", "c"] and p.task == "multiclass" and p.n_outputs == 3
    for y in (p.y_train, p.y_val, p.y_test):
        shares = np.bincount(y, minlength=3) / len(y)
        assert np.allclose(shares, [0.5, 1 / 3, 1 / 6], atol=0.02)


def test_splits_are_seeded(class_frame):
    a = prepare(class_frame, spec(target="label"), seed=1)
    b = prepare(class_frame, spec(target="label"), seed=1)
    c = prepare(class_frame, spec(target="label"), seed=2)
    assert np.array_equal(a.X_train, b.X_train) and not np.array_equal(a.X_train, c.X_train)


def test_preprocessing_is_fitted_on_the_train_rows_only(class_frame):
    frame = class_frame.copy()
    frame.loc[:20, "x2"] = 1000.0  # outliers: the full-data mean differs from any split's
    p = prepare(frame, spec(target="label"))
    scaler = p.preprocessor.named_transformers_["numeric"].named_steps["scale"]
    train = p.X_train[:, p.feature_names.index("x2")]
    assert abs(train.mean()) < 1e-5 and abs(train.std() - 1) < 1e-3
    raw_train_mean = scaler.mean_[1]
    assert raw_train_mean != pytest.approx(frame["x2"].mean())
    restored = train * scaler.scale_[1] + raw_train_mean
    assert restored.mean() == pytest.approx(raw_train_mean, rel=1e-4)


def test_imputer_medians_come_from_train(messy_frame):
    p = prepare(messy_frame, spec(target="churned"))
    imputer = p.preprocessor.named_transformers_["numeric"].named_steps["impute"]
    assert np.isfinite(imputer.statistics_).all()


def test_new_rows_encode_like_the_test_rows(messy_frame):
    p = prepare(messy_frame, spec(target="churned"))
    raw = p.raw_test.assign(extra="ignored")
    assert np.array_equal(transform_features(p, raw), p.X_test)
    assert np.array_equal(p.preprocessing.transform(raw), p.X_test)


def test_unseen_categories_encode_as_zeros(messy_frame):
    p = prepare(messy_frame, spec(target="churned"))
    row = p.raw_test.iloc[:1].copy()
    row["plan"] = "platinum"
    X = transform_features(p, row)
    plan = [i for i, n in enumerate(p.feature_names) if n.startswith("plan=")]
    assert X.shape == (1, len(p.feature_names)) and np.all(X[0, plan] == 0)


def test_yes_no_may_arrive_as_booleans(messy_frame):
    p = prepare(messy_frame, spec(target="churned"))
    rows = p.raw_test.iloc[:2].copy()
    as_bool = rows.assign(paperless=rows["paperless"].str.lower() == "yes")
    assert np.array_equal(transform_features(p, as_bool), transform_features(p, rows))


def test_missing_columns_are_all_named(messy_frame):
    p = prepare(messy_frame, spec(target="churned"))
    with pytest.raises(DataError) as info:
        transform_features(p, p.raw_test.drop(columns=["age", "plan"]))
    message = str(info.value)
    assert "'age'" in message and "'plan'" in message and "expected columns" in message
    assert info.value.column == "age"


def test_text_in_a_numeric_column_is_refused_at_predict_time(messy_frame):
    p = prepare(messy_frame, spec(target="churned"))
    rows = p.raw_test.iloc[:1].astype({"age": object})
    rows["age"] = "old"
    with pytest.raises(DataError, match="'age' must hold numbers"):
        transform_features(p, rows)


def test_preprocessing_rebuilds_from_saved_state(messy_frame):
    p = prepare(messy_frame, spec(target="churned"))
    state = p.preprocessing.state()
    rebuilt = Preprocessing.from_state(p.preprocessor, state)
    assert np.array_equal(rebuilt.transform(p.raw_test), p.X_test)
    as_dicts = Preprocessing(p.preprocessor, list(p.feature_columns), [c.to_dict() for c in p.columns])
    assert np.array_equal(as_dicts.transform(p.raw_test), p.X_test)


def test_dates_with_times_get_an_hour_part():
    n = 60
    df = pd.DataFrame({"when": pd.date_range("2022-01-01 08:00", periods=n, freq="5h"),
                       "y": np.arange(n) % 2})
    p = prepare(df, spec(target="y"))
    assert p.feature_names == ["when_year", "when_month", "when_day", "when_dayofweek", "when_hour"]


def test_regression_targets_are_standardised_and_restored():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=200)})
    df["price"] = 1000 + 50 * df["x"] + rng.normal(size=200)
    p = prepare(df, spec(target="price"))
    assert p.task == "regression" and p.classes is None and p.n_outputs == 1
    assert p.y_train.shape == (len(p.y_train), 1) and p.y_train.dtype == np.float32
    assert abs(p.y_train.mean()) < 1e-5 and abs(p.y_train.std() - 1) < 1e-3
    restored = p.untransform_target(p.y_test)
    assert np.allclose(restored[:, 0], p.raw_test["price"], atol=1e-3)


def test_multi_target_regression():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=100), "a": rng.normal(size=100), "b": rng.normal(5, 3, size=100)})
    p = prepare(df, spec(target=["a", "b"]))
    assert p.task == "multi_regression" and p.n_outputs == 2 and p.y_train.shape[1] == 2
    assert p.target_mean.shape == (2,) and p.target_std.shape == (2,)
    assert np.allclose(p.untransform_target(p.y_test), p.raw_test[["a", "b"]].to_numpy(), atol=1e-4)


def test_constant_regression_std_falls_back_to_one():
    df = pd.DataFrame({"x": np.arange(30.0) % 7, "y": [2.0] * 29 + [3.0]})
    p = prepare(df, spec(target="y", task="regression", split={"train": 0.5, "val": 0.0, "test": 0.5}), seed=3)
    assert np.all(p.target_std > 0)


def test_rows_without_a_target_are_dropped_with_a_warning(messy_frame):
    frame = messy_frame.copy()
    frame.loc[[0, 1, 2], "churned"] = None
    p = prepare(frame, spec(target="churned"))
    assert p.n_rows == 37
    warning = next(w for w in p.warnings if w.code == "missing_target")
    assert "3 row(s)" in warning.message and warning.column == "churned"


def test_class_imbalance_is_flagged():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=215), "y": ["common"] * 200 + ["rare"] * 15})
    p = prepare(df, spec(target="y"))
    warning = next(w for w in p.warnings if w.code == "class_imbalance")
    assert "'rare'" in warning.message


def test_tiny_classes_fall_back_to_an_unstratified_split():
    df = pd.DataFrame({"x": np.arange(40.0) % 9, "y": ["a"] * 20 + ["b"] * 19 + ["c"]})
    p = prepare(df, spec(target="y"))
    assert "unstratified_split" in codes(p) and "class_imbalance" in codes(p)


def test_few_rows_warn_and_too_few_to_split_fail():
    df = pd.DataFrame({"x": np.arange(10.0), "y": [0.5 * i for i in range(10)]})
    assert "few_rows" in codes(prepare(df, spec(target="y")))
    with pytest.raises(DataError, match="too few to split"):
        prepare(df.iloc[:2], spec(target="y"))


def test_duplicate_column_names_in_a_frame_are_renamed():
    df = pd.DataFrame(np.arange(60.0).reshape(20, 3), columns=["a", "a", "y"])
    p = prepare(df, spec(target="y"))
    assert p.feature_columns == ["a", "a.1"] and "duplicate_columns" in codes(p)


@pytest.mark.parametrize("fields, words", [
    ({"target": None}, ["choose a target", "'age'"]),
    ({"target": "churn"}, ["'churn' is not in the data", "did you mean 'churned'"]),
    ({"target": "churned", "drop_columns": ["agee"]}, ["'agee'", "did you mean 'age'"]),
    ({"target": "churned", "drop_columns": ["churned"]}, ["is the target"]),
    ({"target": "country"}, ["only one value"]),
    ({"target": "plan", "task": "regression"}, ["holds text"]),
    ({"target": "churned", "drop_columns": ["age", "income", "score", "plan", "paperless", "signup"]},
     ["no column is left"]),
])
def test_spec_problems_are_data_errors(messy_frame, fields, words):
    with pytest.raises(DataError) as info:
        prepare(messy_frame, spec(**fields))
    for word in words:
        assert word in str(info.value)


def test_preparing_does_not_modify_the_callers_frame(messy_frame):
    before = messy_frame.copy()
    prepare(messy_frame, spec(target="churned"))
    pd.testing.assert_frame_equal(messy_frame, before)


def test_a_value_too_large_for_float32_is_named_not_turned_into_inf():
    import warnings

    from nnbuilder.errors import DataError
    from nnbuilder.spec.network import parse_spec

    df = pd.DataFrame({"x": np.r_[np.arange(50.0), [1e300]], "y": ["a", "b"] * 25 + ["a"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scikit-learn's scaler overflows on the way
        with pytest.raises(DataError, match="column 'x' holds a value too large to compute with"):
            prepare(df, parse_spec({"data": {"target": "y"}}).data)
