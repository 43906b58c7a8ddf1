"""Why one prediction: integrated gradients, summed back to the row's raw columns.

Integrated gradients (Sundararajan et al., 2017) credit the change of the model's output between a
baseline input and the row to each input feature: attribution_i = (x_i - b_i) × the average gradient
of the output along the straight path from b to x. They add up to f(x) - f(b) (completeness); the
integral is taken with the trapezoid rule, and the steps are raised (up to MAX_STEPS) until the sum
is within 1 % of f(x) - f(b). The gap left is reported.

What is explained: for classifiers the predicted class's PROBABILITY (or `target_class`'s), so the
numbers read "pushed the probability of 'yes' up by 0.12"; for regression the prediction in the
target's original units. Positive attributions push toward the class / a higher value.

The baseline is a row of the ENCODED features:
- "median" (default): the row the model sees when every value is blank, i.e. the preprocessing's own
  missing-value encoding: numbers and date parts at their training median, categories at 'missing'
  (all zeros when 'missing' never occurred in training, i.e. no category). It is a typical, neutral
  row in the units the user knows ("compared with a row of medians"), and it needs no extra data.
- "zero": the all-zero vector of standardised features: numbers at their training MEAN, no category.
- a one-row DataFrame: that raw row, encoded like any other ("compared with this customer").

Attributions are computed on the encoded features and summed per raw column: a one-hot group, the
parts of a date and an embedded column's vector each add up to their column (explain_source.
feature_sources). Embedded category codes are integers the network looks up, so there the path runs
through the looked-up vectors instead: the first module (the embedding front) maps x and the baseline
to vectors, and the gradients are taken with respect to those.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from nnbuilder.evaluate.source import Explainable, ExplainError, eval_mode, explainable, feature_sources
from nnbuilder.layers.embedding import TabularEmbeddings
from nnbuilder.model.heads import probabilities
from nnbuilder.model.device import to_model_device

MAX_STEPS = 1024
TOLERANCE = 0.01  # completeness gap allowed, relative to |f(x) - f(baseline)|
BASELINES = ("median", "zero")


def integrated_gradients(trained_or_bundle, row: pd.DataFrame, target_class=None, steps: int = 64,
                         baseline="median") -> dict:
    """Attributions of one raw row's prediction to its columns; see the module docstring.

    Returns: explained ("probability" or "value"), target (the class label or the target column),
    prediction and baseline_prediction (f(x), f(b) in those units), baseline (its name), attributions
    [{column, value (the row's raw value as text), attribution}] in the model's column order,
    features {encoded feature: attribution}, total (their sum), gap (total - (f(x) - f(b))),
    relative_gap (|gap| / |f(x) - f(b)|; 0 when f(x) = f(b)) and steps (the steps finally used).
    """
    source = explainable(trained_or_bundle)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 2:
        raise ExplainError(f"steps must be a whole number of at least 2; got {steps!r}")
    x = _one_row(source, row, "row to explain")  # (1, features) float32
    base = _baseline(source, baseline)
    names, sources = list(source.preprocessing.feature_names), feature_sources(source.preprocessing)
    output, target = _output(source, x, target_class)
    model = source.model
    with eval_mode(model), torch.enable_grad():
        front, rest, names, sources = _split_front(model, names, sources)
        with torch.no_grad():  # embedding codes are looked up, not interpolated: integrate over the vectors
            z = front(to_model_device(x, model)).double()
            z0 = front(to_model_device(base, model)).double()
        head = _head(rest, output)
        while True:
            attributions, f_x, f_b = _integrate(head, z, z0, steps)
            delta = f_x - f_b
            gap = float(attributions.sum()) - delta
            relative = abs(gap) / abs(delta) if abs(delta) > 1e-9 else 0.0  # same output: nothing to share out
            if relative <= TOLERANCE or steps >= MAX_STEPS:
                break
            steps = min(MAX_STEPS, steps * 4)
    per_column = {c: 0.0 for c in source.feature_columns}
    for column, value in zip(sources, attributions):
        per_column[column] += float(value)
    raw = row.iloc[0]
    return {
        "explained": "probability" if source.is_classifier else "value", "target": target,
        "prediction": f_x, "baseline_prediction": f_b,
        "baseline": baseline if isinstance(baseline, str) else "given row",
        "attributions": [{"column": c, "value": _shown(raw[c]), "attribution": a} for c, a in per_column.items()],
        "features": {n: float(a) for n, a in zip(names, attributions)},
        "total": float(attributions.sum()), "gap": gap, "relative_gap": relative, "steps": steps,
    }


def _one_row(source: Explainable, row, what: str) -> np.ndarray:
    if not isinstance(row, pd.DataFrame):
        raise ExplainError(f"the {what} must be a table (pandas DataFrame) with one row; "
                           f"got {type(row).__name__}")
    if len(row) != 1:
        raise ExplainError(f"the {what} must be exactly one row; got {len(row)} rows: pick one, "
                           "e.g. rows.iloc[[0]]")
    missing = [c for c in source.feature_columns if c not in row.columns]
    if missing:
        raise ExplainError(f"the {what} lacks {', '.join(repr(c) for c in missing)}; the model needs the "
                           f"columns {', '.join(source.feature_columns)}")
    return source.preprocessing.transform(row)


def _baseline(source: Explainable, baseline) -> np.ndarray:
    """(1, features): see the module docstring for what each choice means."""
    if isinstance(baseline, pd.DataFrame):
        return _one_row(source, baseline, "baseline row")
    if isinstance(baseline, str) and baseline == "median":  # every value blank: the preprocessing imputes medians / 'missing'
        blank = pd.DataFrame({c: pd.Series([None], dtype=object) for c in source.feature_columns})
        return source.preprocessing.transform(blank)
    if isinstance(baseline, str) and baseline == "zero":
        zeros = np.zeros((1, len(source.preprocessing.feature_names)), dtype=np.float32)
        if source.embedding_levels:  # code 0 is a real category: the neutral code is -1 (unknown)
            zeros[:, -len(source.embedding_levels):] = -1
        return zeros
    raise ExplainError(f"baseline must be one of {', '.join(BASELINES)} or a one-row table; got {repr(baseline)[:60]}")


def _output(source: Explainable, x: np.ndarray, target_class):
    """(torch function of the network's raw outputs -> the explained number per row, what it is)."""
    if source.is_classifier:
        classes = list(source.classes)
        if target_class is None:
            with eval_mode(source.model), torch.no_grad():
                logits = source.model(to_model_device(x, source.model))
                k = int(probabilities(source.task, logits).argmax(dim=1)[0])
        elif target_class in classes:
            k = classes.index(target_class)
        elif str(target_class) in [str(c) for c in classes]:
            k = [str(c) for c in classes].index(str(target_class))
        else:
            raise ExplainError(f"target_class must be one of the classes {classes}; got {target_class!r}")
        return (lambda raw: probabilities(source.task, raw)[:, k]), classes[k]
    targets = list(source.target)
    if target_class is None:
        t = 0
    elif target_class in targets:
        t = targets.index(target_class)
    else:
        raise ExplainError(f"for regression, target_class names the target to explain, one of {targets}; "
                           f"got {target_class!r}")
    mean, std = float(source.target_mean[t]), float(source.target_std[t])
    return (lambda raw: raw[:, t] * std + mean), targets[t]  # standardised -> original units


def _split_front(model: torch.nn.Module, names: list[str], sources: list[str]):
    """(front, rest, names, sources) where front maps x to the space the path runs in (identity, or the
    embedding front: codes -> vectors, whose dimensions then carry their column's name)."""
    first = model[0] if isinstance(model, torch.nn.Sequential) and len(model) else None
    if not isinstance(first, TabularEmbeddings):
        return torch.nn.Identity(), model, names, sources
    plain = first.n_plain
    embedded = sources[plain:]  # one code per embedded column, in the tables' order
    names, sources = names[:plain], sources[:plain]
    for column, table in zip(embedded, first.tables):
        names += [f"{column} (vector {d + 1})" for d in range(table.embedding_dim)]
        sources += [column] * table.embedding_dim
    return first, model[1:], names, sources


def _head(rest: torch.nn.Module, output):
    def head(z: torch.Tensor) -> torch.Tensor:  # (rows, width) float64 -> (rows,) explained number
        dtype = next(rest.parameters()).dtype
        return output(rest(z.to(dtype))).double()
    return head


def _integrate(head, z: torch.Tensor, z0: torch.Tensor, steps: int):
    """Trapezoid-rule integrated gradients from z0 to z (both (1, width)): (attributions (width,), f(z), f(z0))."""
    alphas = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64, device=z.device).unsqueeze(1)  # (steps+1, 1)
    path = (z0 + alphas * (z - z0)).detach().requires_grad_(True)  # (steps+1, width)
    values = head(path)  # (steps+1,)
    (grads,) = torch.autograd.grad(values.sum(), path)  # rows are independent in eval mode
    weights = torch.full((steps + 1, 1), 1.0 / steps, dtype=torch.float64, device=z.device)
    weights[0] = weights[-1] = 0.5 / steps
    average = (weights * grads.double()).sum(dim=0)  # (width,)
    attributions = ((z - z0)[0] * average).detach().cpu().numpy()
    values = values.detach()
    return attributions, float(values[-1]), float(values[0])


def _shown(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(blank)"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.strftime("%Y-%m-%d")  # a date without a time of day
    return f"{value:,.4g}" if isinstance(value, (float, np.floating)) else str(value)
