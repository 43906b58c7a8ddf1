"""One lesson end to end in a real browser, on a server nobody has visited yet.

Lessons → start the XOR lesson → Train (the perceptron fails and the warning explains why) → apply the
lesson's "add a hidden layer" step → Train again → the curves show the perceptron's run dashed, and the
Decision boundary tab is there. Screenshots: docs/screenshots/lesson_xor.png (the lesson as started) and
lesson_boundary.png (the Train page after the second run: the dashed previous run and the boundary).
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

TRAIN_TIMEOUT_MS = 120_000


def train(app, layers: str) -> None:
    """Press Train and wait until the run whose label says `layers` ("0 layers", "1 layer") has finished.

    While a run starts the page can briefly hold the old Train button beside the new one (after a step is
    applied the layout shifts), so the button is taken by position, and the end is read from the page once no
    script runs (no stale elements left): this run's label and the finished line, with no progress bar.
    """
    page = app.page
    page.get_by_role("button", name="Train", exact=True).first.click()
    done = """label => {
        const text = document.querySelector('[data-testid="stMain"]').innerText;
        return text.includes('Run: xor: ' + label + ',') && /Training finished after 40 epochs/.test(text)
            && !document.querySelector('[data-testid="stProgress"]');
    }"""
    for _ in range(TRAIN_TIMEOUT_MS // 500):
        app.wait()
        if page.evaluate(done, layers):
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"the run with {layers} did not finish in {TRAIN_TIMEOUT_MS / 1000:.0f} s")


def test_xor_lesson_end_to_end(fresh_app):
    app, page = fresh_app, fresh_app.page
    app.open()
    app.go_to("Lessons")
    cards = page.get_by_role("button", name=re.compile("Start this lesson"))
    cards.first.wait_for()
    assert cards.count() >= 6
    cards.first.click()  # lesson 1: XOR
    app.wait()
    page.get_by_role("heading", name=re.compile(r"^Lesson 1: A perceptron fails on XOR")).wait_for()
    page.get_by_text("Loaded the lesson").wait_for()
    assert "Lesson 1" in page.locator('[data-testid="stSidebar"]').inner_text()
    page.get_by_role("button", name=re.compile("Apply: add a hidden layer of 8 tanh units")).wait_for()
    app.assert_no_traceback()
    app.screenshot("lesson_xor")  # the lesson: its story, the steps to try and what to watch

    # Train the perceptron: it stays near a coin toss, and the page says why.
    app.go_to("Train")
    page.get_by_text(re.compile(r"^Lesson 1: A perceptron fails on XOR")).first.wait_for()
    train(app, "0 layers")
    warning = page.locator('[data-testid="stAlert"]').filter(has_text="Underfitting")
    warning.wait_for()
    assert "Why:" in warning.inner_text() and "Try next:" in warning.inner_text()
    assert not page.get_by_text(re.compile(r"^Compare with the previous run")).count()

    # The lesson's step: one hidden layer of 8 tanh units; then train again.
    page.get_by_role("button", name=re.compile(r"Apply: add a hidden layer of 8 tanh units")).click()
    app.wait()
    page.get_by_text("Applied: add a hidden layer of 8 tanh units.").wait_for()
    train(app, "1 layer")
    accuracy = re.search(r"test accuracy (\d+\.\d)%", page.get_by_text(re.compile("^Training finished")).inner_text())
    assert accuracy and float(accuracy.group(1)) >= 90, "the hidden layer should solve XOR"

    # The previous run (the perceptron) is drawn dashed and labelled in both curve charts.
    page.get_by_text("Compare with the previous run (dashed: no hidden layer)").wait_for()
    loss = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Loss per epoch")
    loss.wait_for()
    assert "previous: no hidden layer (training)" in loss.inner_text()
    dashed = loss.locator(".scatterlayer path.js-line").evaluate_all(
        "paths => paths.filter(p => (p.style.strokeDasharray || '').length > 0 && p.style.strokeDasharray !== 'none').length")
    assert dashed == 2, "the previous run's training and validation lines should be dashed"
    assert page.locator('[data-testid="stPlotlyChart"]').filter(has_text="previous: no hidden layer").count() == 2
    app.assert_no_traceback()

    # The Decision boundary tab is there and shows the new network's view.
    tab = page.get_by_role("tab", name="Decision boundary")
    tab.wait_for()
    tab.click()
    app.wait()
    assert tab.get_attribute("aria-selected") == "true"
    app.assert_no_traceback()
    app.screenshot("lesson_boundary")

    # The other two views of the same network: the neurons, and what happens inside the training.
    for name, shot in (("Neurons", "train_neurons"), ("Inside the training", "train_internals")):
        tab = page.get_by_role("tab", name=name)
        tab.click()
        app.wait()
        assert tab.get_attribute("aria-selected") == "true"
        page.locator('[role="tabpanel"]:visible [data-testid="stPlotlyChart"]').first.wait_for()
        app.assert_no_traceback()
        app.screenshot(shot)
