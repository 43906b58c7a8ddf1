"""Export: the bundle, the spec, the model card, ONNX / TorchScript / a PyTorch script, and how to serve it."""

import json
import re

import streamlit as st

from nnbuilder.errors import NNBuilderError
from nnbuilder.export.formats import EXPORT_FORMATS
from nnbuilder.spec.network import spec_to_json
from ui import engine, state
from ui.page import header, next_step, show_error
from ui.session import start as start_session

start_session()  # safe when Streamlit runs this page on its own (a deep link)

PYTHON_SNIPPET = """import pandas as pd
from nnbuilder.bundle.bundle import load_bundle

bundle = load_bundle("model.zip")  # checks every file's checksum; never runs code from the bundle
df = pd.read_csv("new_rows.csv")
predictions = bundle.predict(df)  # a `prediction` column (+ `probability_<class>` for classifiers)
print(predictions.head())"""

ONNX_SNIPPET = """import numpy as np, onnxruntime as ort, pandas as pd

session = ort.InferenceSession("model.onnx")
df = pd.read_csv("new_rows.csv")
feeds = {}
for i in session.get_inputs():  # one input per raw column, shape [N, 1]; a date column arrives as its
    column = df[i.name]          # parts (signup_year, ...): the file's nnbuilder_inputs metadata lists them
    feeds[i.name] = (column.fillna("").astype(str) if i.type == "tensor(string)"
                     else column.astype(np.float32)).to_numpy().reshape(-1, 1)
outputs = session.run(None, feeds)  # prediction, then probabilities for a classifier"""

CLI_SNIPPET = """# predictions for a CSV with the same input columns
nnbuilder predict model.zip new_rows.csv --out preds.csv

# the same exports from the command line
nnbuilder export model.zip --format onnx --out model.onnx

# a prediction API on this machine (OpenAPI docs at http://127.0.0.1:8000/docs)
nnbuilder serve model.zip --port 8000
curl -X POST http://127.0.0.1:8000/predict -H 'Content-Type: application/json' -d '{"rows": [{...}]}'

# retrain the same network from the command line
nnbuilder train data.csv --spec network_spec.json --out my_model"""


def _export_button(trained, fmt: str) -> None:
    info = EXPORT_FORMATS[fmt]
    st.markdown(f"**{info.label}**")
    st.caption(info.help)
    key = f"prepare_{fmt}"
    if st.button(f"Prepare {info.noun}", key=key,
                 icon=":material/build:") or st.session_state.get(f"{key}_done") is trained:
        try:
            with st.spinner("Exporting and checking the file against the model…"):
                data = engine.export_for(trained, fmt)
            st.session_state[f"{key}_done"] = trained
            st.download_button(f"Download {info.file_name}", data, file_name=info.file_name, mime=info.mime,
                               key=f"download_{fmt}", icon=":material/download:")
            st.caption(f"{len(data) / 1024:,.0f} KB, checked against the model on its test rows.")
        except NNBuilderError as exc:
            show_error(exc)


header(6, "Export", "Take the model with you: the bundle holds the weights, the preprocessing and the settings, "
       "and loads without this app; ONNX, TorchScript and a training script take it further.")

trained = state.trained()
bundle_col, spec_col = st.columns(2)
bundle = None
with bundle_col:
    st.subheader("Trained model")
    if trained is None:
        next_step("Nothing trained yet. Train a model first to download it.", "pages/3_Train.py", "Train")
    else:
        try:
            with st.spinner("Packing the model…"):
                bundle, zip_bytes = engine.bundle_for(trained)
            st.download_button("Download model bundle (.zip)", zip_bytes, file_name="model.zip",
                               mime="application/zip", type="primary", icon=":material/inventory_2:")
            st.caption(f"{len(zip_bytes) / 1024:,.0f} KB: weights (safetensors), preprocessing, spec, training "
                       "history, metrics and the model card, with checksums. Nothing in it runs code when loaded.")
        except NNBuilderError as exc:
            show_error(exc)
with spec_col:
    st.subheader("Network spec")
    if trained is not None:
        spec_json = spec_to_json(trained.spec)
        st.caption("The settings the downloaded model was trained with.")
    else:
        spec_json = json.dumps(state.spec_dict(), indent=2)
        st.caption("The current settings from the Data, Build and Train pages.")
    st.download_button("Download spec JSON", spec_json, file_name="network_spec.json", mime="application/json",
                       icon=":material/data_object:")

if trained is not None and bundle is not None:
    st.subheader("Other formats")
    for column, fmt in zip(st.columns(len(EXPORT_FORMATS)), EXPORT_FORMATS):
        with column:
            _export_button(trained, fmt)
    st.subheader("Model card")
    st.caption("What the model is, how it was made and where it stops; it is also model_card.md in the bundle.")
    st.download_button("Download model card (.md)", bundle.card, file_name="model_card.md", mime="text/markdown",
                       icon=":material/description:")
    with st.container(border=True, height=420):
        st.markdown(re.sub(r"^(#+) ", r"\1### ", bundle.card, flags=re.MULTILINE))  # headings sized for a panel

st.subheader("Use the bundle from Python")
st.code(PYTHON_SNIPPET, language="python")
st.subheader("Use the ONNX file anywhere ONNX Runtime runs")
st.code(ONNX_SNIPPET, language="python")
st.subheader("…or from the command line, and as a prediction API")
st.code(CLI_SNIPPET, language="bash")
