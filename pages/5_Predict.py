"""Predict: one row from a form, or many rows from a CSV, with the trained model."""

import pandas as pd
import streamlit as st

from nnbuilder.data.pipeline import read_csv
from nnbuilder.errors import NNBuilderError
from nnbuilder.model.heads import get_head
from nnbuilder.tasks import get_task
from ui import charts, engine, state
from ui.importance_view import explain_prediction, render_attributions
from ui.page import header, next_step, show_error, show_warnings
from ui.predict_form import field_plans, render_inputs
from ui.session import start as start_session

start_session()  # safe when Streamlit runs this page on its own (a deep link)

BATCH_CACHE = "_batch_predictions"
SINGLE_RESULT = "_single_prediction"

header(5, "Predict", "Ask the trained model about new rows: fill in one row below, or upload a CSV with many.")
trained = state.trained()
if trained is None:
    next_step("Nothing trained yet. Train a model first, then come back to try it.", "pages/3_Train.py", "Train")
    st.stop()

task = get_task(trained.task)  # what this task offers here (nnbuilder.tasks.record.Task.predict_views)
if not task.predict_views:  # nothing to predict (a GAN: its rows are generated on the Evaluate page)
    next_step(task.predict_note, "pages/4_Evaluate.py", "Evaluate")
    st.stop()

try:
    with st.spinner("Loading the model…"):
        bundle, _ = engine.bundle_for(trained)
except NNBuilderError as exc:
    show_error(exc)
    st.stop()

prepared = trained.prepared
is_classifier = get_head(trained.task).is_classification
frame = state.trained_frame()
if frame is None:
    frame = prepared.raw_test

series = prepared.sequence is not None and prepared.sequence.layout == "time_series"
if series:
    # A forecast reads history, not one row: show the forecast beyond the end of the data it trained on.
    seq = prepared.sequence
    st.subheader("Next value")
    answer = (f"forecasts {', '.join(prepared.target)} {seq.horizon} step(s) after the last one" if seq.horizon
              else f"names the {prepared.target[0]} of the last one")
    st.caption(f"The model reads the last {seq.window} rows of a series (sorted by {seq.time_column or 'their order'})"
               f" and {answer}. Here it continues the table it trained on; upload a newer history below for fresh "
               "answers.")
    try:
        ahead = bundle.predict(frame)
        last = ahead.groupby(seq.group_column).tail(1) if seq.group_column else ahead.tail(1)
        value_columns = [c for c in last.columns if c.startswith("prediction")]
        for _, row in last.head(6).iterrows():
            where = f" ({row[seq.group_column]})" if seq.group_column else ""
            title = (f"Forecast {row['steps_ahead']} step(s) after {row['window_end']}" if "steps_ahead" in row
                     else f"Label at {row['window_end']}")
            st.metric(title + where, ", ".join(f"{row[c]:,.4g}" if isinstance(row[c], float) else str(row[c])
                                               for c in value_columns))
    except NNBuilderError as exc:
        show_error(exc)
elif prepared.input_kind == "image":
    # A form with one box per pixel is no way to draw a picture: try a test image, or upload many rows below.
    st.subheader("One image")
    test_rows = prepared.raw_test if len(prepared.raw_test) else frame
    st.caption(f"The model reads {len(prepared.feature_columns):,} pixel columns per image, too many to type in. "
               "Pick one of the test images the model never trained on, or upload a CSV of pixel rows below.")
    number = st.number_input("Test image number", min_value=1, max_value=len(test_rows), value=1, step=1,
                             key="image_row")
    chosen = test_rows.iloc[[int(number) - 1]]
    try:
        result = bundle.predict(chosen)
        picture, answer = st.columns([1, 2])
        label = chosen[prepared.target[0]].iloc[0] if prepared.target[0] in chosen.columns else "?"
        picture.plotly_chart(charts.image_grid_figure(prepared.preprocessing.transform(chosen), [f"true: {label}"],
                                                      columns=1), key="test_image")
        first = result.iloc[0]
        answer.metric("Prediction", str(first["prediction"]) if "prediction" in result.columns
                      else ", ".join(f"{first[c]:,.4g}" for c in result.columns))
        if is_classifier:
            answer.plotly_chart(charts.probability_figure({c.removeprefix("probability_"): float(first[c])
                                                           for c in result.columns if c.startswith("probability_")}),
                                key="probabilities")
        with answer.expander("Why this prediction?", icon=":material/insights:"):
            render_attributions(explain_prediction(bundle, chosen))  # says why images are not explained per pixel
    except NNBuilderError as exc:
        show_error(exc)
