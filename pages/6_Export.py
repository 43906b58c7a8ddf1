"""Export: download the trained model bundle and the spec, and see how to use them outside the app."""

import json

import streamlit as st

from nnbuilder.errors import NNBuilderError
from nnbuilder.spec import spec_to_json
from ui import engine, state
from ui.page import header, next_step, show_error

PYTHON_SNIPPET = """import pandas as pd
from nnbuilder.bundle import load_bundle
from ui.session import start as start_session

start_session()  # safe when Streamlit runs this page on its own (a deep link)

bundle = load_bundle("model.zip")
df = pd.read_csv("new_rows.csv")
predictions = bundle.predict(df)  # a `prediction` column (+ `probability_<class>` for classifiers)
print(predictions.head())"""

CLI_SNIPPET = """# predictions for a CSV with the same input columns
nnbuilder predict model.zip new_rows.csv --out preds.csv

# retrain the same network from the command line
nnbuilder train data.csv --spec network_spec.json --out my_model"""

header(6, "Export", "Take the model with you: the bundle holds the weights, the preprocessing and the settings, "
       "and loads without this app.")

trained = state.trained()
bundle_col, spec_col = st.columns(2)
with bundle_col:
    st.subheader("Trained model")
    if trained is None:
        next_step("Nothing trained yet. Train a model first to download it.", "pages/3_Train.py", "Train")
    else:
        try:
            with st.spinner("Packing the model…"):
                _, zip_bytes = engine.bundle_for(trained)
            st.download_button("Download model bundle (.zip)", zip_bytes, file_name="model.zip",
                               mime="application/zip", type="primary", icon=":material/inventory_2:")
            st.caption(f"{len(zip_bytes) / 1024:,.0f} KB: weights (safetensors), preprocessing, spec, training "
                       "history and metrics, with checksums. Nothing in it runs code when loaded.")
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

st.subheader("Use the bundle from Python")
st.code(PYTHON_SNIPPET, language="python")
st.subheader("…or from the command line")
st.code(CLI_SNIPPET, language="bash")
