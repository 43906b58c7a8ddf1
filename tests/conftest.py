"""Shared fixtures: a seed fixture and tiny frames with the mess real tables have."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
import torch


@pytest.fixture
def seed() -> int:
    """Seed Python, NumPy and PyTorch; returns the seed."""
    value = 0
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)
    return value


@pytest.fixture
def messy_frame() -> pd.DataFrame:
    """40 rows, one column per kind of mess; `churned` is the target (yes/no)."""
    n = 40
    rng = np.random.default_rng(0)
    income = rng.normal(50_000, 12_000, n).round(2)
    income[[3, 17]] = np.nan
    score = rng.normal(0, 1, n)
    score[5] = np.inf
    plan = np.array(["basic", "standard", "premium", None], dtype=object)[rng.integers(0, 4, n)]
    return pd.DataFrame({
        "id": np.arange(1000, 1000 + n),  # identifier-like
        "customer_code": [f"C-{i:05d}" for i in rng.permutation(n)],  # identifier-like text
        "age": rng.integers(18, 70, n),  # numeric (whole numbers)
        "income": income,  # numeric with gaps
        "score": score,  # numeric with an inf
        "plan": pd.Series(plan, dtype="str"),  # categorical with gaps
        "paperless": np.where(rng.random(n) < 0.5, "Yes", "no"),  # boolean written two ways
        "signup": pd.date_range("2021-01-01", periods=n, freq="7D").strftime("%Y-%m-%d"),  # dates as text
        "notes": [f"called about invoice {i} and asked for a refund" for i in range(n)],  # free text
        "country": "NL",  # constant
        "empty": np.nan,  # every value missing
        "churned": np.where(np.arange(n) % 3 == 0, "yes", "no"),  # target
    })


@pytest.fixture
def class_frame() -> pd.DataFrame:
    """300 rows, two numeric features and one categorical, target `label` in 3 unequal classes."""
    rng = np.random.default_rng(1)
    n = 300
    label = np.repeat(["a", "b", "c"], [150, 100, 50])
    x1 = rng.normal(0, 1, n) + (label == "b") * 2.0
    return pd.DataFrame({
        "x1": x1,
        "x2": rng.normal(5, 2, n),
        "color": rng.choice(["red", "green", "blue"], n),
        "label": label,
    })


@pytest.fixture
def write_csv(tmp_path):
    """write_csv(bytes_or_text, name='data.csv') -> path of a file holding exactly those bytes."""
    def write(content: bytes | str, name: str = "data.csv"):
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path
    return write


@pytest.fixture
def one_thread():
    """Pin torch to one thread: tiny batches gain nothing from a second one, and on a busy machine
    threads that wait for each other make a run many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
