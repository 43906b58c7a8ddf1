"""The session's shared state: one spec dict, the current table, the trained model.

Every page reads and writes through these helpers, so the keys live in one
place. The spec is kept as a plain dict (the contract, rule 1); it may be
invalid while the user edits, and is parsed where it is used.

Widgets are keyed with a revision number (`rev()`): whenever the spec changes
other than through its own widget (a preset, an import, a new dataset), the
revision is bumped and every spec widget is re-created from the spec's values.
"""

from __future__ import annotations

import copy

import pandas as pd
import streamlit as st

from nnbuilder.data.pipeline import DataWarning, detect_input_kind, load_table
from nnbuilder.data.datasets import list_datasets
from nnbuilder.spec.network import NetworkSpec, default_spec, parse_spec

SPEC = "spec"
DATA = "data_frame"
DATA_NAME = "data_name"
DATA_WARNINGS = "data_warnings"
TRAINED = "trained"  # the last TrainedModel (workflow.TrainedModel)
TRAINED_JOB = "trained_job"  # the job id that produced it
TRAINED_FRAME = "trained_frame"  # the raw table it was trained on (defaults for Predict)
TRAINED_LABEL = "trained_label"  # what the model was trained on, for the sidebar
REV = "widget_rev"
PREPARED_CACHE = "_prepared_cache"

DEFAULT_DATASET = "moons"
BUILTIN_PREFIX = "sample:"


@st.cache_data(show_spinner=False)
def load_builtin(name: str) -> tuple[pd.DataFrame, list[DataWarning]]:
    """A built-in dataset, read once per server process (copies are handed out)."""
    return load_table(f"{BUILTIN_PREFIX}{name}")


@st.cache_data(show_spinner=False)
def builtin_datasets() -> dict[str, tuple[str, object]]:
    """name -> (description, default target)."""
    return {info.name: (info.description, info.target) for info in list_datasets()}


def init_state() -> None:
    """Open ready to train: the default dataset, its target and the default network."""
    if REV not in st.session_state:
        st.session_state[REV] = 0
    if DATA not in st.session_state:
        df, warnings = load_builtin(DEFAULT_DATASET)
        target = builtin_datasets().get(DEFAULT_DATASET, ("", None))[1]
        set_data(df, f"{BUILTIN_PREFIX}{DEFAULT_DATASET}", warnings)
        if SPEC not in st.session_state:
            st.session_state[SPEC] = default_spec(target).model_dump(mode="json")
    if SPEC not in st.session_state:
        st.session_state[SPEC] = default_spec().model_dump(mode="json")


def spec_dict() -> dict:
    """The live spec dict (mutate it in place, or replace it with `set_spec`)."""
    return st.session_state[SPEC]


def set_spec(data: dict) -> None:
    st.session_state[SPEC] = copy.deepcopy(data)
    bump_rev()


def parsed_spec() -> NetworkSpec:
    """The spec as the engine sees it; raises SpecError listing every problem."""
    return parse_spec(spec_dict())


def rev() -> int:
    return st.session_state.get(REV, 0)


def bump_rev() -> None:
    st.session_state[REV] = rev() + 1


def data_frame() -> pd.DataFrame:
    return st.session_state[DATA]


def data_name() -> str:
    return st.session_state.get(DATA_NAME, "")


def display_name() -> str:
    """'moons (built-in)' or the uploaded file's name."""
    name = data_name()
    return f"{name.removeprefix(BUILTIN_PREFIX)} (built-in)" if name.startswith(BUILTIN_PREFIX) else name


def data_warnings() -> list[DataWarning]:
    return st.session_state.get(DATA_WARNINGS, [])


def set_data(df: pd.DataFrame, name: str, warnings: list[DataWarning]) -> None:
    st.session_state[DATA] = df
    st.session_state[DATA_NAME] = name
    st.session_state[DATA_WARNINGS] = list(warnings)
    st.session_state.pop(PREPARED_CACHE, None)


def use_table(df: pd.DataFrame, name: str, warnings: list[DataWarning], target) -> None:
    """Switch to a new table: its target, no dropped columns, the input kind it looks like (pixel columns
    -> image); the network and training settings stay."""
    set_data(df, name, warnings)
    spec = copy.deepcopy(spec_dict())
    data = spec.setdefault("data", {})
    data["target"] = target
    data["drop_columns"] = []
    data["task"] = "auto"
    spec["input"] = {"kind": detect_input_kind(df, target)}
    set_spec(spec)


def trained():
    return st.session_state.get(TRAINED)


def set_trained(model, job_id: str | None, frame: pd.DataFrame | None, label: str = "") -> None:
    st.session_state[TRAINED_LABEL] = label
    st.session_state[TRAINED] = model
    st.session_state[TRAINED_JOB] = job_id
    st.session_state[TRAINED_FRAME] = frame
    st.session_state.pop("_bundle_cache", None)


def trained_frame() -> pd.DataFrame | None:
    return st.session_state.get(TRAINED_FRAME)
