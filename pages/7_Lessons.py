"""Lessons: one click loads a dataset, a network and settings that teach one idea; then try the steps."""

import streamlit as st

from nnbuilder.errors import NNBuilderError
from nnbuilder.teach.lessons import list_lessons
from ui import lesson_view
from ui.page import header, show_error
from ui.session import start as start_session

start_session()  # safe when Streamlit runs this page on its own (a deep link)

CARDS_PER_ROW = 3


def _start(lesson) -> None:
    lesson_view.start(lesson)


header(7, "Lessons", "Guided experiments: start a lesson, train, change one knob, train again and compare. "
       "Every lesson uses a fixed seed, so the whole class sees the same curves.")

try:
    lessons = list_lessons()
except NNBuilderError as exc:  # a broken lesson file: say which, keep the rest of the app usable
    show_error(exc)
    st.stop()

current = lesson_view.active()
if current is not None:
    with st.container(border=True):
        st.subheader(f"Lesson {current.order}: {current.title}")
        lesson_view.show_applied()
        st.markdown(current.story)
        st.caption(f"Data: `{current.dataset}` · training seed {current.spec['training'].get('seed', 0)}")
        st.page_link("pages/3_Train.py", label="Go to Train and press Train", icon=":material/model_training:")
        st.markdown("**What to try** — one click changes the setting; then train again and compare the dashed "
                    "curves of the previous run.")
        lesson_view.render_steps(current, "lessons")
        st.markdown("**What to watch**")
        lesson_view.render_watch(current)

st.subheader("All lessons")
rows = [lessons[i:i + CARDS_PER_ROW] for i in range(0, len(lessons), CARDS_PER_ROW)]
for row in rows:
    for column, lesson in zip(st.columns(CARDS_PER_ROW), row):
        with column.container(border=True):
            st.markdown(f"**{lesson.order}. {lesson.title}**")
            st.caption(lesson.summary)
            is_current = current is not None and lesson.id == current.id
            st.button("Restart this lesson" if is_current else "Start this lesson", key=f"start_{lesson.id}",
                      on_click=_start, args=(lesson,), type="secondary" if is_current else "primary",
                      icon=":material/school:")
