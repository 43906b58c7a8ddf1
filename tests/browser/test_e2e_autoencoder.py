"""Anomaly detection in a real browser: transactions -> autoencoder -> preset -> train -> Evaluate's own charts."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

TRAIN_TIMEOUT_MS = 120_000


def test_autoencoder_flags_the_injected_anomalies(app):
    page = app.page
    app.open()
    app.heading("Data").wait_for()
    app.choose("Built-in dataset", "transactions — 1500 card payments (amount, items, distance, hour, merchant), "
               "about 4% injected anomalies marked in is_anomaly: for the autoencoder task (option n_samples)")
    app.choose("Task (auto-detected, or choose)", "autoencoder")
    assert page.get_by_role("combobox", name="Label column (optional)").input_value() == "is_anomaly"
    page.get_by_text(re.compile(r"^Ready: 5 input columns")).wait_for()
    app.assert_no_traceback()

    app.go_to("Build")
    app.choose("Start from a preset", "Autoencoder (anomalies)")
    page.get_by_role("button", name="Use preset").click()
    app.wait()
    page.get_by_text("Decoder 2. dense").first.wait_for()
    app.assert_no_traceback()

    app.go_to("Train")
    app.set_number("Epochs", 30)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"^Training finished after \d+ epochs")).wait_for(timeout=TRAIN_TIMEOUT_MS)
    app.wait()

    app.go_to("Evaluate")
    card = page.locator('[data-testid="stMetric"]').filter(has_text="Test ROC AUC")
    card.wait_for()
    assert float(card.locator('[data-testid="stMetricValue"]').inner_text()) >= 0.9
    page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Latent space").wait_for()
    page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Reconstruction error per row").wait_for()
    page.get_by_role("heading", name=re.compile(r"^Flagged rows \(\d+\)$")).wait_for()
    app.assert_no_traceback()
    app.screenshot("evaluate_autoencoder")  # for the README
