"""nnbuilder's web app: Data → Build → Train → Evaluate → Predict → Export, and guided Lessons.

Run with `make run` (or `streamlit run app.py`). This entry script runs on every
page view: it sets up the page, the session's shared state (opening on a
built-in dataset so a first click on Train works), the visitor's identity in
the URL, and the navigation. The pages themselves live in `pages/`.
"""

import streamlit as st

from ui import lesson_view, session, state

st.set_page_config(page_title="nnbuilder", page_icon=":material/neurology:", layout="wide")

session.start()

PAGES = [
    st.Page("pages/1_Data.py", title="Data", icon=":material/table_chart:", default=True),
    st.Page("pages/2_Build.py", title="Build", icon=":material/account_tree:"),
    st.Page("pages/3_Train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/4_Evaluate.py", title="Evaluate", icon=":material/insights:"),
    st.Page("pages/5_Predict.py", title="Predict", icon=":material/online_prediction:"),
    st.Page("pages/6_Export.py", title="Export", icon=":material/download:"),
    st.Page("pages/7_Lessons.py", title="Lessons", icon=":material/school:"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.caption(f"Data: **{state.display_name()}**")
    lesson = lesson_view.active()
    if lesson is not None:
        st.caption(f"Lesson {lesson.order}: **{lesson.title}**")
    if state.trained() is not None:
        st.caption(f"Trained model: **{st.session_state.get(state.TRAINED_LABEL) or 'ready'}**")
    st.caption("Work through the pages from top to bottom. Your settings are kept while you switch pages.")
page.run()
