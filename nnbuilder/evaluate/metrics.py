"""Full metrics for reports: scikit-learn's implementations, on host arrays.

`evaluate` returns scalar metrics (what the CLI prints and the bundle stores)
and `details` (confusion matrix, per-class report, ROC points, predicted vs
actual pairs) for the Evaluate page's charts. Regression is reported in the
target's original units; a forecast also reports the naive last-value
baseline (`baseline_rmse`, `baseline_mae`) and the forecast-vs-actual series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn import metrics as skm

from nnbuilder.train.fast_metrics import forward_chunks
from nnbuilder.model.heads import get_head
from nnbuilder.model.device import to_model_device

MAX_PLOT_POINTS = 2_000  # pairs and ROC points kept for charts


@dataclass
class Evaluation:
    metrics: dict[str, float | None]
    details: dict = field(default_factory=dict)


def model_outputs(model: torch.nn.Module, X: np.ndarray, task_kind: str) -> np.ndarray:
    """Class probabilities (rows, classes) or standardised regression values (rows, targets)."""
    raw = forward_chunks(model, to_model_device(X, model))
    head = get_head(task_kind)
    if head.is_classification:
        raw = head.to_probabilities(raw)
    return raw.float().cpu().numpy()


def evaluate(model, X: np.ndarray, y: np.ndarray, task_kind: str, classes: list | None = None,
             target_mean: np.ndarray | None = None, target_std: np.ndarray | None = None,
             baseline: np.ndarray | None = None, times: list | None = None) -> Evaluation:
    """Metrics and chart details for one split; `baseline` and `times` are the forecast task's extras."""
    if len(X) == 0:
        return Evaluation({"n": 0})
    outputs = model_outputs(model, X, task_kind)
    if get_head(task_kind).is_classification:
        return classification_report(np.asarray(y), outputs, classes or list(range(outputs.shape[1])))
    mean = np.zeros(outputs.shape[1]) if target_mean is None else np.asarray(target_mean)
    std = np.ones(outputs.shape[1]) if target_std is None else np.asarray(target_std)
    actual, predicted = np.asarray(y) * std + mean, outputs * std + mean
    if baseline is not None:  # only a forecast has a naive baseline (PreparedData.evaluation_extras)
        return forecast_report(actual, predicted, np.asarray(baseline), times)
    return regression_report(actual, predicted)


def classification_report(y: np.ndarray, proba: np.ndarray, classes: list) -> Evaluation:
    """y: class indices (rows,); proba: (rows, classes)."""
    labels = list(range(len(classes)))
    predicted = proba.argmax(axis=1)
    metrics = {
        "n": int(len(y)),
        "accuracy": float(skm.accuracy_score(y, predicted)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, predicted)),
        "f1_macro": float(skm.f1_score(y, predicted, labels=labels, average="macro", zero_division=0)),
        "roc_auc": _roc_auc(y, proba),
        "log_loss": float(skm.log_loss(y, np.clip(proba, 1e-7, 1.0), labels=labels)),
    }
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0)
    details = {
        "classes": [str(c) for c in classes],
        "confusion_matrix": skm.confusion_matrix(y, predicted, labels=labels).tolist(),
        "per_class": [
            {"class": str(c), "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support)
        ],
        "roc_curves": _roc_curves(y, proba, classes),
    }
    return Evaluation(metrics, details)


def _roc_auc(y: np.ndarray, proba: np.ndarray) -> float | None:
    present = np.unique(y)
    if len(present) < 2:
        return None  # undefined with a single class in this split
    if proba.shape[1] == 2:
        return float(skm.roc_auc_score(y, proba[:, 1]))
    if len(present) < proba.shape[1]:
        return None  # one-vs-rest needs every class present
    return float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=list(range(proba.shape[1]))))


def _roc_curves(y: np.ndarray, proba: np.ndarray, classes: list) -> list[dict]:
    """One curve for binary (positive class), one per class (one-vs-rest) otherwise."""
    targets = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    curves = []
    for k in targets:
        positive = y == k
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = skm.roc_curve(positive, proba[:, k])
        step = max(1, len(fpr) // MAX_PLOT_POINTS)
        curves.append({"class": str(classes[k]), "fpr": fpr[::step].tolist(), "tpr": tpr[::step].tolist(),
                       "auc": float(skm.auc(fpr, tpr))})
    return curves


def regression_report(actual: np.ndarray, predicted: np.ndarray) -> Evaluation:
    """Both (rows, targets) in original units."""
    actual, predicted = actual.reshape(len(actual), -1), predicted.reshape(len(predicted), -1)
    metrics = {
        "n": int(len(actual)),
        "r2": float(skm.r2_score(actual, predicted)) if len(actual) > 1 else None,
        "rmse": float(np.sqrt(skm.mean_squared_error(actual, predicted))),
        "mae": float(skm.mean_absolute_error(actual, predicted)),
    }
    step = max(1, len(actual) // MAX_PLOT_POINTS)
    details = {"actual": actual[::step].tolist(), "predicted": predicted[::step].tolist()}
    return Evaluation(metrics, details)


def forecast_report(actual: np.ndarray, predicted: np.ndarray, baseline: np.ndarray, times: list | None) -> Evaluation:
    """Regression metrics plus the naive last-value forecast's, all (windows, targets) in original units.

    Details keep the windows in time order (the first MAX_PLOT_POINTS of them, not every k-th, so the
    forecast-vs-actual line stays a contiguous stretch of the series).
    """
    report = regression_report(actual, predicted)
    baseline = baseline.reshape(len(actual), -1)
    report.metrics["baseline_rmse"] = float(np.sqrt(skm.mean_squared_error(actual.reshape(len(actual), -1), baseline)))
    report.metrics["baseline_mae"] = float(skm.mean_absolute_error(actual.reshape(len(actual), -1), baseline))
    keep = slice(0, MAX_PLOT_POINTS)
    report.details = {
        "actual": actual.reshape(len(actual), -1)[keep].tolist(),
        "predicted": predicted.reshape(len(predicted), -1)[keep].tolist(),
        "baseline": baseline[keep].tolist(),
        "time": list(times[keep]) if times is not None else list(range(min(len(actual), MAX_PLOT_POINTS))),
    }
    return report
