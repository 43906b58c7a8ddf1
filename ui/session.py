"""The session set-up every script runs first: shared state, identity from the URL, a finished run's model.

app.py runs it on every view. Each page runs it too, because Streamlit runs a
page script on its own when a fresh server's very first request is a link
straight to that page (the `pages/` folder then counts as a classic multipage
app until app.py has run once). It is idempotent, so running it twice costs nothing.
"""

from __future__ import annotations

from . import jobs, state


def start() -> None:
    state.init_state()
    jobs.init_identity()
    jobs.adopt_result()
