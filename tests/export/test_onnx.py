"""ONNX export: raw columns in ONNX Runtime give what Bundle.predict gives, and bad cases are refused."""

import json
from types import SimpleNamespace

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest

from nnbuilder.export.onnx import graph as export_onnx
from nnbuilder.export.onnx import check as export_onnx_check
from nnbuilder.bundle.bundle import load_bundle, save_bundle
from nnbuilder.data.pipeline import load_table
from nnbuilder.errors import ExportError, NNBuilderError
from nnbuilder.export.files import write_atomic
from nnbuilder.export.formats import export_bundle
from nnbuilder.export.onnx.check import onnx_feeds, probe_rows
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec

TYPES = {"tensor(float)": "float", "tensor(string)": "string", "tensor(int64)": "int64", "tensor(bool)": "bool"}


def _spec(target, layers=None, epochs=5, **extra) -> dict:
    data = {"target": target, **extra.pop("data", {})}
    return {"data": data, "layers": layers or [{"type": "dense", "units": 16}],
            "training": {"epochs": epochs, "learning_rate": 0.01, "seed": 0}, **extra}


def _make(tmp_path_factory, df, spec: dict, name: str, export=True):
    """Train, save, load and (unless export=False) export through the registry, checked on the test rows."""
    trained = train_from_spec(df, parse_spec(spec), device="cpu")
    folder = tmp_path_factory.mktemp(name)
    bundle = load_bundle(save_bundle(trained, folder / "bundle"))
    out = folder / "onnx" / f"{name}.onnx"
    path = export_bundle(bundle, "onnx", out, check_rows=trained.prepared.raw_test) if export else None
    assert path is None or path == out
    return SimpleNamespace(df=df, trained=trained, bundle=bundle, path=path)


def _run(path, bundle, rows) -> dict:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, onnx_feeds(bundle, rows))))


def _assert_same_classes(bundle, path, rows):
    expected, got = bundle.predict(rows), _run(path, bundle, rows)
    columns = [f"probability_{c}" for c in bundle.classes]
    np.testing.assert_allclose(got["probabilities"], expected[columns].to_numpy(), atol=1e-4, rtol=0)
    assert got["prediction"].tolist() == expected["prediction"].tolist()  # 100 % class agreement


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    df, _ = load_table("sample:customers")
    return _make(tmp_path_factory, df, _spec("churned"), "churn")


@pytest.fixture(scope="module")
def regression(tmp_path_factory):
    df, _ = load_table("sample:diabetes")
    rng = np.random.default_rng(0)
    df = df.assign(region=rng.choice(["north", "south", "east", None], len(df), p=[0.4, 0.3, 0.2, 0.1]))
    df.loc[rng.random(len(df)) < 0.1, "bmi"] = np.nan
    return _make(tmp_path_factory, df, _spec("progression", epochs=10), "regression")


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    df, _ = load_table("sample:iris")
    return _make(tmp_path_factory, df, _spec("species", epochs=20), "iris")


# ---- classification from raw columns ----

def test_churn_matches_bundle_on_test_rows_with_missing_values(churn):
    rows = churn.trained.prepared.raw_test
    assert rows[["age", "monthly_charges", "plan"]].isna().any().all()  # the check covers gaps
    _assert_same_classes(churn.bundle, churn.path, rows)
    _assert_same_classes(churn.bundle, churn.path, churn.df)


def test_churn_matches_on_probe_rows_with_unseen_and_blank_categories(churn):
    probes = probe_rows(churn.bundle)
    assert (probes["plan"] == export_onnx_check.UNSEEN_CATEGORY).any() and probes["plan"].isna().any()
    assert (probes["plan"] == "").any() and np.isinf(probes["age"]).any()
    _assert_same_classes(churn.bundle, churn.path, probes)


