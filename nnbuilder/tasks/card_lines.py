"""Model-card lines the tasks that predict a target share (nnbuilder.tasks.record.CardSection)."""

from __future__ import annotations

import math


def classes_line(meta: dict) -> list[str]:
    if not meta.get("classes"):
        return []
    return [f"- Classes (probability columns in this order): {', '.join(map(str, meta['classes']))}."]


def units_line(meta: dict) -> list[str]:
    if meta.get("target_mean") is None:
        return []
    spread = ", ".join(f"{t}: mean {m:.4g}, sd {s:.4g}" for t, m, s in
                       zip(meta["target"], meta["target_mean"], meta["target_std"]))
    return [f"- Predictions are in the target's own units (training {spread})."]


def number(value) -> str:
    """A metric as the card prints it: '–' for none, thousands separators for counts, 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"
