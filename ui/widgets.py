"""Widgets generated from the spec's field metadata, never from hard-coded ranges.

`field_meta` reads one pydantic field (type, default, description, ge/gt/le/lt,
Literal choices and the `json_schema_extra["ui"]` hints) into a small plain
record; it is pure and unit-tested. `field_widget` turns that record into the
matching Streamlit input. Inclusive bounds become the widget's min/max;
exclusive ones are left to the engine, whose message then names the problem.
Its help tooltip is the field's description, one line per choice, and the plain
meaning of any technical word it uses (nnbuilder.teach.glossary).
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass

import annotated_types as at
import streamlit as st
from pydantic import BaseModel

from nnbuilder.teach.glossary import glossed_terms
from nnbuilder.layers import ACTIVATIONS
from nnbuilder.train.optim import OPTIMIZERS, SCHEDULES

# Presentation only: friendlier labels than the field names for a few settings.
LABELS = {
    "l1": "L1 penalty",
    "weight_decay": "Weight decay (L2)",
    "lr_schedule": "Learning-rate schedule",
    "early_stopping_patience": "Early stopping patience (epochs)",
    "batch_size": "Batch size",
    "learning_rate": "Learning rate",
}

# One line per choice, shown in the help tooltip. Registry-backed choices take their lines from the
# registries; any other choice field carries them beside itself as `json_schema_extra["ui"]["notes"]`.
CHOICE_NOTES = {
    "optimizer": {name: note for name, (_, note) in OPTIMIZERS.items()},
    "lr_schedule": dict(SCHEDULES),
    "activation": {name: note for name, (_, note) in ACTIVATIONS.items()},
    "function": {name: note for name, (_, note) in ACTIVATIONS.items()},
}


@dataclass(frozen=True)
class FieldMeta:
    name: str
    label: str
    help: str
    kind: str  # "choice", "int", "float", "bool" or "text"
    default: typing.Any = None
    choices: tuple = ()
    lo: float | None = None
    lo_inclusive: bool = True
    hi: float | None = None
    hi_inclusive: bool = True
    step: float | None = None
    log: bool = False
    optional: bool = False  # `int | None` and the like: an empty box means "not set" (None)

    @property
    def min_value(self):
        """The widget's minimum: only an inclusive bound (ints also turn `> n` into `>= n+1`)."""
        if self.lo is None:
            return None
        if self.lo_inclusive:
            return int(self.lo) if self.kind == "int" else float(self.lo)
        return int(self.lo) + 1 if self.kind == "int" else None

    @property
    def max_value(self):
        if self.hi is None:
            return None
        if self.hi_inclusive:
            return int(self.hi) if self.kind == "int" else float(self.hi)
        return int(self.hi) - 1 if self.kind == "int" else None

    @property
    def slider_range(self) -> tuple[float, float]:
        """(lowest, highest) value a slider in `step`s can offer: an exclusive bound becomes the step inside it,
        so a slider never offers what the engine refuses. Needs both bounds and a step (the `ui` hint)."""
        lo = self.lo if self.lo_inclusive else self.lo + self.step
        hi = self.hi if self.hi_inclusive else self.hi - self.step
        return round(lo, 10), round(hi, 10)


