"""Build: stack hidden layers, see shapes, parameter counts and a diagram as you edit.

Every stack (the hidden layers, an autoencoder's decoder, a GAN's discriminator, a
residual block's inner layers) is edited by `ui.stack_editor`; this page lays the
stacks out for the task, validates the spec once, and puts each problem beside the
layer it names (the rest go above the table).
"""

import json

import pandas as pd
import streamlit as st

from nnbuilder.model.compile import MAX_PARAMETERS
from nnbuilder.errors import NNBuilderError, SpecError
from nnbuilder.spec.network import AutoencoderSpec, GanSpec, parse_spec
from nnbuilder.tasks import describe_network, find_task
from ui import charts, engine, stack, state
from ui.page import header, next_step, show_error
from ui.stack_editor import Slots, show_problems, stack_editor
from ui.widgets import field_widget
from ui.session import start as start_session

start_session()  # safe when Streamlit runs this page on its own (a deep link)

IMPORT_PROBLEMS = "import_problems"
PRESET_APPLIED = "preset_applied"  # the last preset used, for the input-kind hint


def _on_mirror_toggle(key: str) -> None:
    """Turning the mirror off starts the decoder as the mirror's layers, ready to edit."""
    settings = state.spec_dict().setdefault("autoencoder", {})
    settings["mirror_decoder"] = bool(st.session_state.get(key))
    if not settings["mirror_decoder"] and not settings.get("decoder"):
        settings["decoder"] = stack.mirrored_layers(state.spec_dict().get("layers", []))
    state.bump_rev()


def _on_preset() -> None:
    """The preset's layers; a task preset (autoencoder, GAN) also sets its task and its section (the decoder,
    the discriminator). The input kind stays the Data page's choice: a hint says when the preset wants another."""
    name = st.session_state.get("preset")
    if not name:
        return
    spec = state.spec_dict()
    spec["layers"] = stack.preset_layers(name)
    st.session_state[PRESET_APPLIED] = name
    task = stack.PRESET_TASKS.get(name)
    if task:
        spec.setdefault("data", {})["task"] = task
        spec.update(stack.preset_sections(name))
    state.bump_rev()


def _import(text: str) -> None:
    st.session_state[IMPORT_PROBLEMS] = None
    try:
        data = json.loads(text)
        spec = parse_spec(data).model_dump(mode="json")
    except json.JSONDecodeError as exc:
        st.session_state[IMPORT_PROBLEMS] = [f"the spec is not valid JSON: {exc.msg} at line {exc.lineno}, "
                                             f"column {exc.colno}"]
        return
    except SpecError as exc:  # about the pasted JSON, not the cards: its own (0-based) paths
        st.session_state[IMPORT_PROBLEMS] = exc.problems
        return
    if spec["data"].get("target") is None:  # a network-only spec keeps the chosen target
        spec["data"]["target"] = state.spec_dict().get("data", {}).get("target")
    state.set_spec(spec)
    st.session_state[IMPORT_PROBLEMS] = []


def _on_import_file() -> None:
    upload = st.session_state.get("import_file")
    if upload is not None:
        _import(upload.getvalue().decode("utf-8", errors="replace"))


def _on_import_text() -> None:
    _import(st.session_state.get("import_text", ""))


def _autoencoder_settings(spec_data: dict) -> Slots:
    """The latent layer, the threshold and the decoder: mirrored, or a stack of its own."""
    st.subheader("Autoencoder")
    st.caption("The layers above are the encoder. It ends in the latent layer; the decoder then rebuilds every input "
               "column from it, and rows it rebuilds badly are anomalies.")
    settings = spec_data.get("autoencoder") or {}
    rev = state.rev()
    latent_col, threshold_col = st.columns(2)
    for name, column in (("latent_dim", latent_col), ("threshold_quantile", threshold_col)):
        default = AutoencoderSpec.model_fields[name].default
        settings[name] = field_widget(AutoencoderSpec, name, settings.get(name, default), key=f"ae_{name}_{rev}",
                                      container=column)
    key = f"ae_mirror_{rev}"
    st.toggle("Decoder mirrors the encoder", value=settings.get("mirror_decoder", True), key=key,
              on_change=_on_mirror_toggle, args=(key,), help=AutoencoderSpec.model_fields["mirror_decoder"].description)
    settings["mirror_decoder"] = bool(st.session_state.get(key, settings.get("mirror_decoder", True)))
    spec_data["autoencoder"] = settings
    if settings["mirror_decoder"]:
        return {}
    st.markdown("**Decoder layers**")
    return stack_editor("autoencoder.decoder")


def _gan_settings(spec_data: dict) -> Slots:
    """The GAN's two networks: the generator (the main stack), its noise, and the discriminator's own stack."""
    st.subheader("Generator and discriminator")
    st.caption("Two networks learn against each other: the generator turns random noise into a new row, the "
               "discriminator tells real rows from generated ones, and each improves by beating the other.")
    settings = spec_data.get("gan") or GanSpec().model_dump(mode="json")  # the defaults, ready to edit
    spec_data["gan"] = settings
    rev = state.rev()
    noise_col, factor_col = st.columns(2)
    for name, column, label in (("noise_dim", noise_col, "Noise size"),
                                ("discriminator_lr_factor", factor_col, "Discriminator LR factor")):
        default = GanSpec.model_fields[name].default
        settings[name] = field_widget(GanSpec, name, settings.get(name, default), key=f"gan_{name}_{rev}",
                                      container=column, label=label)
    st.markdown("**Generator** (noise → row)")
    st.caption("Its hidden layers; it ends in one output per encoded column of the table.")
    slots = stack_editor("layers", name="generator")
    st.markdown("**Discriminator** (row → real or generated)")
    st.caption(GanSpec.model_fields["discriminator"].description)
    if "discriminator" not in settings:  # e.g. an imported `"gan": {"noise_dim": 8}`: show what the engine would use
        settings["discriminator"] = GanSpec().model_dump(mode="json")["discriminator"]
    slots.update(stack_editor("gan.discriminator"))
    return slots


