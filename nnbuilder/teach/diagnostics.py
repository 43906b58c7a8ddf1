"""Reading a training history the way a teacher would: overfitting, plateaus, divergence, underfitting.

The UI shows these as warnings while a run goes on; they live here, beside the
trainer, because deciding what a curve means is an ML decision (DESIGN rule 2).

Each rule is registered by name (`RULES`) and turns a history (the trainer's
per-epoch dicts) plus the run's spec dict into a `Diagnosis` or None:
what happened, why it happens, what to try next and, where one knob fixes it,
a one-click `patch` for the spec (deep-merged by `nnbuilder.teach.lessons.apply_patch`).
A failed run's message (divergence) gets the same shape from `explain_failure`.

    for d in diagnose(history, spec_dict): print(d.title, d.next_step, d.patch)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Sequence

OVERFIT_EPOCHS = 5  # validation loss rising this many epochs in a row while training loss falls
WINDOW = 10  # epochs the plateau, oscillation and underfitting rules look back over
PLATEAU_GAIN = 0.01  # best loss of the window improved on the loss before it by less than 1 %
JUMP = 1.5  # an epoch whose loss is 1.5x the previous one's "jumps up" ...
JUMP_SIZE = 0.1  # ... when the jump is also at least 10 % of the first epoch's loss (tiny losses wobble)
GOOD_SCORE = {"accuracy": 0.95, "r2": 0.9, "reconstruction_r2": 0.9}  # train scores with nothing left to fix
LOW_SCORE = {"accuracy": 0.75, "r2": 0.5, "reconstruction_r2": 0.5}  # both splits below this: underfitting
FLAT_SCORE = 0.05  # a score whose window's second half beats its first half by less than this is stalled


@dataclass(frozen=True)
class Diagnosis:
    rule: str  # the RULES name: "overfitting", "plateau", "unstable", "underfitting", "diverged"
    title: str
    what: str  # what happened, from the curves
    why: str  # why it happens
    next_step: str  # what to try next, in words
    epoch: int  # the epoch the rule looked at (the last one)
    patch: dict | None = None  # a spec patch that applies the main suggestion, or None
    patch_label: str = ""  # the button's text for the patch: "Apply: learning rate 0.01"
    severity: str = "warning"  # "warning", or "error" for a failed run

    def to_dict(self) -> dict:
        return asdict(self)


Rule = Callable[[list[dict], dict], "Diagnosis | None"]  # (history, the run's spec dict or {}) -> diagnosis
RULES: dict[str, Rule] = {}


def register_rule(name: str) -> Callable[[Rule], Rule]:
    def add(rule: Rule) -> Rule:
        if name in RULES:
            raise ValueError(f"diagnostic rule {name!r} is registered twice")
        RULES[name] = rule
        return rule
    return add


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


def _losses(history: list[dict]) -> list[float]:
    return [float(row["train_loss"]) for row in history if row.get("train_loss") is not None]


def _score_name(history: list[dict]) -> str | None:
    """The metric the history carries (accuracy, r2 ...), from its train_<metric> keys."""
    return next((name for name in GOOD_SCORE if history and history[-1].get(f"train_{name}") is not None), None)


def _lr_patch(spec: dict, factor: float) -> tuple[dict | None, str]:
    """The learning rate times `factor`; none without a spec (nothing to start from) or out of range."""
    if not spec:
        return None, ""
    lr = float((spec.get("training") or {}).get("learning_rate", 0.001))
    new = float(f"{lr * factor:.3g}")
    if not 0 < new <= 10 or new == lr:
        return None, ""
    return {"training": {"learning_rate": new}}, f"Apply: learning rate {new:g}"


@register_rule("overfitting")
def _overfitting(history: list[dict], spec: dict) -> Diagnosis | None:
    if not overfitting(history):
        return None
    training = spec.get("training") or {}
    if not spec:
        patch, label = None, ""
    elif int(training.get("early_stopping_patience", 10) or 0) == 0:
        patch, label = {"training": {"early_stopping_patience": 10}}, "Apply: early stopping after 10 epochs"
    else:
        decay = float(training.get("weight_decay", 0.0) or 0.0)
        new = 0.01 if decay < 0.01 else min(1.0, decay * 10)
        patch, label = {"training": {"weight_decay": new}}, f"Apply: weight decay (L2) {new:g}"
    return Diagnosis(
        "overfitting", "Overfitting",
        f"The validation loss has risen for {OVERFIT_EPOCHS} epochs in a row while the training loss keeps falling.",
        "The network is memorising the training rows, noise included, instead of learning the pattern that "
        "carries over to new rows.",
        "Use early stopping, weight decay (L2), more dropout or a smaller network; more data helps most.",
        int(history[-1].get("epoch", len(history))), patch, label)


@register_rule("unstable")
def _unstable(history: list[dict], spec: dict) -> Diagnosis | None:
    """The loss ends above where it started, or keeps jumping up by a large factor."""
    losses = _losses(history)
    if len(losses) < 4:
        return None
    recent, first = losses[-WINDOW:], losses[0]
    jumps = sum(b > JUMP * a and b - a > JUMP_SIZE * first for a, b in zip(recent, recent[1:]))
    worse = sum(recent) / len(recent) > first  # on average worse than the random start
    if not (worse and jumps >= 1) and jumps < 3:
        return None
    patch, label = _lr_patch(spec, 0.1)
    what = ("The training loss ends higher than it started and jumps up and down." if worse else
            f"The training loss jumped up by more than {JUMP:g}x {jumps} times in the last {len(recent)} epochs.")
    return Diagnosis(
        "unstable", "Learning rate too high", what,
        "Each update overshoots the valley it is aiming for, so the weights bounce from one side to the other "
        "(or fly off) instead of settling.",
        "Divide the learning rate by 10; batch normalisation or a larger batch also calm the steps.",
        int(history[-1].get("epoch", len(history))), patch, label)


def _stalled(values: list[float]) -> bool:
    """No upward trend: near chance a score jumps about from epoch to epoch, so halves are compared, not ends."""
    half = len(values) // 2
    return sum(values[half:]) / (len(values) - half) - sum(values[:half]) / half < FLAT_SCORE


@register_rule("underfitting")
def _underfitting(history: list[dict], spec: dict) -> Diagnosis | None:
    """Train and validation scores both low and no longer moving: the model is too simple (or too slow)."""
    name = _score_name(history)
    if name is None or len(history) < 2 * WINDOW:  # early epochs of a slow start are not a verdict yet
        return None
    recent = history[-WINDOW:]
    train = [row[f"train_{name}"] for row in recent]
    val = [row.get(f"val_{name}") for row in recent]
    val = train if any(v is None for v in val) else val
    if not (train[-1] < LOW_SCORE[name] and val[-1] < LOW_SCORE[name] and _stalled(train) and _stalled(val)):
        return None
    patch, label = _bigger_network(spec.get("layers"))
    return Diagnosis(
        "underfitting", "Underfitting",
        f"Training and validation {name} are both low ({train[-1]:.2f} and {val[-1]:.2f}) and stopped improving.",
        "The network cannot draw the shape the data needs: it is too small, has no non-linearity, or learns too "
        "slowly to get there.",
        "Add a hidden layer or more units with a non-linear activation (relu, tanh); then a higher learning rate "
        "or more epochs.", int(history[-1].get("epoch", len(history))), patch, label)


def _bigger_network(layers) -> tuple[dict | None, str]:
    """No hidden layer: add one; linear activations: make them relu; otherwise the words have to do."""
    if layers is None:
        return None, ""
    if not layers:
        hidden = {"type": "dense", "units": 16, "activation": "relu"}
        return {"layers": [hidden]}, "Apply: add a hidden layer of 16 relu units"
    if any(layer.get("activation") == "linear" for layer in layers):
        changed = [{**layer, "activation": "relu"} if layer.get("activation") == "linear" else layer
                   for layer in layers]
        return {"layers": changed}, "Apply: relu instead of linear activations"
    return None, ""


@register_rule("plateau")
def _plateau(history: list[dict], spec: dict) -> Diagnosis | None:
    """The training loss barely moved for WINDOW epochs although the model is not yet good."""
    losses = _losses(history)
    if len(losses) <= WINDOW:
        return None
    before, best = losses[-WINDOW - 1], min(losses[-WINDOW:])
    if before <= 0 or (before - best) / before >= PLATEAU_GAIN:
        return None
    name = _score_name(history)
    if name is not None and history[-1][f"train_{name}"] >= GOOD_SCORE[name]:
        return None  # converged: nothing left to win on the training rows
    patch, label = _lr_patch(spec, 10)
    return Diagnosis(
        "plateau", "The loss stopped improving",
        f"The training loss improved by less than {PLATEAU_GAIN:.0%} over the last {WINDOW} epochs.",
        "The steps are too small to get anywhere, the optimiser is stuck on a flat stretch, or the network has "
        "learned all it can hold.",
        "Raise the learning rate, use a learning-rate schedule, or a bigger network.",
        int(history[-1].get("epoch", len(history))), patch, label)


def diagnose(history: Sequence[dict], spec: dict | None = None) -> list[Diagnosis]:
    """Every rule that fires on this history, most specific first (underfitting hides the plateau it explains).
    `spec` is the run's spec dict, for the one-click patches (none without it)."""
    rows = [dict(row) for row in history]
    if not rows or "generator_loss" in rows[-1]:  # a GAN's two losses fight by design: no rule reads them
        return []
    found = [d for d in (rule(rows, spec or {}) for rule in RULES.values()) if d is not None]
    if any(d.rule == "underfitting" for d in found):
        found = [d for d in found if d.rule != "plateau"]
    if any(d.rule == "unstable" for d in found):
        found = [d for d in found if d.rule not in ("plateau", "underfitting")]  # the cause is the step size
    return found


def first_firing(history: Sequence[dict], rule: str, spec: dict | None = None) -> int | None:
    """The first epoch at which `rule` fires when the history is read as it grows (None: never)."""
    rows = list(history)
    for end in range(1, len(rows) + 1):
        if any(d.rule == rule for d in diagnose(rows[:end], spec)):
            return int(rows[end - 1].get("epoch", end))
    return None


def explain_failure(error: str | None, spec: dict | None = None) -> Diagnosis | None:
    """A failed run's message (the trainer's TrainingError) in the same shape, when the cause is known."""
    if not error or "diverged" not in error:
        return None
    patch, label = _lr_patch(spec or {}, 0.1)
    return Diagnosis(
        "diverged", "Training diverged", error,
        "The learning rate is so high that each update overshoots further than the last, until the numbers "
        "overflow to infinity or NaN.",
        "Divide the learning rate by 10 and train again; batch normalisation also keeps the values in range.",
        0, patch, label, severity="error")
