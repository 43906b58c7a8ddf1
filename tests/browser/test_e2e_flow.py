"""The whole journey in a real browser: upload a messy CSV, build, train, evaluate, predict, export.

Each page is screenshotted on the way (docs/screenshots/<page>.png, for the README).
"""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.browser

EPOCHS = 20
BATCH_SIZE = 8  # 140 training rows: enough updates in 20 epochs to learn the rule well
TRAIN_TIMEOUT_MS = 120_000


def messy_customers(n: int = 200, seed: int = 7) -> pd.DataFrame:
    """What a real export looks like: an id, gaps in numbers and categories, free text; target `churned`.

    The target is not the last column, so the test has to choose it. It follows a
    clear rule (age, spend and plan), so a small network scores well above chance.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    spend = rng.normal(60, 20, n).round(2)
    plan = rng.choice(["basic", "standard", "premium"], n)
    effect = pd.Series(plan).map({"basic": 1.2, "standard": 0.0, "premium": -1.2}).to_numpy()
    score = -0.06 * (age - 48) + 0.05 * (spend - 60) + effect + rng.normal(0, 0.3, n)
    age[rng.choice(n, 12, replace=False)] = np.nan
    spend[rng.choice(n, 10, replace=False)] = np.nan
    plan = plan.astype(object)
    plan[rng.choice(n, 15, replace=False)] = None
    words = ["billing", "router", "upgrade", "refund", "outage", "contract", "app", "invoice"]
    notes = [f"Called on day {i} about {rng.choice(words)} and {rng.choice(words)}, ticket {rng.integers(10000, 99999)}"
             for i in range(n)]
    return pd.DataFrame({
        "customer_id": [f"K{i:05d}" for i in rng.permutation(n) + 1],
        "age": age,
        "monthly_spend": spend,
        "plan": plan,
        "notes": notes,
        "churned": np.where(score > 0, "yes", "no"),
        "region": rng.choice(["north", "south", "east", "west"], n),
    })


def percent(text: str) -> float:
    """'86.7%' -> 0.867; '0.867' -> 0.867."""
    number = float(re.search(r"-?\d+(?:\.\d+)?", text).group())
    return number / 100 if "%" in text else number


def test_full_flow(app, tmp_path):
    page = app.page
    frame = messy_customers()
    csv_path = tmp_path / "customers.csv"
    frame.to_csv(csv_path, index=False)

    # Data: upload, then choose the target (the app guesses the last column, `region`).
    app.open()
    app.heading("Data").wait_for()
    app.upload("Upload a CSV", csv_path)
    page.get_by_role("heading", name="Preview of customers.csv").wait_for()
    app.choose("Target column", "churned")
    assert page.get_by_role("combobox", name="Target column").input_value() == "churned"
    page.get_by_text(re.compile(r"^Ready: \d+ input columns")).wait_for()
    app.assert_no_traceback()
    app.screenshot("data")

    # Build: start from a preset; the parameter count and the diagram follow.
    app.go_to("Build")
    app.choose("Start from a preset", "Small MLP")
    page.get_by_role("button", name="Use preset").click()
    app.wait()
    page.get_by_text("1. Dense").first.wait_for()
    page.locator('[data-testid="stMetric"]').filter(has_text="Trainable parameters").wait_for()
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for()
    app.assert_no_traceback()
    app.screenshot("build")

    # Train: a few epochs, then watch the live curve and the finished line.
    app.go_to("Train")
    app.set_number("Epochs", EPOCHS)
    app.set_number("Batch size", BATCH_SIZE)
    page.get_by_role("button", name="Train", exact=True).click()
    done = page.get_by_text(re.compile(r"^Training finished after \d+ epochs"))
    done.wait_for(timeout=TRAIN_TIMEOUT_MS)
    assert f"after {EPOCHS} epochs" in done.inner_text()
    app.wait()
    page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Loss per epoch").wait_for()
    assert "?" in page.url and "job=" in page.url, f"the run's id is not in the URL: {page.url}"
    app.assert_no_traceback()
    app.screenshot("train")

    # Evaluate: the test accuracy card, well above chance on this clear rule.
    app.go_to("Evaluate")
    card = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
    card.wait_for()
    accuracy = percent(card.locator('[data-testid="stMetricValue"]').inner_text())
    assert accuracy > 0.6, f"test accuracy {accuracy:.3f} is not above 0.6"
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for()
    # Which columns matter: permutation importance on the test rows, one bar per raw column.
    page.get_by_role("button", name="Compute permutation importance").click()
    app.wait()
    page.locator('[data-testid="stPlotlyChart"]').filter(has_text="monthly").first.wait_for()
    app.assert_no_traceback()
    app.screenshot("evaluate")

    # Predict: a CSV of rows first, then one row from the form (its defaults are filled in).
    # In this order the page shows both results: a later rerun would clear the form's answer.
    app.go_to("Predict")
    rows_path = tmp_path / "new_rows.csv"
    frame.drop(columns=["churned"]).head(25).to_csv(rows_path, index=False)
    app.upload("Upload rows to predict", rows_path)
    predictions_path = app.download("Download predictions", tmp_path)
    predictions = pd.read_csv(predictions_path)
    assert len(predictions) == 25
    assert set(predictions["prediction"]) <= {"yes", "no"}
    assert {"probability_yes", "probability_no"} <= set(predictions.columns)
    page.get_by_role("button", name="Predict", exact=True).click()
    app.wait()
    single = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")
    single.wait_for()
    assert single.locator('[data-testid="stMetricValue"]').inner_text().strip() in {"yes", "no"}
    why = page.locator('[data-testid="stExpander"]').filter(has_text="Why this prediction?")
    if why.locator("details").get_attribute("open") is None:
        why.get_by_text("Why this prediction?").click()  # integrated gradients per column
        app.wait()
    app.assert_no_traceback()
    app.screenshot("predict")

    # Export: the bundle loads without the app and predicts; the spec JSON parses.
    app.go_to("Export")
    bundle_path = app.download("Download model bundle (.zip)", tmp_path)
    with zipfile.ZipFile(bundle_path) as archive:
        names = set(archive.namelist())
    assert {"spec.json", "weights.safetensors", "manifest.json", "meta.json"} <= names, names

    from nnbuilder.bundle.bundle import load_bundle
    from nnbuilder.spec.network import parse_spec

    bundle = load_bundle(bundle_path)
    result = bundle.predict(frame.drop(columns=["churned"]).head(10))
    assert len(result) == 10 and set(result["prediction"]) <= {"yes", "no"}

    spec_path = app.download("Download spec JSON", tmp_path)
    spec = parse_spec(json.loads(spec_path.read_text(encoding="utf-8")))
    assert spec.data.target in ("churned", ["churned"])
    assert (spec.training.epochs, spec.training.batch_size) == (EPOCHS, BATCH_SIZE)
    app.assert_no_traceback()
    app.screenshot("export")