def _preset_hint(spec_data: dict) -> None:
    """Say so when the last preset wants another input kind than the Data page's (e.g. LSTM on a table)."""
    name = st.session_state.get(PRESET_APPLIED)
    wanted = stack.PRESET_INPUT_KINDS.get(name, "tabular") if name else None
    have = (spec_data.get("input") or {}).get("kind", "tabular")
    if wanted and wanted != have:
        st.info(f"The {name} preset is made for the {wanted} input (e.g. the built-in "
                f"{stack.PRESET_DATASETS.get(name)} dataset); this table uses the {have} input: choose it on the "
                "Data page.", icon=":material/info:")


header(2, "Build", "Stack the hidden layers between the input columns and the prediction. Start from a preset, "
       "then add, edit, move or delete layers. The table and the diagram update as you go.")

spec_data = state.spec_dict()
layers = spec_data.setdefault("layers", [])
task = (spec_data.get("data") or {}).get("task")

preset_col, apply_col, _ = st.columns([3, 1, 2], vertical_alignment="bottom")
preset_col.selectbox("Start from a preset", list(stack.PRESETS), key="preset", index=None,
                     placeholder="Choose a preset network",
                     help="Replaces the hidden layers (a task preset also chooses its task). Each is made for one "
                     "built-in dataset:\n" + "\n".join(f"- **{name}**: {dataset}"
                                                       for name, dataset in stack.PRESET_DATASETS.items()))
apply_col.button("Use preset", on_click=_on_preset)
_preset_hint(spec_data)

# The editor of each task section (NetworkSpec.<section>): one replaces the hidden-layer stack, one adds to it.
REPLACING_EDITORS = {"gan": _gan_settings}
EXTRA_EDITORS = {"autoencoder": _autoencoder_settings}

editor, overview = st.columns([5, 6], gap="large")
with editor:
    section = getattr(find_task(task), "spec_section", None)  # the task's own settings section, if any
    if section in REPLACING_EDITORS:  # e.g. the GAN: its generator and discriminator stacks
        slots = REPLACING_EDITORS[section](spec_data)
    else:
        st.subheader("Hidden layers")
        if not layers:
            st.caption("No hidden layers: this is a perceptron (linear or logistic regression).")
        slots = stack_editor("layers")
        if section in EXTRA_EDITORS:  # e.g. the autoencoder's latent layer and decoder
            slots.update(EXTRA_EDITORS[section](spec_data))

# After the editors wrote this run's values into the spec: validate, then fit the network to the data.
rows, data_error = None, None
try:
    parse_spec(spec_data)
    problems = []
except SpecError as exc:
    problems = exc.spec_problems  # each with its spec path: shown on that layer's card
try:
    prepared = engine.prepared_for(engine.data_settings_spec(spec_data))
except NNBuilderError as exc:
    data_error = exc
if data_error is None and not problems:
    try:
        rows = [r.to_dict() for r in describe_network(parse_spec(spec_data), prepared)]  # a GAN: both nets
    except SpecError as exc:  # layers that do not fit the data: shown at those layers
        problems = exc.spec_problems
general = show_problems(slots, problems)

with overview:
    st.subheader("Network")
    if data_error is not None:
        show_error(data_error)
        st.page_link("pages/1_Data.py", label="Fix the data settings", icon=":material/table_chart:")
    elif problems:
        for problem in general:
            st.error(problem, icon=":material/error:")
        st.info("Fix the settings marked in red to see the table and the diagram.")
    elif rows is not None:
        total = sum(r["parameters"] for r in rows)
        st.metric("Trainable parameters", f"{total:,}",
                  help="Weights and biases the network learns. More parameters fit more patterns, need more data.")
        if total > MAX_PARAMETERS:
            st.error(f"layers: the network has {total:,} parameters, more than the {MAX_PARAMETERS:,} allowed; "
                     "use fewer or smaller layers")
        st.plotly_chart(charts.architecture_figure(rows), key="architecture")
        table = pd.DataFrame([{"layer": r["name"], "output shape": str(tuple(r["output_shape"])),
                               "parameters": r["parameters"], "detail": r["detail"]} for r in rows])
        st.dataframe(table, hide_index=True, column_config={"detail": st.column_config.TextColumn(width="large")})

with st.expander("Import or export the network as JSON"):
    st.caption("The JSON file holds every setting of this app: data, layers and training. "
               "The command line reads the same file: `nnbuilder train data.csv --spec network.json`.")
    st.file_uploader("Import a spec file", type=["json"], key="import_file", on_change=_on_import_file)
    st.text_area("…or paste spec JSON", key="import_text", height=150)
    st.button("Import pasted JSON", on_click=_on_import_text)
    imported = st.session_state.get(IMPORT_PROBLEMS)
    if imported:
        st.error("The spec was not imported; nothing changed:\n" + "\n".join(f"- {p}" for p in imported),
                 icon=":material/error:")
    elif imported == []:
        st.success("Spec imported.")
    st.download_button("Download spec JSON", json.dumps(spec_data, indent=2), file_name="network_spec.json",
                       mime="application/json", key="download_spec_build")

if not problems and data_error is None:
    next_step("Happy with the shape? Choose how it learns and start training.", "pages/3_Train.py", "Train")
