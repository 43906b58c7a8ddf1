"""Training-job glue: the shared registry, who the visitor is, and which run they watch.

Identity lives in the URL (`?owner=...&job=...`) as well as in session state:
a refresh starts a new Streamlit session with empty state, but the query
parameters survive, so the page finds its owner token and reattaches to the
job. The owner token is a random uuid: knowing it is what grants access.
Workers never call Streamlit; pages poll `snapshot()`.
"""

from __future__ import annotations

import copy
import os
import uuid

import streamlit as st
import torch

from nnbuilder.runs.jobs import JobRegistry, JobSnapshot

from . import state

OWNER = "owner"
JOB = "job_id"
OWNER_PARAM = "owner"
JOB_PARAM = "job"


@st.cache_resource(show_spinner=False)
def registry() -> JobRegistry:
    """One registry per server process, shared by every session."""
    jobs = JobRegistry()
    share_cores(jobs.max_running)
    return jobs


def share_cores(max_running: int) -> None:
    """Give each concurrent job its share of the cores (unless the operator set OMP_NUM_THREADS).

    torch's default of one thread per core makes parallel jobs, the web server and a
    local browser fight over the cores: measured 10x slower on the 2-core server.
    """
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, max_running)))


def _valid_token(value) -> str | None:
    if isinstance(value, str) and 8 <= len(value) <= 64 and all(ch in "0123456789abcdef" for ch in value):
        return value
    return None


def init_identity() -> None:
    """Adopt the owner and job from the URL on a fresh session, then write both back to the URL.

    Called on every run from app.py: Streamlit clears query parameters on a page
    switch, so they are restored from session state each time.
    """
    if OWNER not in st.session_state:
        st.session_state[OWNER] = _valid_token(st.query_params.get(OWNER_PARAM)) or uuid.uuid4().hex
        job = _valid_token(st.query_params.get(JOB_PARAM))
        snap = registry().snapshot(job, owner=st.session_state[OWNER]) if job else None
        if snap is not None:
            st.session_state[JOB] = job
            _restore_workspace(snap)
    if st.query_params.get(OWNER_PARAM) != st.session_state[OWNER]:
        st.query_params[OWNER_PARAM] = st.session_state[OWNER]
    job = st.session_state.get(JOB)
    if job and st.query_params.get(JOB_PARAM) != job:
        st.query_params[JOB_PARAM] = job
    elif not job and JOB_PARAM in st.query_params:
        del st.query_params[JOB_PARAM]


def _restore_workspace(snap: JobSnapshot) -> None:
    """After a refresh, show the run's own data and settings rather than the defaults."""
    context = snap.context
    if context.get("frame") is not None:
        state.set_data(context["frame"], context.get("data_name", ""), context.get("data_warnings", []))
    if context.get("spec") is not None:
        state.set_spec(context["spec"])


def owner() -> str:
    return st.session_state[OWNER]


def current_job_id() -> str | None:
    return st.session_state.get(JOB)


def set_current_job(job_id: str | None) -> None:
    st.session_state[JOB] = job_id
    if job_id:
        st.query_params[JOB_PARAM] = job_id
    elif JOB_PARAM in st.query_params:
        del st.query_params[JOB_PARAM]


def current_snapshot() -> JobSnapshot | None:
    job_id = current_job_id()
    return registry().snapshot(job_id, owner=owner()) if job_id else None


def submit(label: str, work, frame=None, spec: dict | None = None, data_name: str = "", data_warnings=()) -> str:
    """Queue a run; the table and spec travel with the job, so a refreshed page can restore them."""
    context = {"frame": frame, "spec": copy.deepcopy(spec), "data_name": data_name, "data_warnings": list(data_warnings)}
    job_id = registry().submit(owner(), label, work, context=context)
    set_current_job(job_id)
    return job_id


def adopt_result(snap: JobSnapshot | None = None) -> None:
    """Make the current job's model the session's trained model once it has one.

    Runs on every page (from app.py), so a run that ends while the visitor is on
    another page, or before a refresh, still reaches Evaluate, Predict and Export.
    """
    snap = snap or current_snapshot()
    if snap is None or not snap.finished or st.session_state.get(state.TRAINED_JOB) == snap.id:
        return
    if snap.result is not None:
        state.set_trained(snap.result, snap.id, snap.context.get("frame"), snap.label)


def cancel_current() -> bool:
    job_id = current_job_id()
    return bool(job_id) and registry().cancel(job_id, owner=owner())


def my_jobs() -> list[JobSnapshot]:
    return registry().jobs_for(owner())
