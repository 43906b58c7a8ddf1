"""A lesson in the session: start it (its data, spec and settings), apply its steps, show what to watch.

The Lessons page starts lessons and shows them whole; the Train page shows the active lesson's steps
compactly, so a learner can change one knob and train again without switching pages. The lesson's
table is read once per server (the same rows for everyone: the reference carries the dataset's seed).
"""

from __future__ import annotations

import streamlit as st

from nnbuilder.teach.lessons import Lesson, apply_patch, get_lesson, lesson_data, short_reference
from nnbuilder.errors import NNBuilderError

from . import state

LESSON = "lesson_id"  # the active lesson's id
APPLIED = "_lesson_applied"  # the step just applied, shown once


@st.cache_data(show_spinner=False)
def _table(lesson_id: str):
    """The lesson's table, read once per server process (copies are handed out)."""
    return lesson_data(get_lesson(lesson_id))


def start(lesson: Lesson) -> None:
    """Load the lesson's table and its full spec: the Train page is then ready to press Train."""
    df, warnings = _table(lesson.id)
    state.set_data(df, short_reference(lesson.dataset), warnings)
    state.set_spec(lesson.spec)
    st.session_state[LESSON] = lesson.id
    st.session_state[APPLIED] = f"Loaded the lesson: its data ({lesson.dataset_name}), network and settings."


def active() -> Lesson | None:
    """The started lesson while its table is the session's (choosing other data on the Data page ends it)."""
    lesson_id = st.session_state.get(LESSON)
    if not lesson_id:
        return None
    try:
        lesson = get_lesson(lesson_id)
    except NNBuilderError:  # a lesson file removed while the session lived
        st.session_state.pop(LESSON, None)
        return None
    return lesson if state.data_name() == short_reference(lesson.dataset) else None


def _apply(lesson_id: str, index: int) -> None:
    step = get_lesson(lesson_id).steps[index]
    state.set_spec(apply_patch(state.spec_dict(), step.patch))
    st.session_state[APPLIED] = f"Applied: {step.label}."


def show_applied() -> None:
    """After a Start or Apply click: say what changed (once)."""
    applied = st.session_state.pop(APPLIED, None)
    if applied:
        st.success(f"{applied} Press **Train** to see the effect.", icon=":material/check_circle:")


def render_steps(lesson: Lesson, where: str) -> None:
    """One "Apply: ..." button per step (with its sentence as help), side by side and wrapping, each as wide as
    its words; `where` keeps the keys unique per page."""
    with st.container(horizontal=True, gap="small"):
        for index, step in enumerate(lesson.steps):
            st.button(f"Apply: {step.label}", key=f"{where}_step_{lesson.id}_{index}", help=step.text,
                      on_click=_apply, args=(lesson.id, index), icon=":material/tune:")


def render_watch(lesson: Lesson) -> None:
    st.markdown("\n".join(f"- {line}" for line in lesson.watch))
