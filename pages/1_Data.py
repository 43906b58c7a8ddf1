"""Data: pick a built-in dataset or upload a CSV, choose the target, the task and the split."""

import pandas as pd
import streamlit as st

from nnbuilder.data.pipeline import infer_roles, read_csv
from nnbuilder.tasks import detect_task, find_task
from nnbuilder.errors import NNBuilderError
from nnbuilder.data.embedding import max_categories
from nnbuilder.spec.network import INPUT_KINDS, DataSpec, ImageInputSpec, SequenceInputSpec, SplitSpec, TabularInputSpec
from nnbuilder.model.heads import task_label
from ui import charts, engine, state
from ui.page import header, next_step, show_error, show_warnings
from ui.widgets import field_meta, field_widget
from ui.session import start as start_session

start_session()  # safe when Streamlit runs this page on its own (a deep link)

UPLOAD_ERROR = "upload_error"
UPLOAD_REV, DATASET_REV = "upload_rev", "dataset_rev"
INPUT_LABELS = {"tabular": "Table: each column is one input", "image": "Images: each row is one picture in pixel columns",
                "sequence": "Sequence: a time series, or one sequence per row"}
IMAGE_SETTINGS = ("channels", "height", "width", "pixel_max")
NO_COLUMN = "(none)"
SAMPLE_IMAGES = 12


def _column_choice(label: str, columns: list[str], current, key: str, help: str, container):
    """A selectbox over the table's columns with a "(none)" first; returns the column or None."""
    options = [NO_COLUMN, *columns]
    chosen = container.selectbox(label, options, index=options.index(current) if current in options else 0,
                                 key=key, help=help)
    return None if chosen == NO_COLUMN else chosen


def _category_settings(settings: dict, rev: int) -> None:
    """One-hot or embeddings for text categories (TabularInputSpec); the embedding sizes only when embedding."""
    labels = {"one_hot": "One-hot (a 0/1 input per category)", "embedding": "Embeddings (a learned vector per category)"}
    settings["categorical"] = field_widget(TabularInputSpec, "categorical", settings.get("categorical", "one_hot"),
                                           key=f"tab_categorical_{rev}", format_func=lambda v: labels.get(v, v),
                                           label="Categorical columns")
    if settings["categorical"] != "embedding":
        for name in ("categorical", "embedding_min_levels", "embedding_dim"):  # the defaults: keep the spec short
            settings.pop(name, None)
        return
    for name, column in zip(("embedding_min_levels", "embedding_dim"), st.columns(2)):
        value = field_widget(TabularInputSpec, name, settings.get(name, TabularInputSpec.model_fields[name].default),
                             key=f"tab_{name}_{rev}", container=column)
        if value is None:
            settings.pop(name, None)
        else:
            settings[name] = value


def _sequence_settings(settings: dict, df: pd.DataFrame, target, rev: int) -> None:
    """The sequence input's fields, generated from SequenceInputSpec; columns are picked from the table."""
    fields = SequenceInputSpec.model_fields
    layout = field_widget(SequenceInputSpec, "layout", settings.get("layout", "time_series"), key=f"seq_layout_{rev}")
    settings["layout"] = layout
    others = [str(c) for c in df.columns if c != target]
    if layout == "time_series":
        st.caption("Each row is one time step. Every window of consecutive rows predicts the target a few steps "
                   "later (a number: forecast) or the label of its last row; the split follows time.")
        time_col, group_col, window_col, horizon_col = st.columns(4)
        for name, container in (("time_column", time_col), ("group_column", group_col)):
            value = _column_choice(name.replace("_", " ").capitalize(), others, settings.get(name), f"seq_{name}_{rev}",
                                   fields[name].description, container)
            settings[name] = value
            if value is None:
                settings.pop(name)
        for name, container in (("window", window_col), ("horizon", horizon_col)):
            settings[name] = field_widget(SequenceInputSpec, name, settings.get(name, fields[name].default),
                                          key=f"seq_{name}_{rev}", container=container)
        settings.pop("steps", None)
    else:
        st.caption("Each row is one whole sequence: its value columns are read in order as time steps.")
        steps = field_widget(SequenceInputSpec, "steps", settings.get("steps"), key=f"seq_steps_{rev}")
        if steps is None:
            settings.pop("steps", None)
        else:
            settings["steps"] = steps
        for name in ("time_column", "group_column", "window", "horizon"):
            settings.pop(name, None)
    skip = {settings.get("time_column"), settings.get("group_column")}
    chosen = st.multiselect("Value columns", [c for c in others if c not in skip],
                            default=[c for c in settings.get("value_columns", []) if c in others and c not in skip],
                            key=f"seq_values_{rev}", help=fields["value_columns"].description,
                            placeholder="every numeric column")
    if chosen:
        settings["value_columns"] = chosen
    else:
        settings.pop("value_columns", None)