def test_hand_built_client_feeds_follow_the_documented_contract(churn):
    """What a client in another language sends: no nnbuilder code builds these arrays."""
    raw = pd.DataFrame({"age": [np.nan, 40.0, 71.0], "monthly_charges": [np.inf, 55.5, 120.0],
                        "plan": ["basic", None, "gold-unseen"], "contract": ["one year", "two year", "weekly"],
                        "paperless_billing": ["YES", "n", ""], "support_calls": [0, 3, 9],
                        "signup_date": pd.to_datetime(["2021-03-04 10:00", "2019-12-31 00:00", "2022-07-17 23:00"])})
    dates = raw["signup_date"].dt

    def col(values, kind=np.float32):
        return np.asarray(values, dtype=kind).reshape(-1, 1)

    feeds = {"age": col([np.nan, 40, 71]), "monthly_charges": col([np.inf, 55.5, 120]),
             "plan": col(["basic", "", "gold-unseen"], object),
             "contract": col(["one year", "two year", "weekly"], object),
             "paperless_billing": col(["YES", "n", ""], object), "support_calls": col([0, 3, 9]),
             "signup_date_year": col(dates.year), "signup_date_month": col(dates.month),
             "signup_date_day": col(dates.day), "signup_date_dayofweek": col(dates.day_of_week)}
    session = ort.InferenceSession(str(churn.path))
    prediction, proba = session.run(["prediction", "probabilities"], feeds)
    expected = churn.bundle.predict(raw)
    np.testing.assert_allclose(proba, expected[["probability_no", "probability_yes"]].to_numpy(), atol=1e-4)
    assert prediction.tolist() == expected["prediction"].tolist()


@pytest.mark.parametrize("yes,no", [("yes", "no"), ("YES", "No"), ("y", "N"), ("T", "f"), ("1", "0.0"),
                                    ("True", "FALSE")])
def test_boolean_spellings_are_normalised_inside_the_graph(churn, yes, no):
    rows = churn.df.head(6).copy()
    rows["paperless_billing"] = [yes, no, yes, no, "", None]
    _assert_same_classes(churn.bundle, churn.path, rows)
    canonical = rows.assign(paperless_billing=["true", "false", "true", "false", "", None])
    assert (_run(churn.path, churn.bundle, rows)["probabilities"] ==
            _run(churn.path, churn.bundle, canonical)["probabilities"]).all()


def test_inputs_outputs_and_metadata_are_documented(churn):
    model = onnx.load(churn.path)
    assert model.producer_name == "nnbuilder"
    onnx.checker.check_model(model, full_check=True)
    props = {p.key: p.value for p in model.metadata_props}
    assert props["nnbuilder_task"] == "binary" and json.loads(props["nnbuilder_classes"]) == ["no", "yes"]
    assert json.loads(props["nnbuilder_targets"]) == ["churned"] and props["nnbuilder_version"]
    contract = {item["name"]: item for item in json.loads(props["nnbuilder_inputs"])}
    assert list(contract) == ["age", "monthly_charges", "signup_date_year", "signup_date_month", "signup_date_day",
                              "signup_date_dayofweek", "support_calls", "plan", "contract", "paperless_billing"]
    assert contract["signup_date_dayofweek"]["column"] == "signup_date" and contract["plan"]["missing"] == '""'
    assert contract["paperless_billing"]["role"] == "boolean" and contract["age"]["missing"] == "NaN"
    session = ort.InferenceSession(str(churn.path))
    for given in session.get_inputs():
        assert TYPES[given.type] == contract[given.name]["type"] and given.shape == ["N", 1], given
    outputs = {o.name: (TYPES[o.type], o.shape) for o in session.get_outputs()}
    assert outputs == {"prediction": ("string", ["N"]), "probabilities": ("float", ["N", 2])}
    assert [o["name"] for o in json.loads(props["nnbuilder_outputs"])] == ["prediction", "probabilities"]


def test_multiclass_string_labels(iris):
    assert iris.bundle.task == "multiclass"
    _assert_same_classes(iris.bundle, iris.path, iris.df)
    _assert_same_classes(iris.bundle, iris.path, probe_rows(iris.bundle))
    outputs = {o.name: o.shape for o in ort.InferenceSession(str(iris.path)).get_outputs()}
    assert outputs == {"prediction": ["N"], "probabilities": ["N", 3]}


