"""Build: stack hidden layers, see shapes, parameter counts and a diagram as you edit."""

import json

import pandas as pd
import streamlit as st

from nnbuilder.compile import MAX_PARAMETERS
from nnbuilder.errors import NNBuilderError, SpecError
from nnbuilder.layers import LAYERS
from nnbuilder.spec import AutoencoderSpec, parse_spec
from nnbuilder.workflow import describe_network
from ui import charts, engine, stack, state
from ui.page import header, next_step, show_error
from ui.widgets import editable_fields, field_widget
from ui.session import start as start_session

start_session()  # safe when Streamlit runs this page on its own (a deep link)

IMPORT_PROBLEMS = "import_problems"


def _stack(where: str = "layers") -> list[dict]:
    """The hidden layers ("layers") or an autoencoder's own decoder ("decoder") in the spec dict."""
    spec = state.spec_dict()
    if where == "decoder":
        return (spec.get("autoencoder") or {}).get("decoder", [])
    return spec.get("layers", [])


def _set_layers(layers: list[dict], where: str = "layers") -> None:
    if where == "decoder":
        state.spec_dict().setdefault("autoencoder", {})["decoder"] = layers
    else:
        state.spec_dict()["layers"] = layers
    state.bump_rev()  # the editors are re-created from the new stack


def _on_add(where: str = "layers") -> None:
    label = st.session_state.get(f"add_{where}_type" if where != "layers" else "add_layer_type")
    name = next(n for n, t in LAYERS.items() if t.label == label)
    _set_layers(stack.add_layer(_stack(where), name), where)


def _on_move(index: int, offset: int, where: str = "layers") -> None:
    _set_layers(stack.move_layer(_stack(where), index, offset), where)


def _on_delete(index: int, where: str = "layers") -> None:
    _set_layers(stack.delete_layer(_stack(where), index), where)


def _on_mirror_toggle(key: str) -> None:
    """Turning the mirror off starts the decoder as the mirror's layers, ready to edit."""
    settings = state.spec_dict().setdefault("autoencoder", {})
    settings["mirror_decoder"] = bool(st.session_state.get(key))
    if not settings["mirror_decoder"] and not settings.get("decoder"):
        settings["decoder"] = stack.mirrored_layers(_stack())
    state.bump_rev()


def _on_preset() -> None:
    name = st.session_state.get("preset")
    if name:
        _set_layers(stack.preset_layers(name))
        task = stack.PRESET_TASKS.get(name)
        if task:  # e.g. the autoencoder preset also chooses its task
            state.spec_dict().setdefault("data", {})["task"] = task


def _import(text: str) -> None:
    st.session_state[IMPORT_PROBLEMS] = None
    try:
        data = json.loads(text)
        spec = parse_spec(data).model_dump(mode="json")
    except json.JSONDecodeError as exc:
        st.session_state[IMPORT_PROBLEMS] = [f"the spec is not valid JSON: {exc.msg} at line {exc.lineno}, "
                                             f"column {exc.colno}"]
        return
    except SpecError as exc:
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


def _layer_editor(index: int, layer: dict, count: int, where: str = "layers"):
    """The layer's title, move/delete buttons and settings; returns a slot for its error messages."""
    layer_type = LAYERS.get(layer.get("type"))
    rev = state.rev() if where == "layers" else f"{state.rev()}_{where}"
    with st.container(border=True):
        title, up, down, delete = st.columns([6, 1, 1, 1], vertical_alignment="center")
        title.markdown(f"**{index + 1}. {layer_type.label if layer_type else layer.get('type')}**")
        up.button("", icon=":material/arrow_upward:", key=f"up_{rev}_{index}", on_click=_on_move,
                  args=(index, -1, where), disabled=index == 0, help="Move this layer up")
        down.button("", icon=":material/arrow_downward:", key=f"down_{rev}_{index}", on_click=_on_move,
                    args=(index, 1, where), disabled=index == count - 1, help="Move this layer down")
        delete.button("", icon=":material/delete:", key=f"del_{rev}_{index}", on_click=_on_delete,
                      args=(index, where), help="Delete this layer")
        if layer_type is not None:
            st.caption(layer_type.summary)
            fields = editable_fields(layer_type.spec)
            if not fields:
                st.caption("Nothing to set: it adapts to the layer before it.")
            per_row = 3 if len(fields) > 4 else max(1, len(fields))  # e.g. conv2d's five settings: 3 + 2
            for start in range(0, len(fields), per_row):
                for column, name in zip(st.columns(per_row), fields[start:start + per_row]):
                    default = layer_type.spec.model_fields[name].default
                    layer[name] = field_widget(layer_type.spec, name, layer.get(name, default),
                                               key=f"layer_{rev}_{index}_{name}", container=column)
        return st.container()


