"""A page refresh in the middle of training reattaches to the same run, and Stop stops it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EPOCHS = 5000  # far more than the test waits for: it stops the run itself
PROGRESS = re.compile(r"Epoch (\d+)/" + str(EPOCHS))
START_TIMEOUT_MS = 60_000


def job_id(url: str) -> str | None:
    return (parse_qs(urlparse(url).query).get("job") or [None])[0]


def epoch_shown(app) -> int:
    """The epoch in the progress line ('Epoch 12/5000, ~3m left')."""
    line = app.page.get_by_text(PROGRESS).first
    line.wait_for(timeout=START_TIMEOUT_MS)
    return int(PROGRESS.search(line.inner_text()).group(1))


def wait_for_epoch_above(app, epoch: int, timeout_ms: int = START_TIMEOUT_MS) -> int:
    app.page.wait_for_function(
        """([pattern, epoch]) => {
            const match = document.body.innerText.match(new RegExp(pattern));
            return match && Number(match[1]) > epoch;
        }""", arg=[PROGRESS.pattern, epoch], timeout=timeout_ms)
    return epoch_shown(app)


def test_refresh_reattaches(app):
    page = app.page
    app.open()  # the app opens on the built-in moons data, ready to train
    app.go_to("Train")
    app.set_number("Epochs", EPOCHS)
    app.set_number("Batch size", 1)  # slow epochs, so the run is still going after the refresh
    app.set_number("Early stopping patience (epochs)", 0)  # 0: never stop early
    page.get_by_role("button", name="Train", exact=True).click()

    before = wait_for_epoch_above(app, 1)
    job = job_id(page.url)
    assert job, f"the run's id is not in the URL: {page.url}"
    loss_chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Loss per epoch").first  # a rerun can show two for a moment
    loss_chart.wait_for()  # the live curve, drawn while the run goes on

    page.reload(wait_until="domcontentloaded")
    app.heading("Train").wait_for()
    after = wait_for_epoch_above(app, before)  # the same run, still going: its progress kept climbing
    assert job_id(page.url) == job, f"the URL lost or changed the run: {page.url}"
    page.get_by_text(re.compile(rf"^Run: moons: .*{EPOCHS} epochs$")).wait_for()  # the run's own label
    loss_chart.wait_for()
    # The run's own settings come back with it, not the defaults of a new session.
    expect(page.get_by_label("Epochs", exact=True)).to_have_value(str(EPOCHS))
    expect(page.get_by_label("Batch size", exact=True)).to_have_value("1")
    assert page.get_by_text(re.compile(r"^Your runs")).count() == 0, "a second run was started"
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()  # the run is still active
    stop = page.get_by_role("button", name="Stop", exact=True)
    expect(stop).to_be_enabled()

    stop.click()
    stopped = page.get_by_text(re.compile(rf"^Stopped by you at epoch (\d+)/{EPOCHS}"))
    stopped.wait_for(timeout=START_TIMEOUT_MS)
    final = int(re.search(r"epoch (\d+)/", stopped.inner_text()).group(1))
    assert final >= after > before
    # The page notices the run ended: Train is offered again, Stop is not.
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled(timeout=START_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_disabled()
    app.assert_no_traceback()
