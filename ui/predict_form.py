"""The Predict page's one-row form: an input per raw feature column, with sensible defaults.

`field_plans` is pure (column roles + the training table in, plain plans out)
and unit-tested; `render_inputs` draws them inside an `st.form`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

MAX_CHOICES = 500  # a categorical column with more levels than this gets a text box


@dataclass(frozen=True)
class InputPlan:
    column: str
    kind: str  # "number", "choice", "date" or "text"
    default: object = None
    choices: tuple = field(default_factory=tuple)
    integer: bool = False
    date_format: str | None = None
    help: str = ""


def _numeric_plan(info, values: pd.Series) -> InputPlan:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    integer = pd.api.types.is_integer_dtype(values.dtype) or (
        len(numbers) > 0 and bool((numbers == numbers.round()).all()))
    median = float(numbers.median()) if len(numbers) else 0.0
    default = int(round(median)) if integer else round(median, 6)
    help_text = f"Median in the training data: {median:g}."
    if len(numbers):
        help_text += f" Range {numbers.min():g} to {numbers.max():g}."
    return InputPlan(info.name, "number", default, integer=integer, help=help_text)


def _choice_plan(info, values: pd.Series) -> InputPlan:
    present = values.dropna()
    counts = present.value_counts()
    if len(counts) > MAX_CHOICES:
        return InputPlan(info.name, "text", str(counts.index[0]) if len(counts) else "", help=info.reason)
    choices = tuple(sorted(counts.index, key=lambda v: str(v)))
    default = counts.index[0] if len(counts) else None
    return InputPlan(info.name, "choice", default, choices=choices, help="Most frequent value is preselected.")


def _date_plan(info, values: pd.Series) -> InputPlan:
    dates = pd.to_datetime(values, format=info.date_format, errors="coerce").dropna()
    default = dates.sort_values().iloc[len(dates) // 2].date() if len(dates) else dt.date.today()
    return InputPlan(info.name, "date", default, date_format=info.date_format,
                     help="Middle date of the training data is preselected.")


def field_plans(columns, feature_columns, frame: pd.DataFrame | None) -> list[InputPlan]:
    """One plan per raw feature column, in the table's order. `columns` are the engine's ColumnInfo."""
    infos = {c.name: c for c in columns}
    plans = []
    for name in feature_columns:
        info = infos[name]
        values = frame[name] if frame is not None and name in frame.columns else pd.Series([], dtype=object)
        if info.role == "numeric":
            plans.append(_numeric_plan(info, values))
        elif info.role == "datetime":
            plans.append(_date_plan(info, values))
        else:  # categorical and boolean
            plans.append(_choice_plan(info, values))
    return plans


def to_raw(plan: InputPlan, value):
    """A widget's value as it would appear in the CSV (dates written in the table's own format)."""
    if plan.kind == "date" and value is not None:
        return value.strftime(plan.date_format) if plan.date_format else pd.Timestamp(value)
    return value


def render_inputs(plans: list[InputPlan], per_row: int = 3) -> dict:
    """Draw the inputs (call inside `st.form`); returns {column: raw value}."""
    values = {}
    for start in range(0, len(plans), per_row):
        for column, plan in zip(st.columns(per_row), plans[start:start + per_row]):
            key = f"predict_{plan.column}"
            if plan.kind == "number":
                value = column.number_input(plan.column, value=plan.default, step=1 if plan.integer else None,
                                            key=key, help=plan.help)
            elif plan.kind == "choice":
                options = list(plan.choices)
                index = options.index(plan.default) if plan.default in options else None
                value = column.selectbox(plan.column, options, index=index, key=key, help=plan.help)
            elif plan.kind == "date":
                value = column.date_input(plan.column, value=plan.default, key=key, help=plan.help)
            else:
                value = column.text_input(plan.column, value=str(plan.default or ""), key=key, help=plan.help)
            values[plan.column] = to_raw(plan, value)
    return values
