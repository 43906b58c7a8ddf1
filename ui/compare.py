"""Compare with the previous run: the last finished run's curves, kept per session, drawn dashed under the new ones.

Every run the visitor finishes (with at least one epoch) is remembered in session state: its history,
spec, dataset and metric, copied out of the job registry, which forgets finished jobs after an hour.
The run to compare with is the latest one submitted before the run on screen, on the same dataset (the
curves of another table would not say what one knob did). Its label names what differed:
`nnbuilder.teach.lessons.spec_difference` ("previous: lr 0.1").
"""

from __future__ import annotations

import streamlit as st

from nnbuilder.teach.lessons import spec_difference

RUNS = "_compare_runs"  # job id -> {"history", "spec", "data_name", "metric", "submitted_at"}
SHOW = "show_previous_run"  # the toggle's key
MAX_RUNS = 10


def remember(snapshots) -> None:
    """Keep the finished runs among `snapshots` (the visitor's jobs) that have curves to show."""
    runs = st.session_state.setdefault(RUNS, {})
    for snap in snapshots:
        if snap.finished and snap.history and snap.id not in runs:
            runs[snap.id] = {"history": list(snap.history), "spec": snap.context.get("spec"),
                             "data_name": snap.context.get("data_name"), "metric": snap.metric,
                             "submitted_at": snap.submitted_at}
    for job_id in sorted(runs, key=lambda j: runs[j]["submitted_at"])[:-MAX_RUNS]:
        del runs[job_id]


def previous_run(snap) -> dict | None:
    """The latest remembered run submitted before `snap`, on the same data, with its label; or None."""
    runs = st.session_state.get(RUNS, {})
    earlier = [run for job_id, run in runs.items() if job_id != snap.id and run["submitted_at"] < snap.submitted_at
               and run["data_name"] == snap.context.get("data_name")]
    if not earlier:
        return None
    run = max(earlier, key=lambda r: r["submitted_at"])
    difference = spec_difference(run["spec"], snap.context.get("spec"))
    return {**run, "label": f"previous: {difference}" if difference else "previous run (same settings)"}


def overlay(snap) -> tuple[list[dict] | None, str]:
    """(history, label) for curve_figure's `previous`, with the toggle to hide it; (None, "") when none."""
    run = previous_run(snap)
    if run is None:
        return None, ""
    shown = st.toggle(f"Compare with the previous run (dashed: {run['label'].removeprefix('previous: ')})",
                      value=True, key=SHOW,
                      help="Draws the run before this one as dashed lines, so you see what the one knob you "
                           "changed did. Same seed, same data: any difference comes from the change.")
    return (run["history"], run["label"]) if shown else (None, "")
