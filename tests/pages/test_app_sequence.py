"""Time series through the app: sales -> sequence input -> LSTM preset -> train -> evaluate (RMSE vs baseline) -> predict."""

from test_app_support import by_label, charts, goto, open_app, run_ok, texts, train_in_app

from nnbuilder.data.pipeline import load_table
from ui import state


def test_sales_lstm_forecast_from_data_page_to_predictions():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("sales")
    run_ok(at)
    assert at.session_state[state.SPEC]["data"]["target"] == "sales"
    by_label(at.radio, "How each row becomes the network's input").set_value("sequence")
    run_ok(at)
    settings = at.session_state[state.SPEC]["input"]
    assert settings["kind"] == "sequence" and settings["time_column"] == "date"  # the date column orders the rows
    assert by_label(at.selectbox, "Layout").value == "time_series"
    by_label(at.number_input, "Window").set_value(14)
    run_ok(at)
    assert at.session_state[state.SPEC]["input"]["window"] == 14
    assert by_label(at.metric, "Detected task").value == "Forecast"  # the input kind decides, not the column alone
    assert any("sequences of 14 steps × 3 features" in text for text in [m.value for m in at.markdown]
               + texts(at.info) + texts(at.success) + texts(at.caption)), "the Data page says what the network reads"
    assert not at.error

    goto(at, "Build")
    by_label(at.selectbox, "Start from a preset").select("LSTM (time series)")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    table = at.dataframe[0].value
    assert list(table["layer"]) == ["Input", "1. lstm", "Output"]
    assert list(table["output shape"]) == ["(14, 3)", "(32,)", "(1,)"]
    assert not at.error

    train_in_app(at, epochs=3)

    goto(at, "Evaluate")
    rmse = by_label(at.metric, "Test RMSE")
    assert float(rmse.value) > 0 and "vs last-value baseline" in rmse.delta
    assert by_label(at.metric, "Test baseline RMSE").value
    assert any("Forecast vs actual" in c.proto.spec for c in charts(at))

    goto(at, "Predict")
    assert not at.form  # no one-row form for a forecast
    assert any(m.label.startswith("Forecast 1 step(s) after 2024-12-31") for m in at.metric)
    df, _ = load_table("sample:sales")
    history = df.tail(40).to_csv(index=False).encode()
    by_label(at.file_uploader, "Upload rows to predict (CSV)").set_value(("history.csv", history, "text/csv"))
    run_ok(at)
    predictions = at.dataframe[0].value
    assert list(predictions.columns) == ["window_end", "steps_ahead", "prediction"] and len(predictions) == 20

    goto(at, "Export")
    assert not at.error


def test_sequence_settings_follow_the_layout_and_bad_windows_are_explained():
    at = open_app()  # moons: 500 rows of x1, x2 -> label
    by_label(at.radio, "How each row becomes the network's input").set_value("sequence")
    run_ok(at)
    assert at.session_state[state.SPEC]["input"] == {"kind": "sequence", "layout": "time_series", "window": 24,
                                                     "horizon": 1}
    by_label(at.number_input, "Window").set_value(600)
    run_ok(at)
    assert any("fewer than the 600 a sample needs" in text for text in texts(at.error))
    by_label(at.selectbox, "Layout").select("rows")
    run_ok(at)
    assert at.session_state[state.SPEC]["input"] == {"kind": "sequence", "layout": "rows"}
    assert not at.error
    assert any("sequences of 2 steps × 1 feature" in text for text in texts(at.success) + texts(at.info)
               + texts(at.caption) + [m.value for m in at.markdown])
