"""Which columns matter: permutation importance over raw columns, and per-prediction attributions.

`permutation_importance_table` shuffles one RAW column at a time (a date, a category, a number: what
the user sees in the table, not its one-hot or date-part features) on held-out rows and measures how
much the task's headline score drops: accuracy for classifiers, R² for regression. It runs
scikit-learn's `permutation_importance` on `NetworkEstimator`, a small scikit-learn-compatible
wrapper whose predict goes raw rows -> `Preprocessing.transform` -> network, exactly like
`Bundle.predict`. Rows are the test split (the validation split when the test share is 0), capped at
`MAX_ROWS` for speed.

`integrated_gradients` (nnbuilder.evaluate.gradients) credits one prediction to the columns of its row.

Both refuse, with one line, models whose inputs are not independent table columns (images,
sequences) and models that predict no target (autoencoders, GANs): see nnbuilder.evaluate.source.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.base import BaseEstimator
from sklearn.inspection import permutation_importance

from nnbuilder.data.pipeline import drop_missing_targets, plain_names, split_rows
from nnbuilder.data.task_detection import encode_classes
from nnbuilder.evaluate.metrics import model_outputs
from nnbuilder.evaluate.gradients import integrated_gradients
from nnbuilder.evaluate.source import Explainable, ExplainError, eval_mode, explainable, feature_sources

__all__ = ["ExplainError", "NetworkEstimator", "evaluation_rows", "feature_sources", "integrated_gradients",
           "permutation_importance_table"]

MAX_ROWS = 2_000  # rows scored per shuffle; more changes the ranking little and costs seconds
METRICS = {  # name -> (label, score(y_true, y_predicted)); y are class indices or values in target units
    "accuracy": ("accuracy", skm.accuracy_score),
    "balanced_accuracy": ("balanced accuracy", skm.balanced_accuracy_score),
    "r2": ("R²", skm.r2_score),
}


class NetworkEstimator(BaseEstimator):
    """A trained network as a scikit-learn estimator on RAW rows. `fit` does nothing: it is trained already.

    predict: class indices (rows,) for classifiers, values in the target's units (rows,) or (rows, targets)
    for regression; predict_proba: (rows, classes).
    """

    def __init__(self, source: Explainable):
        self.source = source

    def fit(self, X=None, y=None):
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def _outputs(self, X: pd.DataFrame) -> np.ndarray:
        source = self.source
        with eval_mode(source.model):
            return model_outputs(source.model, source.preprocessing.transform(X), source.task)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if not self.source.is_classifier:
            raise ExplainError(f"predict_proba is for classifiers; this model is {self.source.task}")
        return self._outputs(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        outputs = self._outputs(X)
        if self.source.is_classifier:
            return outputs.argmax(axis=1)
        values = outputs * self.source.target_std + self.source.target_mean  # standardised -> original units
        return values[:, 0] if values.shape[1] == 1 else values


def evaluation_rows(trained_or_bundle, frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str]:
    """(raw held-out rows, "test" or "validation"): a TrainedModel's test rows, else its validation rows
    rebuilt from `frame` (the table it was trained on) with the same split and seed, and checked."""
    source = explainable(trained_or_bundle)
    if source.raw_test is not None and len(source.raw_test):
        return source.raw_test, "test"
    prepared = getattr(trained_or_bundle, "prepared", None)
    if prepared is None:
        raise ExplainError("a saved bundle keeps no test rows: pass rows with the input columns and the target "
                           f"({', '.join(source.feature_columns + source.target)})")
    if frame is None or not len(prepared.X_val):
        raise ExplainError("this model has no test rows (the split gives the test set 0%); pass the table it was "
                           "trained on (frame) to use its validation rows, or give the test set a share")
    spec = trained_or_bundle.spec
    df = drop_missing_targets(plain_names(frame, []), source.target, [])
    codes = encode_classes(df[source.target[0]], source.classes) if source.is_classifier else None
    _, val, _ = split_rows(len(df), spec.data.split, spec.training.seed, codes, [])
    rows = df.iloc[val][source.feature_columns + source.target].reset_index(drop=True)
    encoded = source.preprocessing.transform(rows)
    if encoded.shape != prepared.X_val.shape or not np.allclose(encoded, prepared.X_val, atol=1e-5, equal_nan=True):
        raise ExplainError("the table given is not the one this model was trained on (its validation rows differ); "
                           "pass the same table, or rows with the input columns and the target")
    return rows, "validation"


def permutation_importance_table(trained_or_bundle, rows: pd.DataFrame | None = None, n_repeats: int = 5,
                                 seed: int = 0, *, metric: str | None = None,
                                 frame: pd.DataFrame | None = None) -> list[dict]:
    """How much the score drops when one raw column's values are shuffled, per column, most important first.

    Each row: column, importance_mean and importance_std (score drop over the `n_repeats` shuffles, in the
    metric's units), rank (1 = most important), metric ("accuracy" for classifiers, "r2" for regression,
    or `metric`), metric_label, baseline_score (unshuffled), split and n_rows. `rows` are raw rows with the
    input columns and the target; by default the test split (see `evaluation_rows`).
    """
    source = explainable(trained_or_bundle)
    metric = metric or ("accuracy" if source.is_classifier else "r2")
    allowed = ["accuracy", "balanced_accuracy"] if source.is_classifier else ["r2"]
    if metric not in allowed:
        raise ExplainError(f"metric must be one of {', '.join(allowed)} for a {source.task} model; got {metric!r}")
    if not isinstance(n_repeats, int) or isinstance(n_repeats, bool) or n_repeats < 1:
        raise ExplainError(f"n_repeats must be a whole number of at least 1; got {n_repeats!r}")
    split = "given rows"
    if rows is None:
        rows, split = evaluation_rows(trained_or_bundle, frame)
    X, y = _scored_rows(source, rows, seed)
    estimator = NetworkEstimator(source)
    score = METRICS[metric][1]

    def scorer(est, X_, y_):
        return float(score(y_, est.predict(X_)))

    result = permutation_importance(estimator, X, y, scoring=scorer, n_repeats=n_repeats, random_state=seed,
                                    n_jobs=1)
    baseline = scorer(estimator, X, y)
    order = sorted(range(len(X.columns)), key=lambda i: -result.importances_mean[i])
    return [{"column": str(X.columns[i]), "importance_mean": float(result.importances_mean[i]),
             "importance_std": float(result.importances_std[i]), "rank": rank, "metric": metric,
             "metric_label": METRICS[metric][0], "baseline_score": baseline, "split": split, "n_rows": len(X)}
            for rank, i in enumerate(order, start=1)]


def _scored_rows(source: Explainable, rows, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """(raw input columns, targets as class indices or values), at most MAX_ROWS rows, no missing target."""
    if not isinstance(rows, pd.DataFrame):
        raise ExplainError(f"rows must be a table (pandas DataFrame); got {type(rows).__name__}")
    needed = source.feature_columns + source.target
    missing = [c for c in needed if c not in rows.columns]
    if missing:
        raise ExplainError(f"the rows lack {', '.join(repr(c) for c in missing)}: scoring needs the input columns "
                           f"and the target ({', '.join(needed)})")
    rows = rows.loc[rows[source.target].notna().all(axis=1)]
    if len(rows) < 2:
        raise ExplainError(f"need at least 2 rows with a target value to measure importance; got {len(rows)}")
    if len(rows) > MAX_ROWS:
        rows = rows.sample(MAX_ROWS, random_state=seed)
    rows = rows.reset_index(drop=True)
    if source.is_classifier:
        labels = rows[source.target[0]]
        known = labels.isin(source.classes) | labels.astype(str).isin([str(c) for c in source.classes])
        if not known.all():
            raise ExplainError(f"the target '{source.target[0]}' of the rows has the value {labels[~known].iloc[0]!r}, "
                               f"which is not one of the classes the model knows ({source.classes})")
        y = encode_classes(labels, source.classes)
    else:
        values = rows[source.target].apply(pd.to_numeric, errors="coerce")
        bad = [c for c in source.target if values[c].isna().any()]
        if bad:
            raise ExplainError(f"the target column '{bad[0]}' of the rows must hold numbers for a regression "
                               f"model; got {rows.loc[values[bad[0]].isna(), bad[0]].iloc[0]!r}")
        y = values.to_numpy(dtype=np.float64)
        y = y[:, 0] if y.shape[1] == 1 else y
    return rows[source.feature_columns], y
