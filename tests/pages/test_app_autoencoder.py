"""Anomalies through the app: transactions -> autoencoder task -> preset -> train -> evaluate -> predict."""

from test_app_support import by_label, charts, goto, open_app, run_ok, texts, train_in_app

from nnbuilder.data.pipeline import load_table
from ui import state


def test_transactions_autoencoder_from_data_page_to_anomaly_scores():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("transactions")
    run_ok(at)
    by_label(at.selectbox, "Task (auto-detected, or choose)").select("autoencoder")
    run_ok(at)
    assert at.session_state[state.SPEC]["data"]["task"] == "autoencoder"
    label = by_label(at.selectbox, "Label column (optional)")
    assert label.value == "is_anomaly" and "(none)" in label.options  # the label is optional
    assert by_label(at.metric, "Detected task").value == "Autoencoder"
    assert not at.error

    goto(at, "Build")
    by_label(at.selectbox, "Start from a preset").select("Autoencoder (anomalies)")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    table = at.dataframe[0].value
    assert list(table["layer"]) == ["Input", "1. dense", "2. dense", "Latent", "Decoder 1. dense",
                                    "Decoder 2. dense", "Output"]
    assert list(table["output shape"]) == ["(8,)", "(16,)", "(8,)", "(2,)", "(8,)", "(16,)", "(8,)"]
    assert by_label(at.number_input, "Latent dim").value == 2
    by_label(at.toggle, "Decoder mirrors the encoder").set_value(False)
    run_ok(at)  # turning the mirror off starts an editable decoder from the mirror's layers
    decoder = at.session_state[state.SPEC]["autoencoder"]["decoder"]
    assert [layer["units"] for layer in decoder] == [8, 16]
    assert list(at.dataframe[0].value["layer"])[4:6] == ["Decoder 1. dense", "Decoder 2. dense"]
    assert not at.error

    train_in_app(at, epochs=30)

    goto(at, "Evaluate")
    auc = by_label(at.metric, "Test ROC AUC")
    assert float(auc.value) >= 0.9
    assert by_label(at.metric, "Flagged rows").value
    names = [c.proto.spec for c in charts(at)]
    assert any("Latent space" in spec for spec in names) and any("Reconstruction error per row" in spec for spec in names)
    slider = by_label(at.slider, "Anomaly threshold (reconstruction error)")
    before = by_label(at.metric, "Flagged rows").value
    slider.set_value(slider.max)
    run_ok(at)
    assert by_label(at.metric, "Flagged rows").value.startswith("0 ") and before != "0 (0.0%)"
    assert not at.error

    goto(at, "Predict")
    by_label(at.button, "Predict").click()
    run_ok(at)
    assert float(by_label(at.metric, "Anomaly score").value) >= 0
    assert by_label(at.metric, "Flagged as an anomaly").value in ("yes", "no")
    df, _ = load_table("sample:transactions")
    rows = df.drop(columns="is_anomaly").head(30).to_csv(index=False).encode()
    by_label(at.file_uploader, "Upload rows to predict (CSV)").set_value(("rows.csv", rows, "text/csv"))
    run_ok(at)
    predictions = at.dataframe[0].value
    assert list(predictions.columns)[:4] == ["anomaly_score", "anomaly", "latent_1", "latent_2"]
    assert not at.error and not texts(at.exception)

    goto(at, "Export")
    assert not at.error


def test_autoencoder_without_a_label_shows_no_roc_auc():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("transactions")
    run_ok(at)
    by_label(at.selectbox, "Task (auto-detected, or choose)").select("autoencoder")
    run_ok(at)
    by_label(at.selectbox, "Label column (optional)").select("(none)")
    run_ok(at)
    assert at.session_state[state.SPEC]["data"]["target"] is None
    assert any("6 input columns" in text for text in texts(at.success) + texts(at.info) + texts(at.caption)
               + [m.value for m in at.markdown]), "is_anomaly is now an input column too"
    assert not at.error
    train_in_app(at, epochs=2)
    goto(at, "Evaluate")
    assert not [m for m in at.metric if m.label == "Test ROC AUC"]
    assert by_label(at.metric, "Flagged rows").value
    assert not at.error
