"""Images in a real browser: digits -> image input (auto-detected) -> CNN preset -> train -> accuracy."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

TRAIN_TIMEOUT_MS = 120_000


def test_cnn_on_digits(app):
    page = app.page
    app.open()
    app.heading("Data").wait_for()
    app.choose("Built-in dataset", "digits — 1797 handwritten digits as 8x8 pixels (pixel0..pixel63) -> digit 0-9")
    page.get_by_text(re.compile(r"^Ready: 8×8 images with 1 channel")).wait_for()  # the image input was picked
    page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Sample images").wait_for()
    app.assert_no_traceback()

    app.go_to("Build")
    app.choose("Start from a preset", "CNN (images)")
    page.get_by_role("button", name="Use preset").click()
    app.wait()
    page.get_by_text("Convolution 2D (images)").first.wait_for()
    app.assert_no_traceback()
    app.screenshot("build_cnn")

    app.go_to("Train")
    app.set_number("Epochs", 8)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"^Training finished after \d+ epochs")).wait_for(timeout=TRAIN_TIMEOUT_MS)
    app.wait()

    app.go_to("Evaluate")
    card = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
    card.wait_for()
    assert float(card.locator('[data-testid="stMetricValue"]').inner_text().rstrip("%")) > 90
    app.assert_no_traceback()