def _autoencoder_settings(spec_data: dict) -> None:
    """The latent layer, the threshold and the decoder: mirrored, or a stack of its own."""
    st.subheader("Autoencoder")
    st.caption("The layers above are the encoder. It ends in the latent layer; the decoder then rebuilds every input "
               "column from it, and rows it rebuilds badly are anomalies.")
    settings = spec_data.get("autoencoder") or {}
    rev = state.rev()
    latent_col, threshold_col = st.columns(2)
    for name, column in (("latent_dim", latent_col), ("threshold_quantile", threshold_col)):
        settings[name] = field_widget(AutoencoderSpec, name, settings.get(name, AutoencoderSpec.model_fields[name].default),
                                      key=f"ae_{name}_{rev}", container=column)
    key = f"ae_mirror_{rev}"
    st.toggle("Decoder mirrors the encoder", value=settings.get("mirror_decoder", True), key=key,
              on_change=_on_mirror_toggle, args=(key,), help=AutoencoderSpec.model_fields["mirror_decoder"].description)
    settings["mirror_decoder"] = bool(st.session_state.get(key, settings.get("mirror_decoder", True)))
    spec_data["autoencoder"] = settings
    if settings["mirror_decoder"]:
        return
    st.markdown("**Decoder layers**")
    decoder = settings.setdefault("decoder", [])
    for index, layer in enumerate(decoder):
        _layer_editor(index, layer, len(decoder), "decoder")
    type_col, add_col = st.columns([3, 1], vertical_alignment="bottom")
    type_col.selectbox("Decoder layer type", [t.label for t in LAYERS.values()], key="add_decoder_type")
    add_col.button("Add decoder layer", on_click=_on_add, args=("decoder",))


header(2, "Build", "Stack the hidden layers between the input columns and the prediction. Start from a preset, "
       "then add, edit, move or delete layers. The table and the diagram update as you go.")

spec_data = state.spec_dict()
layers = spec_data.setdefault("layers", [])

preset_col, apply_col, _ = st.columns([3, 1, 2], vertical_alignment="bottom")
preset_col.selectbox("Start from a preset", list(stack.PRESETS), key="preset", index=None,
                     placeholder="Choose a preset network",
                     help="Replaces the hidden layers. A perceptron has none: inputs go straight to the output.")
apply_col.button("Use preset", on_click=_on_preset)

editor, overview = st.columns([5, 6], gap="large")
with editor:
    st.subheader("Hidden layers")
    if not layers:
        st.caption("No hidden layers: this is a perceptron (linear or logistic regression).")
    slots = [_layer_editor(i, layer, len(layers)) for i, layer in enumerate(layers)]
    type_col, add_col = st.columns([3, 1], vertical_alignment="bottom")
    type_col.selectbox("Layer type", [t.label for t in LAYERS.values()], key="add_layer_type",
                       help="\n".join(f"- **{t.label}**: {t.summary}" for t in LAYERS.values()))
    add_col.button("Add layer", on_click=_on_add, type="primary")
    if spec_data.get("data", {}).get("task") == "autoencoder":
        _autoencoder_settings(spec_data)

try:  # after the editors wrote this run's values into the spec
    parse_spec(spec_data)
    problems: list[str] = []
except SpecError as exc:
    problems = exc.problems
by_layer, general = stack.split_problems(problems)
general += [p for i, found in by_layer.items() if i >= len(slots) for p in found]
for index, slot in enumerate(slots):
    for problem in by_layer.get(index, []):
        slot.error(problem, icon=":material/error:")

with overview:
    st.subheader("Network")
    try:
        data_spec = engine.data_settings_spec(spec_data)
        prepared = engine.prepared_for(data_spec)
        if problems:
            for problem in general:
                st.error(problem, icon=":material/error:")
            st.info("Fix the settings marked in red to see the table and the diagram.")
        else:
            rows = [r.to_dict() for r in describe_network(parse_spec(spec_data), prepared)]  # a GAN: both nets
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
    except NNBuilderError as exc:
        show_error(exc)
        st.page_link("pages/1_Data.py", label="Fix the data settings", icon=":material/table_chart:")

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

if not problems:
    next_step("Happy with the shape? Choose how it learns and start training.", "pages/3_Train.py", "Train")
