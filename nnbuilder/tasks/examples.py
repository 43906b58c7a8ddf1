"""Small seeded tables the built-in tasks hand the conformance test (`Task.examples`): a few hundred rows,
a tiny network, a few epochs, so every registered task is checked end to end in seconds on a CPU."""

from __future__ import annotations

import numpy as np
import pandas as pd

TRAINING = {"epochs": 3, "batch_size": 32, "seed": 0}
DENSE = [{"type": "dense", "units": 8, "activation": "relu"}]


def mixed_table(rows: int = 160, seed: int = 0) -> pd.DataFrame:
    """Two numbers and a category, plus the answers the examples below predict from them."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    return pd.DataFrame({
        "x1": x1.round(3), "x2": x2.round(3), "colour": colour,
        "label": np.where(x1 + x2 > 0, "yes", "no"),
        "kind": np.select([x1 > 0.5, x1 < -0.5], ["high", "low"], "mid"),
        "y": (2 * x1 - x2 + rng.normal(scale=0.1, size=rows)).round(3),
        "z": (x1 * x2).round(3),
        "is_anomaly": np.where(rng.random(rows) < 0.05, "yes", "no"),
    })


def _spec(target, task: str, **extra) -> dict:
    return {"data": {"target": target, "task": task}, "layers": DENSE, "training": TRAINING, **extra}


def classification_examples():
    table = mixed_table().drop(columns=["y", "z", "is_anomaly"])
    return [("binary", table.drop(columns="kind"), _spec("label", "classification")),
            ("multiclass", table.drop(columns="label"), _spec("kind", "classification"))]


def regression_examples():
    table = mixed_table().drop(columns=["label", "kind", "is_anomaly"])
    return [("regression", table.drop(columns="z"), _spec("y", "regression")),
            ("multi_regression", table, _spec(["y", "z"], "regression"))]


def forecast_examples():
    days = np.arange(150)
    table = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=len(days)),
                          "sales": (10 + np.sin(days / 5) + days / 50).round(3)})
    spec = {"data": {"target": "sales", "task": "forecast"},
            "input": {"kind": "sequence", "layout": "time_series", "time_column": "day", "window": 8},
            "layers": [{"type": "lstm", "units": 8}], "training": TRAINING}
    return [("forecast", table, spec)]


def autoencoder_examples():
    table = mixed_table().drop(columns=["label", "kind", "y", "z"])
    return [("autoencoder", table, _spec("is_anomaly", "autoencoder", autoencoder={"latent_dim": 2}))]


def gan_examples():
    table = mixed_table().drop(columns=["label", "kind", "z", "is_anomaly"])
    return [("gan", table, _spec(None, "gan", gan={"noise_dim": 4}))]