def test_embedded_categories_and_a_residual_block_export(tmp_path_factory):
    """The ordinal codes feeding nn.Embedding tables and a projected skip path go through the same converters."""
    df, _ = load_table("sample:customers")
    rng = np.random.default_rng(3)
    df = df.assign(city=rng.choice([f"city{i}" for i in range(30)] + [None], len(df)))
    block = {"type": "residual", "layers": [{"type": "dense", "units": 8}, {"type": "dense", "units": 12}]}
    spec = _spec("churned", [{"type": "dense", "units": 16}, block], epochs=3,
                 input={"kind": "tabular", "categorical": "embedding", "embedding_min_levels": 10})
    made = _make(tmp_path_factory, df, spec, "embedded")
    assert "embedded" in [name for name, _, _ in made.bundle.preprocessing.preprocessor.transformers_]
    rows = pd.concat([df.head(40), probe_rows(made.bundle)], ignore_index=True)
    rows.loc[:4, "city"] = "atlantis"  # unseen: code -1 in both
    _assert_same_classes(made.bundle, made.path, rows)
    contract = json.loads({p.key: p.value for p in onnx.load(made.path).metadata_props}["nnbuilder_inputs"])
    assert {"name": "city", "type": "string"}.items() <= next(c for c in contract if c["column"] == "city").items()


def test_a_transformer_over_a_tables_columns_exports(tmp_path_factory):
    """Column tokens (value × a vector per column) and attention blocks go through torch's exporter too."""
    df, _ = load_table("sample:customers")
    layer = {"type": "transformer_encoder", "heads": 2, "model_dim": 8, "ff_dim": 16, "blocks": 1,
             "pooling": "cls", "positional_encoding": "none"}
    made = _make(tmp_path_factory, df, _spec("churned", [layer], epochs=2), "column_tokens")
    _assert_same_classes(made.bundle, made.path, pd.concat([df.head(40), probe_rows(made.bundle)], ignore_index=True))


# ---- regression, autoencoder, image ----

def test_regression_in_original_units_with_missing_and_unseen(regression):
    bundle, path = regression.bundle, regression.path
    rows = pd.concat([regression.df, probe_rows(bundle)], ignore_index=True)
    rows.loc[:5, "region"] = "west-unseen"
    expected = bundle.predict(rows)["prediction"].to_numpy()
    got = _run(path, bundle, rows)["prediction"]
    assert got.shape == (len(rows),) and 20 < np.nanmean(got[: len(regression.df)]) < 300  # original units
    std = bundle.meta["target_std"][0]
    assert np.abs(got - expected).max() <= 1e-4 * std
    inputs = {i.name: TYPES[i.type] for i in ort.InferenceSession(str(path)).get_inputs()}
    assert inputs["region"] == "string" and inputs["bmi"] == "float"


def test_several_targets_text_dates_and_yes_no_text(tmp_path_factory):
    df, _ = load_table("sample:diabetes")
    rng = np.random.default_rng(2)
    visits = pd.Series(pd.date_range("2020-01-01", periods=len(df), freq="37h")).dt.strftime("%d/%m/%Y %H:%M")
    df = df.assign(visit=visits.where(rng.random(len(df)) > 0.05), smoker=rng.choice(["Yes", "no", None], len(df)))
    made = _make(tmp_path_factory, df, _spec(["progression", "bmi"], epochs=3), "multi")
    assert made.bundle.task == "multi_regression"
    session = ort.InferenceSession(str(made.path))
    inputs = [i.name for i in session.get_inputs()]
    assert inputs[-6:] == ["visit_year", "visit_month", "visit_day", "visit_dayofweek", "visit_hour", "smoker"]
    assert [(o.name, o.shape) for o in session.get_outputs()] == [("prediction", ["N", 2])]
    rows = pd.concat([df.head(60), probe_rows(made.bundle)], ignore_index=True)
    expected = made.bundle.predict(rows)[["prediction_progression", "prediction_bmi"]].to_numpy()
    got = _run(made.path, made.bundle, rows)["prediction"]
    assert (np.abs(got - expected) / np.asarray(made.bundle.meta["target_std"])).max() <= 1e-4


