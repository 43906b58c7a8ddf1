"""Evaluate, Predict and Export with a trained model in the session."""

import io
import zipfile

import pandas as pd
import pytest
from test_app_support import by_label, charts, open_app, run_ok, texts, trained_model

from nnbuilder.bundle.bundle import load_bundle
from nnbuilder.data.pipeline import load_table
from nnbuilder.export.formats import EXPORT_FORMATS, ExportFormat
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec
from ui import state


@pytest.fixture(scope="module")
def iris():
    model, df = trained_model("iris", "species")
    return model, df


@pytest.fixture(scope="module")
def diabetes():
    model, df = trained_model("diabetes", "progression")
    return model, df


def app_with(page, trained, frame=None):
    return open_app(page, session={state.TRAINED: trained, state.TRAINED_JOB: "seeded", state.TRAINED_FRAME: frame})


def test_evaluate_classification(iris):
    at = app_with("Evaluate", iris[0])
    labels = [m.label for m in at.metric]
    assert labels == ["Test accuracy", "Test balanced accuracy", "Test F1 (macro)", "Test ROC AUC"]
    accuracy = iris[0].metrics["test"]["accuracy"]
    assert by_label(at.metric, "Test accuracy").value == f"{accuracy:.1%}"
    assert len(charts(at)) == 4  # confusion matrix, ROC, loss and accuracy curves
    per_class = at.dataframe[0].value
    assert list(per_class["class"]) == ["setosa", "versicolor", "virginica"]


def test_evaluate_regression(diabetes):
    at = app_with("Evaluate", diabetes[0])
    assert [m.label for m in at.metric] == ["Test R²", "Test RMSE", "Test MAE"]
    assert len(charts(at)) == 4  # predicted vs actual, residuals, loss and R² curves


def test_evaluate_without_test_rows_shows_validation():
    model, _ = trained_model("moons", "label", split=(0.8, 0.2, 0.0))
    at = app_with("Evaluate", model)
    assert by_label(at.metric, "Validation accuracy")
    assert any("no test rows" in text for text in texts(at.info))


def test_predict_one_row_with_probabilities(iris):
    model, df = iris
    at = app_with("Predict", model, df)
    inputs = {w.label: w for w in at.number_input}
    assert set(inputs) == set(model.prepared.feature_columns)
    assert inputs["petal_length_cm"].value == pytest.approx(df["petal_length_cm"].median(), abs=1e-4)
    inputs["petal_length_cm"].set_value(1.4)
    inputs["petal_width_cm"].set_value(0.2)
    by_label(at.button, "Predict").click()
    run_ok(at)
    assert by_label(at.metric, "Prediction").value == "setosa"
    assert [c.key for c in charts(at)] == ["probabilities", "attributions"]  # the probability bars, then why


def test_predict_uses_the_test_rows_when_the_table_is_gone(diabetes):
    at = app_with("Predict", diabetes[0], None)
    by_label(at.button, "Predict").click()
    run_ok(at)
    assert float(by_label(at.metric, "Prediction").value.replace(",", "")) > 0


def test_batch_predictions_and_download(iris):
    model, df = iris
    at = app_with("Predict", model, df)
    rows = df.drop(columns=["species"]).head(12).to_csv(index=False).encode()
    at.file_uploader(key="predict_upload").set_value(("new.csv", rows, "text/csv"))
    run_ok(at)
    preview = at.dataframe[0].value
    assert len(preview) == 12 and preview.columns[0] == "prediction"
    assert "probability_setosa" in preview.columns
    assert "Download predictions" in [b.label for b in at.get("download_button")]


def test_batch_with_missing_columns_shows_the_engine_message(iris):
    model, df = iris
    at = app_with("Predict", model, df)
    rows = df[["sepal_length_cm"]].head(3).to_csv(index=False).encode()
    at.file_uploader(key="predict_upload").set_value(("few.csv", rows, "text/csv"))
    run_ok(at)
    errors = texts(at.error)
    assert len(errors) == 1 and "petal_length_cm" in errors[0]
    assert "Download predictions" not in [b.label for b in at.get("download_button")]


def test_export_downloads(iris, tmp_path):
    model, df = iris
    at = app_with("Export", model)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download model bundle (.zip)", "Download spec JSON", "Download model card (.md)"]
    assert any("load_bundle" in code.value for code in at.code)
    assert any("Model card: Multiclass classification of `species`" in m.value for m in at.markdown)
    assert any("nnbuilder predict model.zip new_rows.csv --out preds.csv" in code.value for code in at.code)

    # the bytes behind the button load like the CLI would load them, and predict like the trained model
    _, bundle, data = at.session_state["_bundle_cache"]
    assert zipfile.is_zipfile(io.BytesIO(data))
    (tmp_path / "model.zip").write_bytes(data)
    loaded = load_bundle(tmp_path / "model.zip").predict(df.head(5))
    pd.testing.assert_frame_equal(loaded, bundle.predict(df.head(5)))
    assert loaded["prediction"].tolist() == df["species"].head(5).tolist()  # setosa rows, an easy call


@pytest.mark.parametrize("fmt, button, download", [
    ("torchscript", "Prepare TorchScript file", "Download model.pt"),
    ("python", "Prepare Python script", "Download train_model.py"),
    ("onnx", "Prepare ONNX file", "Download model.onnx"),
])
def test_export_formats_prepare_then_download(iris, fmt, button, download):
    at = app_with("Export", iris[0])
    assert download not in [b.label for b in at.get("download_button")]  # made only when asked: ONNX takes seconds
    by_label(at.button, button).click()
    run_ok(at)
    assert download in [b.label for b in at.get("download_button")]
    data = at.session_state["_export_cache"][1][fmt]
    if fmt == "python":
        compile(data.decode(), "train_model.py", "exec")
        assert "class Net(nn.Module)" in data.decode() and "import nnbuilder" not in data.decode()
    else:
        assert len(data) > 1000
    run_ok(at)  # the download stays on the next rerun, without exporting again
    assert download in [b.label for b in at.get("download_button")]


def test_export_page_offers_every_registered_format_from_its_registry_entry(iris, monkeypatch):
    """A new format is one registry entry: the page shows its heading, help and button without an edit."""
    toy = ExportFormat("toy", "Toy format (test only)", ".toy", "application/octet-stream", "tests.none",
                       help="A format registered by this test alone, to show the page needs no edit.",
                       file_name="model.toy", noun="toy file")
    monkeypatch.setitem(EXPORT_FORMATS, "toy", toy)
    at = app_with("Export", iris[0])
    buttons, captions = [b.label for b in at.button], [c.value for c in at.caption]
    for info in EXPORT_FORMATS.values():
        assert f"Prepare {info.noun}" in buttons
        assert info.help in captions
        assert any(m.value == f"**{info.label}**" for m in at.markdown)


def test_export_a_format_cannot_hold_shows_one_readable_line():
    df, _ = load_table("sample:people")
    gan = train_from_spec(df, parse_spec({"data": {"task": "gan"}, "layers": [{"type": "dense", "units": 8}],
                                          "training": {"epochs": 1}}))
    at = app_with("Export", gan)
    by_label(at.button, "Prepare Python script").click()
    run_ok(at)
    assert len(at.error) == 1 and "--format torchscript" in at.error[0].value
    assert "Download train_model.py" not in [b.label for b in at.get("download_button")]
    by_label(at.button, "Prepare TorchScript file").click()  # the network alone still leaves
    run_ok(at)
    assert "Download model.pt" in [b.label for b in at.get("download_button")]