def _guess_target(df: pd.DataFrame):
    current = state.spec_dict().get("data", {}).get("target")
    return current if isinstance(current, str) and current in df.columns else df.columns[-1]


def _on_upload(key: str) -> None:
    """Read the new file; on failure keep the current table and remember the message."""
    upload = st.session_state.get(key)
    st.session_state[UPLOAD_ERROR] = None
    if upload is None:
        return
    try:
        df, warnings = read_csv(upload.getvalue(), name=upload.name)
    except NNBuilderError as exc:
        st.session_state[UPLOAD_ERROR] = (key, str(exc))  # shown while that file sits in the uploader
        return
    state.use_table(df, upload.name, warnings, _guess_target(df))
    st.session_state[DATASET_REV] = st.session_state.get(DATASET_REV, 0) + 1  # clear the dataset menu


def _on_dataset(key: str) -> None:
    name = st.session_state.get(key)
    if not name:
        return
    try:
        df, warnings = state.load_builtin(name)
    except NNBuilderError as exc:
        st.session_state[UPLOAD_ERROR] = (None, str(exc))
        return
    st.session_state[UPLOAD_ERROR] = None
    state.use_table(df, f"{state.BUILTIN_PREFIX}{name}", warnings, state.builtin_datasets()[name][1])
    st.session_state[UPLOAD_REV] = st.session_state.get(UPLOAD_REV, 0) + 1  # clear the uploader


header(1, "Data", "Start from a built-in dataset or upload your own table. Then choose the column to predict. "
       "The app opens on a ready-made example, so you can also go straight to **Train**.")

datasets = state.builtin_datasets()
left, right = st.columns(2)
with left:
    current = state.data_name().removeprefix(state.BUILTIN_PREFIX)
    key = f"dataset_{st.session_state.get(DATASET_REV, 0)}"
    st.selectbox(
        "Built-in dataset", list(datasets), index=list(datasets).index(current) if current in datasets else None,
        format_func=lambda n: f"{n} — {datasets[n][0]}", key=key, on_change=_on_dataset, args=(key,),
        placeholder="Pick a built-in dataset", help="Small classic datasets for practising and teaching.",
    )
with right:
    key = f"upload_{st.session_state.get(UPLOAD_REV, 0)}"
    st.file_uploader("Upload a CSV", type=["csv", "txt", "tsv"], key=key, on_change=_on_upload, args=(key,),
                     help="A table with one row per example and a header row. Commas, semicolons or tabs all work.")

failed = st.session_state.get(UPLOAD_ERROR)
if failed and (failed[0] is None or st.session_state.get(failed[0]) is not None):
    st.error(f"{failed[1]} — still using **{state.display_name()}**.", icon=":material/error:")

df = state.data_frame()
spec = state.spec_dict()
data = spec.setdefault("data", {})
rev = state.rev()

st.subheader(f"Preview of {state.display_name()}")
st.caption(f"{len(df):,} rows × {len(df.columns)} columns. The first 20 rows:")
st.dataframe(df.head(20), hide_index=True)

st.subheader("What to predict")
columns = [str(c) for c in df.columns]
target = data.get("target")
col_target, col_task, col_detected = st.columns(3)
with col_task:  # first, so the target box below already knows an autoencoder's label is optional
    data["task"] = field_widget(DataSpec, "task", data.get("task", "auto"), key=f"task_{rev}",
                                label="Task (auto-detected, or choose)")
chosen_task = find_task(data["task"])  # None for 'auto'
target_means = chosen_task.target if chosen_task is not None else "required"
with col_target:
    if target_means == "label":  # nothing to predict: an optional label only colours the latent space and scores the anomalies
        data["target"] = target = _column_choice(
            "Label column (optional)", columns, target, f"label_{rev}", "An autoencoder learns to rebuild every "
            "input column; a label (e.g. is_anomaly) is never an input: it colours the latent space and checks the "
            "anomaly scores.", st)
    else:
        chosen = st.selectbox("Target column", columns, index=columns.index(target) if target in columns else None,
                              key=f"target_{rev}", placeholder="Choose the column to predict",
                              help=DataSpec.model_fields["target"].description)
        if isinstance(target, list):
            st.caption(f"This spec predicts several columns at once: {', '.join(map(str, target))}.")
        if chosen is not None and chosen != target:
            data["target"] = target = chosen
with col_detected:
    if target_means != "required" or (target is not None and (isinstance(target, list) or target in columns)):
        try:
            settings = engine.data_settings_spec(state.spec_dict())  # the input kind decides too (forecast)
            st.metric("Detected task", task_label(detect_task(df, settings.data, settings.input)))
        except NNBuilderError as exc:
            show_error(exc)

