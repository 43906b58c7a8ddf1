"""The layer-stack editor: one Streamlit component for any list of layers in the spec dict.

`stack_editor(path)` edits the list at `path` (`layers`, `autoencoder.decoder`,
`gan.discriminator`, a residual block's `layers.3.layers` ...): one bordered card
per layer with move/delete buttons and widgets generated from the layer's
pydantic fields, then an "add layer" row. A layer type with a stack of its own
(`stack.nested_fields`, e.g. the residual block) shows that stack as a nested
editor inside its card, so blocks can hold blocks. Widget keys carry the path
and the spec revision: unique per stack, re-created when the structure changes
(`state.bump_rev`). The editor returns one slot per layer, keyed by (path,
index), so the page can place the engine's problems on the card of the layer at their path.
"""

from __future__ import annotations

import streamlit as st

from nnbuilder.errors import SpecProblem
from nnbuilder.layers import LAYERS

from . import stack, state
from .widgets import editable_fields, field_widget

Slots = dict[tuple[str, int], object]  # (stack path, index) -> the container under that layer's settings


def _set(path: str, layers: list[dict]) -> None:
    stack.set_stack(state.spec_dict(), path, layers)
    state.bump_rev()  # the editors are re-created from the new stack


def _before(path: str) -> list[dict]:
    """The layers that feed this stack (outside it), so a new block can take their width."""
    parts = stack.parse_path(path)
    if len(parts) < 3 or not isinstance(parts[-2], int):
        return []
    outer = ".".join(map(str, parts[:-2]))
    return _before(outer) + stack.get_stack(state.spec_dict(), outer)[:parts[-2]]


def _on_add(path: str, key: str) -> None:
    label = st.session_state.get(key)
    name = next((n for n, t in LAYERS.items() if t.label == label), None)
    if name is not None:
        _set(path, stack.add_layer(stack.get_stack(state.spec_dict(), path), name, _before(path)))


def _on_move(path: str, index: int, offset: int) -> None:
    _set(path, stack.move_layer(stack.get_stack(state.spec_dict(), path), index, offset))


def _on_delete(path: str, index: int) -> None:
    _set(path, stack.delete_layer(stack.get_stack(state.spec_dict(), path), index))


def add_labels(path: str, name: str | None = None) -> tuple[str, str]:
    """The "add" row's selectbox and button labels: unique per stack, so each can be found by its label."""
    where = stack.stack_label(path) if name is None else name
    if not where:
        return "Layer type", "Add layer"
    if "block" in where:
        return f"Layer type in {where}", f"Add to {where}"
    return f"{where.capitalize()} layer type", f"Add {where} layer"


def _number(path: str, index: int) -> str:
    """'3.' for the third layer, '3.1' for the first layer inside block 3."""
    number = stack.layer_number(path, index)
    return number if "." in number else number + "."


def stack_editor(path: str, name: str | None = None) -> Slots:
    """Edit the layer list at `path` in place; returns the slots of its layers and of any nested blocks'."""
    layers = stack.get_stack(state.spec_dict(), path)
    slots: Slots = {}
    for index, layer in enumerate(layers):
        slots.update(_layer_editor(path, index, layer, len(layers)))
    select_label, button_label = add_labels(path, name)
    key = f"add_type_{path}"
    type_col, add_col = st.columns([3, 1] if button_label == "Add layer" else [1, 1], vertical_alignment="bottom")
    type_col.selectbox(select_label, [t.label for t in LAYERS.values()], key=key,
                       help="\n".join(f"- **{t.label}**: {t.summary}" for t in LAYERS.values()))
    add_col.button(button_label, key=f"add_{path}", on_click=_on_add, args=(path, key),
                   type="primary" if path == "layers" else "secondary")
    return slots


def _layer_editor(path: str, index: int, layer: dict, count: int) -> Slots:
    """The layer's title, move/delete buttons, settings and nested stacks; its slot for error messages."""
    layer_type = LAYERS.get(layer.get("type"))
    rev = f"{state.rev()}_{path}_{index}"
    with st.container(border=True):
        title, up, down, delete = st.columns([6, 1, 1, 1], vertical_alignment="center")
        title.markdown(f"**{_number(path, index)} {layer_type.label if layer_type else layer.get('type')}**")
        up.button("", icon=":material/arrow_upward:", key=f"up_{rev}", on_click=_on_move,
                  args=(path, index, -1), disabled=index == 0, help="Move this layer up")
        down.button("", icon=":material/arrow_downward:", key=f"down_{rev}", on_click=_on_move,
                    args=(path, index, 1), disabled=index == count - 1, help="Move this layer down")
        delete.button("", icon=":material/delete:", key=f"del_{rev}", on_click=_on_delete,
                      args=(path, index), help="Delete this layer")
        slots: Slots = {}
        if layer_type is not None:
            st.caption(layer_type.summary)
            nested = stack.nested_fields(layer["type"])
            fields = [f for f in editable_fields(layer_type.spec) if f not in nested]
            if not fields and not nested:
                st.caption("Nothing to set: it adapts to the layer before it.")
            depth = sum(isinstance(part, int) for part in stack.parse_path(path))  # blocks around this stack
            _fields(layer_type.spec, layer, fields, rev, nested_depth=depth)
            for field in nested:
                inner = f"{path}.{index}.{field}"
                layer.setdefault(field, [])
                st.caption(f"Inside {stack.stack_label(inner)}: its output is added to its input.")
                with st.container(border=True):
                    slots.update(stack_editor(inner))
        slots[(path, index)] = st.container()
    return slots


def _fields(model, layer: dict, fields: list[str], rev: str, nested_depth: int = 0) -> None:
    """The layer's settings, up to three a row (e.g. conv2d's five settings: 3 + 2; two a row inside a block,
    where the card is narrower); written into `layer`."""
    per_row = 3 if len(fields) > 4 else max(1, len(fields))
    if nested_depth:
        per_row = min(per_row, 2)
    for start in range(0, len(fields), per_row):
        for column, name in zip(st.columns(per_row), fields[start:start + per_row]):
            default = model.model_fields[name].get_default(call_default_factory=True)
            layer[name] = field_widget(model, name, layer.get(name, default), key=f"layer_{rev}_{name}",
                                       container=column)


def show_problems(slots: Slots, problems: list[SpecProblem]) -> list[str]:
    """Each problem in red on the card of the layer at its path, numbered like the cards; returns the lines no
    shown layer owns."""
    grouped, general = stack.group_problems(problems)
    for owner, found in grouped.items():
        slot = slots.get(owner)
        if slot is None:  # a stack that is not on screen (e.g. the decoder while it mirrors)
            general += found
            continue
        for problem in found:
            slot.error(problem, icon=":material/error:")
    return general
