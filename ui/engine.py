"""Thin, session-cached calls into the engine that several pages share.

No ML decisions here: `prepared_for` is `data.prepare` remembered for the
current table and data settings (the Build page redraws on every click), and
`bundle_for` is `save_bundle` + `load_bundle` + `bundle_zip_bytes`, so Predict
and Export use exactly what the CLI would load from the downloaded zip, and
`export_for` is what `nnbuilder export` writes from that bundle.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import streamlit as st

from nnbuilder.bundle.bundle import Bundle, bundle_zip_bytes, load_bundle, save_bundle
from nnbuilder.data.pipeline import PreparedData
from nnbuilder.tasks import prepare
from nnbuilder.errors import SpecError
from nnbuilder.export.formats import EXPORT_FORMATS, export_bundle
from nnbuilder.spec.network import NetworkSpec, parse_spec

from . import state

_BUNDLE_CACHE = "_bundle_cache"


def data_settings_spec(spec_dict: dict) -> NetworkSpec:
    """Only the spec's data and input sections (and seed): enough to prepare data while a layer or a
    training setting is being fixed. Problems in the data section itself still raise SpecError."""
    data = spec_dict.get("data", {})
    try:
        return parse_spec({"data": data, "input": spec_dict.get("input", {"kind": "tabular"}),
                           "training": {"seed": spec_dict.get("training", {}).get("seed", 0)}})
    except SpecError:
        return parse_spec({"data": data})


def prepared_for(spec: NetworkSpec) -> PreparedData:
    """`prepare` on the current table, remembered until the table or the data settings change."""
    df = state.data_frame()
    key = (state.data_name(), id(df), json.dumps(spec.data.model_dump(mode="json"), sort_keys=True),
           json.dumps(spec.input.model_dump(mode="json"), sort_keys=True), spec.training.seed)
    cached = st.session_state.get(state.PREPARED_CACHE)
    if cached and cached[0] == key:
        return cached[1]
    prepared = prepare(df, spec.data, seed=spec.training.seed, input=spec.input)
    st.session_state[state.PREPARED_CACHE] = (key, prepared)
    return prepared


def bundle_for(trained) -> tuple[Bundle, bytes]:
    """The trained model as a loaded bundle and as zip bytes, made once per trained model."""
    cached = st.session_state.get(_BUNDLE_CACHE)
    if cached and cached[0] is trained:
        return cached[1], cached[2]
    with tempfile.TemporaryDirectory(prefix="nnbuilder-") as tmp:
        folder = save_bundle(trained, Path(tmp) / "model")
        data = bundle_zip_bytes(folder)
        bundle = load_bundle(folder)
    st.session_state[_BUNDLE_CACHE] = (trained, bundle, data)
    return bundle, data


_EXPORT_CACHE = "_export_cache"


def export_for(trained, fmt: str) -> bytes:
    """The trained model exported as `fmt` (nnbuilder.export.formats), checked on its own test rows; made once per
    model and format. Raises the engine's ExportError when the format cannot hold this model."""
    cache = st.session_state.get(_EXPORT_CACHE)
    if not cache or cache[0] is not trained:
        cache = (trained, {})
        st.session_state[_EXPORT_CACHE] = cache
    if fmt not in cache[1]:
        bundle, _ = bundle_for(trained)
        prepared = trained.prepared  # a time series' test rows are windows' targets, not a history to re-window
        check_rows = prepared.raw_test if len(prepared.raw_test) and prepared.input_kind != "sequence" else None
        with tempfile.TemporaryDirectory(prefix="nnbuilder-export-") as tmp:
            out = export_bundle(bundle, fmt, Path(tmp) / f"model{EXPORT_FORMATS[fmt].suffix}", check_rows=check_rows)
            cache[1][fmt] = out.read_bytes()
    return cache[1][fmt]