drop_options = [c for c in columns if c != target and not (isinstance(target, list) and c in target)]
data["drop_columns"] = st.multiselect(
    "Columns to leave out", drop_options, default=[c for c in data.get("drop_columns", []) if c in drop_options],
    key=f"drop_{rev}_{target}", help=DataSpec.model_fields["drop_columns"].description,
)

# Defaults, step and limits are the spec's (SplitSpec); the slider shows them in percent.
default_split, train_meta = SplitSpec(), field_meta(SplitSpec, "train")
split = data.setdefault("split", default_split.model_dump())
train_lo, train_hi = (round(share * 100) for share in train_meta.slider_range)
train_pct = min(train_hi, max(train_lo, round(split.get("train", default_split.train) * 100)))
start = (train_pct, min(100, max(train_pct, round((split.get("train", default_split.train)
                                                   + split.get("val", default_split.val)) * 100))))
low, high = st.slider("Split: training | validation | test (%)", train_lo, 100, start,
                      step=round(train_meta.step * 100), key=f"split_{rev}",
                      help=DataSpec.model_fields["split"].description + " Drag the two handles.\n\n" + "\n".join(
                          f"- **{n}**: {SplitSpec.model_fields[n].description}" for n in ("train", "val", "test")))
data["split"] = {"train": low / 100, "val": (high - low) / 100, "test": round(1 - high / 100, 2)}
st.caption(f"Training {low}% · validation {high - low}% · test {100 - high}% of the rows.")

st.subheader("Input")
image_input = spec.setdefault("input", {"kind": "tabular"})
kinds = list(INPUT_KINDS)
kind = st.radio("How each row becomes the network's input", kinds, horizontal=True,
                index=kinds.index(image_input.get("kind")) if image_input.get("kind") in kinds else 0,
                format_func=lambda k: INPUT_LABELS.get(k, k), key=f"input_kind_{rev}",
                help="Chosen automatically from the columns: many numbered numeric columns (pixel0, pixel1, ...) "
                "in a square count look like images. Convolution and pooling layers need the image input; "
                "for a time series (a row per time step) or ordered sequence columns choose the sequence input.")
if kind != image_input.get("kind"):
    spec["input"] = image_input = {"kind": kind}
    if kind == "sequence":  # a date column is the natural order of a time series
        dates = [c.name for c in infer_roles(df, target, data["drop_columns"]) if c.role == "datetime"]
        if dates:
            image_input["time_column"] = dates[0]
if kind == "sequence":
    _sequence_settings(image_input, df, target, rev)
elif kind == "tabular":
    _category_settings(image_input, rev)
elif kind == "image":
    st.caption("Pixel columns are read channel by channel, each row by row (pixel0 is the top-left corner). "
               "Leave a box empty to let the app work it out from the number of pixel columns.")
    for column, name in zip(st.columns(len(IMAGE_SETTINGS)), IMAGE_SETTINGS):
        value = field_widget(ImageInputSpec, name, image_input.get(name), key=f"image_{name}_{rev}", container=column)
        if value is None:
            image_input.pop(name, None)
        else:
            image_input[name] = value

st.subheader("Columns")
st.caption("How the network will see each column. Change the role of a column by leaving it out above.")
try:
    roles = infer_roles(df, target, data["drop_columns"], max_categories(engine.data_settings_spec(spec).input))
    if kind in ("image", "sequence"):  # every pixel (or chosen step) is an input, whatever its values
        roles = engine.prepared_for(engine.data_settings_spec(spec)).columns
    st.dataframe(pd.DataFrame([{"column": c.name, "type": c.dtype, "missing": c.missing, "distinct values": c.unique,
                                "role": c.role, "why": c.reason} for c in roles]), hide_index=True,
                 height=min(38 + 35 * len(roles), 600),
                 column_config={"why": st.column_config.TextColumn(width="large")})
    prepared = engine.prepared_for(engine.data_settings_spec(spec))
    show_warnings([*state.data_warnings(), *prepared.warnings])
    if prepared.input_kind == "sequence":
        steps, features = prepared.input_shape
        inputs = (f"{len(prepared.X_train) + len(prepared.X_val) + len(prepared.X_test):,} sequences of {steps} steps "
                  f"× {features} feature{'s' if features > 1 else ''}")
    elif prepared.input_kind == "image":
        channels, height, width = prepared.input_shape
        sample = df.head(SAMPLE_IMAGES)
        st.plotly_chart(charts.image_grid_figure(prepared.preprocessing.transform(sample), list(sample[target])),
                        key="sample_images")
        inputs = f"{height}×{width} images with {channels} channel{'s' if channels > 1 else ''}"
    else:
        inputs = f"{len(prepared.feature_columns)} input columns"
    next_step(f"Ready: {inputs}, task {task_label(prepared.task).lower()}. Next, shape the network.",
              "pages/2_Build.py", "Build")
except NNBuilderError as exc:
    show_warnings(state.data_warnings())
    show_error(exc)
