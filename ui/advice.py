"""The Train page's warnings that explain themselves: what happened, why, what to try, and a button for it.

The engine decides what a curve means (nnbuilder.teach.diagnostics); this module only draws each diagnosis and,
where the suggestion is one spec patch, an "Apply: ..." button that merges it into the session's spec
(nnbuilder.teach.lessons.apply_patch) for the next run.
"""

from __future__ import annotations

import streamlit as st

from nnbuilder.teach.diagnostics import Diagnosis, diagnose, explain_failure
from nnbuilder.teach.lessons import apply_patch

from . import state

APPLIED = "_advice_applied"  # the label of the last applied suggestion, shown once after the rerun
ICONS = {"overfitting": ":material/trending_up:", "unstable": ":material/swap_vert:",
         "underfitting": ":material/trending_flat:", "plateau": ":material/horizontal_rule:",
         "diverged": ":material/error:"}


def text(diagnosis: Diagnosis) -> str:
    return (f"**{diagnosis.title}.** {diagnosis.what}\n\n**Why:** {diagnosis.why}\n\n"
            f"**Try next:** {diagnosis.next_step}")


def _apply_button(diagnosis: Diagnosis, key: str) -> None:
    """Merge the suggestion into the spec and rerun the whole page, so the settings show the new values."""
    if diagnosis.patch and st.button(diagnosis.patch_label, key=key, icon=":material/auto_fix_high:",
                                     help="Changes the settings for your next run; press Train to see its effect."):
        state.set_spec(apply_patch(state.spec_dict(), diagnosis.patch))
        st.session_state[APPLIED] = diagnosis.patch_label.removeprefix("Apply: ")
        st.rerun(scope="app")


def show_applied() -> None:
    """After an Apply click: say what changed (once)."""
    applied = st.session_state.pop(APPLIED, None)
    if applied:
        st.success(f"Applied: {applied}. Press **Train** to see its effect.", icon=":material/auto_fix_high:")


def render_history(snap) -> None:
    """One warning per rule that fires on the run's curves so far."""
    for diagnosis in diagnose(snap.history, snap.context.get("spec")):
        st.warning(text(diagnosis), icon=ICONS.get(diagnosis.rule, ":material/lightbulb:"))
        _apply_button(diagnosis, f"advice_{diagnosis.rule}")


def render_failure(snap) -> None:
    """A failed run: the engine's message, explained when the cause is known (divergence), in one red box."""
    diagnosis = explain_failure(snap.error, snap.context.get("spec"))
    if diagnosis is None:
        st.error(f"Training failed: {snap.error}", icon=":material/error:")
        return
    st.error(f"Training failed: {snap.error}\n\n**Why:** {diagnosis.why}\n\n**Try next:** {diagnosis.next_step}",
             icon=ICONS["diverged"])
    _apply_button(diagnosis, "advice_failed")