def test_autoencoder_scores_and_flags_match(tmp_path_factory):
    df, _ = load_table("sample:transactions")
    spec = _spec("is_anomaly", [{"type": "dense", "units": 8, "activation": "tanh"}], epochs=3,
                 data={"task": "autoencoder"}, autoencoder={"latent_dim": 2})
    ae = _make(tmp_path_factory, df.head(300), spec, "ae")
    rows = df.tail(300)
    expected, got = ae.bundle.predict(rows), _run(ae.path, ae.bundle, rows)
    np.testing.assert_allclose(got["anomaly_score"], expected["anomaly_score"], rtol=1e-4, atol=1e-5)
    assert (got["anomaly"] == expected["anomaly"].to_numpy()).mean() > 0.999 and got["anomaly"].any()


def test_image_model_reads_raw_pixels(tmp_path_factory):
    df, _ = load_table("sample:digits")
    spec = _spec("digit", [{"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same"},
                           {"type": "flatten"}, {"type": "dense", "units": 16}], epochs=1, input={"kind": "image"})
    image = _make(tmp_path_factory, df.head(240), spec, "digits")
    _assert_same_classes(image.bundle, image.path, df.tail(200))
    (pixels,) = ort.InferenceSession(str(image.path)).get_inputs()
    assert pixels.name == "pixels" and pixels.type == "tensor(float)" and pixels.shape == ["N", 64]


def test_integer_classes_stay_integers_and_a_column_named_like_an_output_gets_a_prefix(tmp_path_factory):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"prediction": rng.normal(size=120), "x": rng.normal(size=120)})
    df["y"] = np.where(df["prediction"] + df["x"] > 0, 7, 3)
    made = _make(tmp_path_factory, df, _spec("y", epochs=2), "named")
    contract = json.loads({p.key: p.value for p in onnx.load(made.path).metadata_props}["nnbuilder_inputs"])
    assert [(c["name"], c["column"]) for c in contract] == [("input_prediction", "prediction"), ("x", "x")]
    assert made.bundle.classes == [3, 7] and _run(made.path, made.bundle, df)["prediction"].dtype == np.int64
    _assert_same_classes(made.bundle, made.path, df)


# ---- refusals ----

def test_sequence_and_gan_bundles_are_refused(tmp_path_factory, tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(40, 8)), columns=[f"t{i}" for i in range(8)]).assign(label=np.arange(40) % 2)
    sequence = _make(tmp_path_factory, df, _spec("label", [{"type": "gru", "units": 4}], epochs=1,
                                                 input={"kind": "sequence", "layout": "rows"}), "seq", export=False)
    people, _ = load_table("sample:people")
    gan_spec = {"data": {"task": "gan"}, "layers": [{"type": "dense", "units": 8}], "training": {"epochs": 1}}
    gan = _make(tmp_path_factory, people.head(100), gan_spec, "gan", export=False)
    for made in (sequence, gan):
        out = tmp_path / "model.onnx"
        with pytest.raises(ExportError, match="covers tabular and image models.*--format torchscript"):
            export_bundle(made.bundle, "onnx", out)
        assert not out.exists()


def test_a_disagreeing_graph_is_refused_and_nothing_written(churn, tmp_path, monkeypatch):
    honest = churn.bundle.predict

    def skewed(rows):
        result = honest(rows)
        result["probability_yes"] += 0.01
        return result

    monkeypatch.setattr(churn.bundle, "predict", skewed)
    earlier = tmp_path / "model.onnx"
    earlier.write_bytes(b"an earlier export")
    with pytest.raises(ExportError, match="disagrees with the bundle on the check rows.*nothing was written"):
        export_bundle(churn.bundle, "onnx", earlier, check_rows=churn.df.head(20))
    assert list(tmp_path.iterdir()) == [earlier] and earlier.read_bytes() == b"an earlier export"  # untouched


# The check itself, on the files the fixtures wrote (a full export per case would only repeat the build).

def test_a_wrong_class_is_refused_by_the_probe_rows_alone(churn, monkeypatch):
    honest = churn.bundle.predict
    monkeypatch.setattr(churn.bundle, "predict", lambda rows: honest(rows).assign(prediction="maybe"))
    with pytest.raises(ExportError, match="gives class '(no|yes)' where the bundle gives 'maybe', in row 1\\)"):
        export_onnx_check.check_export(churn.bundle, onnx.load(churn.path), None)


