"""The autoencoder's evaluation: reconstruction error per row as an anomaly score.

A row's score is the mean squared difference between its encoded features and their reconstruction,
in the standardised units the network sees (so every numeric column weighs the same). The default
threshold is the `threshold_quantile` (0.95) quantile of the *training* rows' scores: the worst 5% of
training rows count as anomalies, and every split is flagged against that one threshold. When the label
has two values (`PreparedData.anomaly_class` is the rarer), the score is also judged as a detector:
`roc_auc` (None where a split holds one class only), and `precision`/`recall` of the flagged rows.

Metrics per split: n, reconstruction_error_mean/_median/_p95/_max, threshold, flagged_share and, with a
label, roc_auc, precision, recall, anomaly_share. Details per split (for charts, the first
MAX_PLOT_POINTS rows in split order, so they line up with `raw_test`): errors, 2-D latent coordinates
(a PCA projection when latent_dim > 2), labels as text, the threshold.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn import metrics as skm
from sklearn.decomposition import PCA

from nnbuilder.model.compile import encoder_of
from nnbuilder.model.device import to_model_device
from nnbuilder.tasks.autoencoder.data import has_label, is_anomaly
from nnbuilder.train.fast_metrics import forward_chunks

MAX_PLOT_POINTS = 2_000
SPLITS = ("train", "val", "test")


def reconstruction_errors(model: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    """(rows,) mean squared reconstruction error per row, in standardised feature units."""
    if len(X) == 0:
        return np.zeros(0)
    x = to_model_device(X, model)
    rebuilt = forward_chunks(model, x)  # (rows, features)
    return ((rebuilt - x) ** 2).mean(dim=1).double().cpu().numpy()


def latent_codes(model: torch.nn.Module, spec, X: np.ndarray) -> np.ndarray:
    """(rows, latent_dim) outputs of the latent layer."""
    if len(X) == 0:
        return np.zeros((0, spec.autoencoder_settings.latent_dim))
    return forward_chunks(encoder_of(model, spec), to_model_device(X, model)).double().cpu().numpy()


def plane(codes: np.ndarray) -> np.ndarray:
    """(rows, 2) coordinates to plot: the codes themselves up to 2-D (a zero second axis for 1-D), else PCA."""
    if codes.shape[1] == 2:
        return codes
    if codes.shape[1] < 2:
        return np.column_stack([codes[:, 0], np.zeros(len(codes))])
    if len(codes) < 2:
        return codes[:, :2]
    return PCA(n_components=2, random_state=0).fit_transform(codes)


def default_threshold(train_errors: np.ndarray, quantile: float) -> float:
    return float(np.quantile(train_errors, quantile)) if len(train_errors) else float("inf")


def anomaly_report(errors: np.ndarray, threshold: float, labels: np.ndarray | None = None,
                   positive=None) -> dict[str, float | None]:
    """Scalar metrics of one split's scores; see the module docstring."""
    n = int(len(errors))
    if n == 0:
        return {"n": 0}
    flagged = errors > threshold
    metrics = {
        "n": n,
        "reconstruction_error_mean": float(errors.mean()),
        "reconstruction_error_median": float(np.median(errors)),
        "reconstruction_error_p95": float(np.quantile(errors, 0.95)),
        "reconstruction_error_max": float(errors.max()),
        "threshold": float(threshold),
        "flagged_share": float(flagged.mean()),
    }
    if labels is not None and positive is not None:
        known = has_label(labels)
        truth = is_anomaly(labels, positive)[known]
        scores, called = errors[known], flagged[known]
        metrics["anomaly_share"] = float(truth.mean()) if len(truth) else None
        two_classes = 0 < truth.sum() < len(truth)
        metrics["roc_auc"] = float(skm.roc_auc_score(truth, scores)) if two_classes else None
        metrics["precision"] = float(skm.precision_score(truth, called, zero_division=0)) if len(truth) else None
        metrics["recall"] = float(skm.recall_score(truth, called, zero_division=0)) if truth.any() else None
    return metrics


def evaluate_autoencoder(model: torch.nn.Module, spec, prepared) -> tuple[dict[str, dict], dict[str, dict]]:
    """(metrics, details) per split, flagged against the training rows' threshold."""
    errors = {split: reconstruction_errors(model, getattr(prepared, f"X_{split}")) for split in SPLITS}
    threshold = default_threshold(errors["train"], spec.autoencoder_settings.threshold_quantile)
    metrics, details = {}, {}
    for split in SPLITS:
        labels = prepared.labels[split] if prepared.labels is not None else None
        metrics[split] = anomaly_report(errors[split], threshold, labels, prepared.anomaly_class)
        keep = slice(0, MAX_PLOT_POINTS)
        X = getattr(prepared, f"X_{split}")[keep]
        details[split] = {
            "errors": errors[split][keep].tolist(),
            "latent": plane(latent_codes(model, spec, X)).tolist(),
            "labels": None if labels is None else [None if not ok else str(v) for v, ok in
                                                   zip(labels[keep], has_label(labels[keep]))],
            "anomaly_class": None if prepared.anomaly_class is None else str(prepared.anomaly_class),
            "threshold": threshold,
        } if len(X) else {}
    return metrics, details


def flagged_rows(errors: list[float] | np.ndarray, threshold: float) -> np.ndarray:
    """Positions of the rows whose score is above `threshold`, worst first (the Evaluate page's slider)."""
    errors = np.asarray(errors, dtype=np.float64)
    rows = np.flatnonzero(errors > threshold)
    return rows[np.argsort(-errors[rows], kind="stable")]
