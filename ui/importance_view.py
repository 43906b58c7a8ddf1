"""Which columns matter (Evaluate) and why this prediction (Predict): charts and sections on nnbuilder.evaluate.importance.

The figures are pure functions of the engine's results (no model calls), so they are tested without a
browser; the two `render_*` functions are the page sections. Permutation importance takes seconds, so
it runs on a button press and is kept per trained model in the session.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from nnbuilder.errors import NNBuilderError
from nnbuilder.evaluate.importance import ExplainError, explainable, integrated_gradients, permutation_importance_table

from .page import show_error

IMPORTANCE_CACHE = "_importance_cache"  # (trained model, table)
UP, DOWN, FLAT = "#2ca02c", "#d62728", "#9e9e9e"  # pushes toward / away / no effect
IMPORTANCE_COLOUR = "#1f77b4"
MAX_BARS = 30  # more columns than that: the rest are named in the caption


def _height(bars: int) -> int:
    return 120 + 28 * max(bars, 2)


def importance_figure(table: list[dict]) -> go.Figure:
    """Horizontal bars, most important on top, whiskers = spread (std) over the shuffles."""
    shown = table[:MAX_BARS][::-1]  # plotly draws the first bar at the bottom
    means = [row["importance_mean"] for row in shown]
    first = table[0] if table else {"metric_label": "score", "split": "test"}
    split = "" if first["split"] == "given rows" else f"{first['split']} "
    fig = go.Figure(go.Bar(
        x=means, y=[row["column"] for row in shown], orientation="h",
        error_x=dict(type="data", array=[row["importance_std"] for row in shown], visible=True, color="#444"),
        marker_color=[IMPORTANCE_COLOUR if m > 0 else FLAT for m in means],
        hovertemplate="%{y}: the score drops by %{x:.4f} when shuffled<extra></extra>",
    ))
    fig.update_layout(title=f"Drop in {split}{first['metric_label']} when a column is shuffled",
                      xaxis_title=f"drop in {split}{first['metric_label']}",
                      height=_height(len(shown)), margin=dict(l=10, r=20, t=50, b=45), showlegend=False)
    fig.update_yaxes(type="category", automargin=True)
    return fig


def target_phrase(result: dict) -> str:
    """'the probability of yes' or 'the predicted amount'."""
    if result["explained"] == "probability":
        return f"the probability of '{result['target']}'"
    return f"the predicted {result['target']}"


def attribution_figure(result: dict) -> go.Figure:
    """One bar per column, largest effect on top: green pushes the explained number up, red down."""
    rows = sorted(result["attributions"], key=lambda a: abs(a["attribution"]))[-MAX_BARS:]
    values = [a["attribution"] for a in rows]
    fig = go.Figure(go.Bar(
        x=values, y=[f"{a['column']} = {_short(a['value'])}" for a in rows], orientation="h",
        marker_color=[UP if v > 0 else DOWN if v < 0 else FLAT for v in values],
        hovertemplate="%{y}: %{x:+.4g}<extra></extra>",
    ))
    fig.update_layout(title=f"What moved {target_phrase(result)}", xaxis_title=f"change in {target_phrase(result)}",
                      height=_height(len(rows)), margin=dict(l=10, r=20, t=50, b=45), showlegend=False)
    fig.update_yaxes(type="category", automargin=True)
    return fig


def render_importance(trained, frame=None) -> None:
    """The Evaluate page's "Which columns matter" section: a button, then the bars (kept per model)."""
    st.subheader("Which columns matter")
    try:
        explainable(trained)
    except ExplainError as exc:
        st.info(_sentence(exc), icon=":material/info:")
        return
    cached = st.session_state.get(IMPORTANCE_CACHE)
    table = cached[1] if cached and cached[0] is trained else None
    if table is None:
        offer = st.empty()  # the invitation goes once the bars are there
        with offer.container():
            st.caption("Shuffle one column at a time on the held-out rows and see how much worse the model gets: "
                       "the columns whose shuffling hurts most are the ones it relies on. It takes a few seconds.")
            clicked = st.button("Compute permutation importance", icon=":material/shuffle:", key="importance_button")
        if not clicked:
            return
        try:
            with st.spinner("Shuffling each column five times…"):
                table = permutation_importance_table(trained, frame=frame)
        except NNBuilderError as exc:
            show_error(exc)
            return
        st.session_state[IMPORTANCE_CACHE] = (trained, table)
        offer.empty()
    st.plotly_chart(importance_figure(table), key="importance")
    first = table[0]
    split = "given" if first["split"] == "given rows" else first["split"]
    more = f" Showing the top {MAX_BARS} of {len(table)} columns." if len(table) > MAX_BARS else ""
    st.caption(f"Each bar is how much the {split} {first['metric_label']} ({first['baseline_score']:.3g} on "
               f"{first['n_rows']:,} rows) drops when that column's values are shuffled, averaged over 5 shuffles; "
               f"the whisker is their spread. Near 0 (grey): the model barely uses the column.{more}")


def explain_prediction(bundle, row):
    """Integrated gradients for the Predict page's row, or the ExplainError saying why not."""
    try:
        return integrated_gradients(bundle, row)
    except NNBuilderError as exc:
        return exc


def render_attributions(result) -> None:
    """The Predict page's "Why this prediction?" content for `explain_prediction`'s answer."""
    if isinstance(result, NNBuilderError):
        st.info(_sentence(result), icon=":material/info:")
        return
    st.plotly_chart(attribution_figure(result), key="attributions")
    st.caption(f"Each bar is how much that column moved {target_phrase(result)} compared with a baseline row whose "
               f"values are all blank (numbers at their training median, categories blank): "
               f"{result['baseline_prediction']:,.4g} → {result['prediction']:,.4g}. {_colours(result)}")
    change = result["prediction"] - result["baseline_prediction"]
    if abs(change) < (0.02 if result["explained"] == "probability" else 0.01 * abs(result["baseline_prediction"])):
        st.caption("This row is close to the baseline (the form starts at the training medians), so there is little "
                   "to explain: change a few values above and predict again.")
    st.caption(f"Integrated gradients over {result['steps']} steps: the bars add up to the change ({change:+,.4g}) "
               f"give or take {abs(result['gap']):.1g}.")


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _colours(result: dict) -> str:
    if result["explained"] == "probability":
        return f"Green pushes toward '{result['target']}', red away from it."
    return "Green pushes the prediction higher, red lower."


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
