"""Small rendering helpers every page uses: headers, next-step hints, errors for people."""

from __future__ import annotations

import streamlit as st

from nnbuilder.errors import NNBuilderError, SpecError

from .stack import problem_text


def header(number: int, title: str, what_to_do: str) -> None:
    st.title(f"{number} · {title}")
    st.caption(what_to_do)


def show_error(exc: NNBuilderError) -> None:
    """One red box: the engine's sentence, then each problem on its own line when there are several.
    A spec's layers are numbered as the Build page's cards are ('Layer 3: rate ...')."""
    if isinstance(exc, SpecError):
        problems = [problem_text(problem) for problem in exc.spec_problems]
    else:
        problems = getattr(exc, "problems", None) or [str(exc)]
    if len(problems) == 1:
        st.error(problems[0], icon=":material/error:")
    else:
        st.error(f"{len(problems)} problems to fix:\n" + "\n".join(f"- {p}" for p in problems), icon=":material/error:")


def show_warnings(warnings) -> None:
    seen = set()
    for warning in warnings:
        message = getattr(warning, "message", str(warning))
        if message not in seen:
            seen.add(message)
            st.warning(message, icon=":material/lightbulb:")


def next_step(text: str, page: str | None = None, label: str | None = None) -> None:
    """A hint on what to do next, with a link to that page when given."""
    st.info(text, icon=":material/arrow_forward:")
    if page:
        st.page_link(page, label=label or "Go there", icon=":material/arrow_forward:")
