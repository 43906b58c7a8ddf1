"""A link straight to a page (or a reload there) works even as a server process's very first request."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_deep_link_on_a_fresh_server(fresh_app):
    page = fresh_app.page
    page.goto(f"{fresh_app.base_url}/Train", wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stSidebarNav"], [data-testid="stException"]')
    fresh_app.wait()
    fresh_app.assert_no_traceback()
    fresh_app.heading("Train").wait_for(timeout=5_000)
