"""Synthetic rows in a real browser: people -> GAN task -> preset (generator and discriminator) -> train -> Evaluate.

A server nobody has visited yet, so the GAN section must work on the process's first requests too.
"""

from __future__ import annotations

import re

import pytest

from nnbuilder.data.datasets import list_datasets

pytestmark = pytest.mark.browser

TRAIN_TIMEOUT_MS = 120_000
PEOPLE = next(f"people — {info.description}" for info in list_datasets() if info.name == "people")


def test_gan_from_the_data_page_to_generated_rows(fresh_app):
    app, page = fresh_app, fresh_app.page
    app.open()
    app.heading("Data").wait_for()
    app.choose("Built-in dataset", PEOPLE)
    app.choose("Task (auto-detected, or choose)", "gan")
    app.assert_no_traceback()

    app.go_to("Build")
    app.choose("Start from a preset", "GAN (synthetic rows)")
    page.get_by_role("button", name="Use preset").click()
    app.wait()
    page.get_by_role("heading", name="Generator and discriminator").wait_for()
    assert page.get_by_label("Noise size", exact=True).input_value() == "16"
    # The discriminator's own stack: its add row, and its layers in the table after the generated row.
    page.get_by_role("combobox", name="Discriminator layer type", exact=True).wait_for()
    page.get_by_role("button", name="Add discriminator layer").wait_for()
    table = page.locator('[data-testid="stDataFrame"]')  # a canvas grid: its cells exist for screen readers
    for row in ("Noise", "Generated row", "Disc 1. dense", "Disc 2. dropout", "Disc 3. dense", "Disc output"):
        table.get_by_text(row, exact=True).wait_for(state="attached")
    app.set_number("Noise size", 8)
    table.get_by_text("8 random numbers per generated row").wait_for(state="attached")
    app.assert_no_traceback()
    app.screenshot("build_gan")

    app.go_to("Train")
    app.set_number("Epochs", 15)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"^Training finished after \d+ epochs")).wait_for(timeout=TRAIN_TIMEOUT_MS)
    app.wait()
    app.assert_no_traceback()

    app.go_to("Evaluate")
    for label in ("Real-vs-generated AUC", "Real-vs-independent AUC", "Correlation difference"):
        card = page.locator('[data-testid="stMetric"]').filter(has_text=label)
        card.wait_for()
        assert 0 <= float(card.locator('[data-testid="stMetricValue"]').inner_text()) <= 1
    page.get_by_role("heading", name="Download generated rows").wait_for()
    page.get_by_role("button", name="Download generated rows").wait_for()
    app.assert_no_traceback()
    app.screenshot("evaluate_gan")