def test_a_near_miss_within_tolerance_passes_and_just_beyond_fails(regression, monkeypatch):
    honest, model = regression.bundle.predict, onnx.load(regression.path)
    std = regression.bundle.meta["target_std"][0]
    monkeypatch.setattr(regression.bundle, "predict", lambda rows: honest(rows) + 0.5e-4 * std)
    export_onnx_check.check_export(regression.bundle, model, regression.df.head(50))  # inside 1e-4 std: accepted
    monkeypatch.setattr(regression.bundle, "predict", lambda rows: honest(rows) + 3e-4 * std)
    with pytest.raises(ExportError, match="check rows.*differs by 0.0003 target standard deviations"):
        export_onnx_check.check_export(regression.bundle, model, regression.df.head(50))


@pytest.mark.parametrize("rows,message", [
    (lambda df: df.drop(columns=["age", "plan"]).head(5), "check rows lack 2 column.*'age', 'plan'"),
    (lambda df: df.to_dict("records"), "must be a table .*got list"),
])
def test_bad_check_rows_are_refused_before_building(churn, tmp_path, monkeypatch, rows, message):
    monkeypatch.setattr(export_onnx, "build_onnx", None)  # the refusal must come first
    with pytest.raises(ExportError, match=message):
        export_onnx.export(churn.bundle, tmp_path / "m.onnx", rows(churn.df))
    assert list(tmp_path.iterdir()) == []


def test_unusable_output_paths_are_refused_before_building(churn, tmp_path, monkeypatch):
    monkeypatch.setattr(export_onnx, "build_onnx", None)
    with pytest.raises(ExportError, match="is a folder; give the path of the .onnx file"):
        export_bundle(churn.bundle, "onnx", tmp_path)
    (tmp_path / "plain.txt").write_text("x")
    with pytest.raises(ExportError, match="cannot create the folder .*plain.txt"):
        export_bundle(churn.bundle, "onnx", tmp_path / "plain.txt" / "model.onnx")


def test_a_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("nnbuilder.export.files.os.replace", full_disk)
    with pytest.raises(ExportError, match="cannot write .*No space left on device"):
        write_atomic(tmp_path / "m.onnx", b"onnx bytes")
    assert list(tmp_path.iterdir()) == []


def test_check_rows_that_predict_refuses_become_an_export_error(churn, monkeypatch):
    rows = churn.df.head(5).assign(age="forty")  # a text age: DataError inside Bundle.predict
    with pytest.raises(ExportError, match="check rows cannot be predicted.*'age'"):
        export_onnx_check.check_export(churn.bundle, onnx.load(churn.path), rows)


@pytest.mark.parametrize("broken,message", [
    ("torch.onnx.export", "torch's ONNX exporter cannot export this network"),
    ("skl2onnx.convert_sklearn", "skl2onnx cannot convert this model's preprocessing"),
    ("onnxruntime.InferenceSession", "ONNX Runtime cannot load the exported graph"),
])
def test_converter_failures_become_one_line_export_errors(churn, tmp_path, monkeypatch, broken, message):
    def fail(*args, **kwargs):
        raise RuntimeError("simulated failure\nwith a second line")

    monkeypatch.setattr(broken, fail)
    with pytest.raises(ExportError, match=message) as error:
        export_onnx.export(churn.bundle, tmp_path / "m.onnx", None)
    assert "\n" not in str(error.value) and isinstance(error.value, NNBuilderError)
    assert list(tmp_path.iterdir()) == []


def test_autoencoder_without_threshold_is_refused(churn, tmp_path, monkeypatch):
    monkeypatch.setattr(churn.bundle, "meta", {**churn.bundle.meta, "task": "autoencoder", "anomaly_threshold": None})
    with pytest.raises(ExportError, match="no anomaly threshold"):
        export_onnx.export(churn.bundle, tmp_path / "m.onnx", None)


# ---- the registry entry point ----

def test_export_bundle_writes_one_loadable_file_end_to_end(iris):
    # _make exported through nnbuilder.export.formats.export_bundle into a folder it created
    assert [p.name for p in iris.path.parent.iterdir()] == ["iris.onnx"]  # no temp file left behind
    onnx.checker.check_model(str(iris.path))
    _assert_same_classes(iris.bundle, iris.path, iris.df)