else:
    st.subheader("One row")
    with st.form("single_row"):
        plans = field_plans(prepared.columns, prepared.feature_columns, frame)
        row = render_inputs(plans)
        submitted = st.form_submit_button("Predict", type="primary")
    if submitted:
        try:  # kept in the session so the answer survives later reruns (e.g. a batch upload below)
            asked = pd.DataFrame([row])
            why = explain_prediction(bundle, asked) if task.explains_rows else None  # an anomaly score is its own why
            st.session_state[SINGLE_RESULT] = (id(trained), bundle.predict(asked), why)
        except NNBuilderError as exc:
            st.session_state.pop(SINGLE_RESULT, None)
            show_error(exc)
    single = st.session_state.get(SINGLE_RESULT)
    if single and single[0] == id(trained):
        result = single[1]
        first = result.iloc[0]
        for column in [c for c in result.columns if c.startswith("prediction")]:
            value = first[column]
            shown = f"{value:,.4g}" if isinstance(value, float) else str(value)
            st.metric(column.replace("_", " ").capitalize(), shown)
        if "anomaly_score" in result.columns:  # an autoencoder: how badly the row is rebuilt, and the verdict
            st.metric("Anomaly score", f"{first['anomaly_score']:,.4g}",
                      help="The row's reconstruction error; above the model's threshold it is flagged.")
            st.metric("Flagged as an anomaly", "yes" if first["anomaly"] else "no")
        if is_classifier:
            probabilities = {c.removeprefix("probability_"): float(first[c])
                             for c in result.columns if c.startswith("probability_")}
            st.plotly_chart(charts.probability_figure(probabilities), key="probabilities")
        if single[2] is not None:
            with st.expander("Why this prediction?", expanded=True, icon=":material/insights:"):
                render_attributions(single[2])

st.subheader("Many rows")
if series:
    st.caption(f"The CSV is a history: at least {prepared.sequence.window} rows per series with the columns "
               f"{', '.join(c for c in [prepared.sequence.time_column, prepared.sequence.group_column] if c)}"
               f"{', ' if prepared.sequence.time_column or prepared.sequence.group_column else ''}"
               f"{', '.join(prepared.feature_columns)}. You get one forecast per complete window; the last one "
               "lies beyond the end of the history.")
elif prepared.input_kind == "image":
    st.caption(f"The CSV needs the {len(prepared.feature_columns):,} pixel columns the model was trained on "
               f"({prepared.feature_columns[0]} … {prepared.feature_columns[-1]}). Extra columns are ignored.")
else:
    st.caption(f"The CSV needs the input columns the model was trained on: {', '.join(prepared.feature_columns)}. "
               "Extra columns are ignored.")
upload = st.file_uploader("Upload rows to predict (CSV)", type=["csv", "txt", "tsv"], key="predict_upload")
if upload is not None:
    cache_key = (upload.file_id, id(trained))
    cached = st.session_state.get(BATCH_CACHE)
    try:
        if not cached or cached[0] != cache_key:
            df, warnings = read_csv(upload.getvalue(), name=upload.name)
            predictions = bundle.predict(df)
            combined = predictions if series else pd.concat([predictions.reset_index(drop=True),
                                                             df.reset_index(drop=True)], axis=1)
            st.session_state[BATCH_CACHE] = cached = (cache_key, combined, warnings)
        _, combined, warnings = cached
        show_warnings(warnings)
        st.caption(f"{len(combined):,} predictions. The first 20:")
        st.dataframe(combined.head(20), hide_index=True)
        st.download_button("Download predictions", combined.to_csv(index=False).encode("utf-8"),
                           file_name=task.predictions_file,
                           mime="text/csv", type="primary", icon=":material/download:")
    except NNBuilderError as exc:
        show_error(exc)

next_step("Keep the model: download it as a bundle.", "pages/6_Export.py", "Export")
