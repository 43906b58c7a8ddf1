"""Reading a training history the way a teacher would: is it overfitting?

The UI shows these as warnings while a run goes on; they live here, beside the
trainer, because deciding what a curve means is an ML decision (DESIGN rule 2).
"""

from __future__ import annotations

from typing import Sequence

OVERFIT_EPOCHS = 5  # validation loss rising this many epochs in a row while training loss falls


def overfitting(history: Sequence[dict], epochs: int = OVERFIT_EPOCHS) -> bool:
    """True when validation loss rose for `epochs` epochs in a row while training loss fell."""
    if len(history) <= epochs:
        return False
    recent = list(history)[-(epochs + 1):]
    val = [row.get("val_loss") for row in recent]
    train = [row.get("train_loss") for row in recent]
    if any(v is None for v in val) or any(t is None for t in train):
        return False
    rising = all(b > a for a, b in zip(val, val[1:]))
    return rising and train[-1] < train[0]