def humanize(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _strip_annotated(tp):
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def field_meta(model: type[BaseModel], name: str) -> FieldMeta:
    """Everything a widget needs about `model.name`, read off the field itself."""
    info = model.model_fields[name]
    annotation = _strip_annotated(info.annotation)
    members = [a for a in typing.get_args(annotation) if a is not type(None)]
    optional = len(members) == 1 and len(typing.get_args(annotation)) == 2  # X | None
    if optional:
        annotation = _strip_annotated(members[0])
    ui = (info.json_schema_extra or {}).get("ui", {}) if isinstance(info.json_schema_extra, dict) else {}
    choices: tuple = tuple(ui.get("choices", ()))
    if not choices and typing.get_origin(annotation) is typing.Literal:
        choices = typing.get_args(annotation)
    if choices:
        kind = "choice"
    elif annotation is bool:
        kind = "bool"
    elif annotation is int:
        kind = "int"
    elif annotation is float:
        kind = "float"
    else:
        kind = "text"
    bounds = _bounds(info.metadata)
    default = info.get_default(call_default_factory=True)
    return FieldMeta(
        name=name, label=humanize(name), help=_help_text(name, info.description or "", choices, ui.get("notes")),
        kind=kind, default=default, choices=choices, step=ui.get("step"), log=bool(ui.get("log")),
        optional=optional and kind in ("int", "float"), **bounds,
    )


def _bounds(metadata) -> dict:
    out: dict = {}
    for rule in metadata:
        if isinstance(rule, at.Ge):
            out.update(lo=rule.ge, lo_inclusive=True)
        elif isinstance(rule, at.Gt):
            out.update(lo=rule.gt, lo_inclusive=False)
        elif isinstance(rule, at.Le):
            out.update(hi=rule.le, hi_inclusive=True)
        elif isinstance(rule, at.Lt):
            out.update(hi=rule.lt, hi_inclusive=False)
    return out


def _help_text(name: str, description: str, choices: tuple, notes: dict | None = None) -> str:
    """The field's description, one markdown line per choice (what picking it does), then the plain
    meaning of the technical words it used (nnbuilder.teach.glossary), so no term goes unexplained."""
    notes = notes or CHOICE_NOTES.get(name, {})
    lines = [f"- **{choice}**: {notes[choice]}" for choice in choices if choice in notes]
    text = description + ("\n\n" + "\n".join(lines) if lines else "")
    terms = [f"*{term}*: {meaning}" for term, meaning in glossed_terms(text)]
    return text + ("\n\n" + "\n\n".join(terms) if terms else "")


def log_grid(meta: FieldMeta, current: float | None = None) -> list[float]:
    """1-3-10 steps between the field's bounds (plus the current value) for a log-scale slider."""
    lo = meta.lo if meta.lo and meta.lo > 0 else 1e-6
    hi = meta.hi if meta.hi is not None else 10.0
    values = []
    for exponent in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for mantissa in (1, 3):
            value = float(f"{mantissa}e{exponent}")
            if _allowed(meta, value):
                values.append(value)
    if current is not None and current not in values:
        values.append(float(current))
    return sorted(set(values))


def _allowed(meta: FieldMeta, value: float) -> bool:
    if meta.lo is not None and (value < meta.lo or (value == meta.lo and not meta.lo_inclusive)):
        return False
    if meta.hi is not None and (value > meta.hi or (value == meta.hi and not meta.hi_inclusive)):
        return False
    return True


def number_format(meta: FieldMeta) -> str | None:
    """Enough decimals to show the step (0.0001 -> %.4f); None keeps Streamlit's int default."""
    if meta.kind == "int":
        return None
    step = meta.step or 0.01
    decimals = max(2, -math.floor(math.log10(step)) if step < 1 else 0)
    return f"%.{decimals}f"


def field_widget(model: type[BaseModel], name: str, value, key: str, container=None, **overrides):
    """Render the input for `model.name` showing `value`; returns what the user chose."""
    meta = field_meta(model, name)
    where = container if container is not None else st
    label = overrides.pop("label", meta.label)
    if meta.kind == "choice":
        options = list(meta.choices)
        if value not in options:  # e.g. an imported spec with a typo: keep it so the engine names it
            options.append(value)
        return where.selectbox(label, options, index=options.index(value), key=key, help=meta.help, **overrides)
    if meta.kind == "bool":
        return where.toggle(label, value=bool(value), key=key, help=meta.help, **overrides)
    if meta.kind == "float" and meta.log:
        options = log_grid(meta, value)
        return where.select_slider(label, options=options, value=value, key=key, help=meta.help,
                                   format_func=lambda v: f"{v:g}", **overrides)
    if meta.kind in ("int", "float"):
        cast = int if meta.kind == "int" else float
        # An optional setting may stay empty (None): the engine then decides, e.g. infers the image size.
        value = None if meta.optional and value is None else _as_number(value, cast, meta.default)
        step = cast(meta.step) if meta.step else cast(1 if meta.kind == "int" else 0.01)
        lo, hi = meta.min_value, meta.max_value
        if value is not None and ((lo is not None and value < lo) or (hi is not None and value > hi)):
            lo = hi = None  # show the value as it is; the engine's message says what to change
        empty = {"placeholder": "automatic"} if meta.optional else {}
        return where.number_input(label, min_value=lo, max_value=hi, value=value, step=step,
                                  format=number_format(meta), key=key, help=meta.help, **empty, **overrides)
    return where.text_input(label, value="" if value is None else str(value), key=key, help=meta.help, **overrides)


def _as_number(value, cast, default):
    try:
        return cast(value)
    except (TypeError, ValueError):
        return cast(default)


def editable_fields(model: type[BaseModel], skip: tuple[str, ...] = ("type", "kind")) -> list[str]:
    """The fields that get one widget each; a nested stack of layers (a residual block's) is edited as a stack."""
    return [name for name in model.model_fields if name not in skip and name not in nested_stacks(model)]


def nested_stacks(model: type[BaseModel]) -> list[str]:
    """Fields that hold a list of layers (e.g. a residual block's `layers`): the Build page nests a stack editor."""
    return [name for name, field in model.model_fields.items()
            if ((field.json_schema_extra or {}).get("ui") or {}).get("stack")]
