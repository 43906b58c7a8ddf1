"""Write assets/messy_customers.csv: a small, deliberately messy churn table (no network, deterministic).

    python assets/make_messy_customers.py

What is messy on purpose, and what nnbuilder should do with it:
  customer_id        unique per row                 -> excluded (identifier-like)
  age                whole numbers, ~6% missing     -> numeric, median-imputed
  monthly_charges    decimals, ~4% missing          -> numeric
  plan               text, 3 levels, ~5% missing    -> categorical
  contract           text, 3 levels                 -> categorical
  paperless_billing  yes/no, some written Yes/No    -> boolean
  signup_date        YYYY-MM-DD text                -> datetime (year, month, day, weekday)
  support_calls      small counts                   -> numeric
  notes              free text, nearly unique       -> excluded (free text)
  country            the same value in every row    -> excluded (constant)
  churned            yes/no target, 3 rows missing  -> binary target, those rows dropped

Churn follows mainly from contract, tenure (signup date), support calls and charges,
so a small network reaches well over 0.75 accuracy.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROWS = 400
SEED = 7
OUT = Path(__file__).resolve().parent / "messy_customers.csv"
TODAY = date(2024, 1, 1)

_TOPICS = ["billing question", "asked about discounts", "router replaced", "complained about speed",
           "moved house", "upgrade enquiry", "late payment", "praised support", "wants a cheaper plan",
           "reported an outage", "changed bank details", "asked about TV bundle"]
_CHANNELS = ["by phone", "via chat", "by email", "in the shop"]


def make_rows(rows: int = ROWS, seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    contract = rng.choice(["month-to-month", "one year", "two year"], rows, p=[0.5, 0.3, 0.2])
    plan = rng.choice(["basic", "standard", "premium"], rows, p=[0.4, 0.4, 0.2])
    tenure_days = rng.integers(15, 5 * 365, rows)
    calls = rng.poisson(1.5, rows)
    age = rng.integers(18, 80, rows)
    base = {"basic": 30.0, "standard": 55.0, "premium": 85.0}
    charges = np.array([base[p] for p in plan]) + rng.normal(0, 8, rows)
    paperless = rng.random(rows) < 0.55

    # The churn story: short contracts, new customers, many support calls, high bills.
    logit = (-1.0 + 2.2 * (contract == "month-to-month") - 1.6 * (contract == "two year")
             - 1.5 * (tenure_days / 365 - 2.5) + 0.9 * (calls - 1.5) + 0.04 * (charges - 55)
             + 0.4 * paperless)
    churned = rng.random(rows) < 1 / (1 + np.exp(-2.0 * logit))

    out = []
    for i in range(rows):
        signup = TODAY - timedelta(days=int(tenure_days[i]))
        yes_no = "yes" if paperless[i] else "no"
        out.append({
            "customer_id": f"C{10000 + i * 7 + int(rng.integers(0, 7))}",
            "age": "" if rng.random() < 0.06 else str(age[i]),
            "monthly_charges": "" if rng.random() < 0.04 else f"{charges[i]:.2f}",
            "plan": "" if rng.random() < 0.05 else plan[i],
            "contract": contract[i],
            "paperless_billing": yes_no.capitalize() if rng.random() < 0.1 else yes_no,
            "signup_date": signup.isoformat(),
            "support_calls": str(calls[i]),
            "notes": _note(rng, signup),
            "country": "NL",
            "churned": "yes" if churned[i] else "no",
        })
    for i in rng.choice(rows, 3, replace=False):
        out[i]["churned"] = ""
    return out


def _note(rng: np.random.Generator, signup: date) -> str:
    topic = _TOPICS[rng.integers(len(_TOPICS))]
    channel = _CHANNELS[rng.integers(len(_CHANNELS))]
    when = signup + timedelta(days=int(rng.integers(1, 300)))
    return f"{topic[0].upper()}{topic[1:]} {channel} on {when:%d %b %Y}, ticket {rng.integers(1000, 99999)}"


def main() -> None:
    rows = make_rows()
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
