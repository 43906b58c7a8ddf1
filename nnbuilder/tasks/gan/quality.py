"""How much generated rows look like real ones: the GAN task's quality report.

    columns                  per column, real next to generated: numbers get mean, std, quartiles and the
                             Kolmogorov-Smirnov statistic (0 = same distribution, 1 = no overlap); categories get
                             both frequency tables and the total-variation distance (half the L1 gap, 0 to 1)
    correlation_difference   mean absolute difference between the real and the generated Pearson correlations
                             of the numeric columns (0 = the same relationships; None with fewer than 2 numbers)
    auc                      a real-vs-synthetic classifier's cross-validated ROC AUC (gradient boosting, 5
                             folds, fixed seed): 0.5 = it cannot tell them apart, 1 = it always can

Each of the last two is given for the generated rows (`gan`) and for a column-independent sampler
(`independent`: each column drawn on its own from its real values, which keeps every column's
distribution but destroys the relationships between columns), the baseline a generator should beat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score

QUANTILES = (0.25, 0.5, 0.75)
MAX_ROWS = 2_000  # rows per side for the classifier: enough for a stable AUC, quick on a CPU


def independent_sample(real: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """n rows, each column drawn with replacement from its real values independently of the others."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: real[c].to_numpy()[rng.integers(0, len(real), n)] for c in real.columns})


def quality_report(real: pd.DataFrame, synthetic: pd.DataFrame, seed: int = 0) -> dict:
    """The report described in the module docstring (JSON-able)."""
    real = real[[c for c in synthetic.columns if c in real.columns]].reset_index(drop=True)
    synthetic = synthetic[real.columns].reset_index(drop=True)
    baseline = independent_sample(real, len(synthetic), seed)
    numeric = [c for c in real.columns if _is_number(real[c])]
    return {
        "rows_real": len(real),
        "rows_generated": len(synthetic),
        "auc": {"gan": real_vs_synthetic_auc(real, synthetic, seed),
                "independent": real_vs_synthetic_auc(real, baseline, seed)},
        "correlation_difference": {"gan": correlation_difference(real, synthetic, numeric),
                                   "independent": correlation_difference(real, baseline, numeric)},
        "columns": {c: _numeric_column(real[c], synthetic[c]) if c in numeric else _categorical_column(real[c], synthetic[c])
                    for c in real.columns},
    }


def real_vs_synthetic_auc(real: pd.DataFrame, synthetic: pd.DataFrame, seed: int = 0) -> float | None:
    """Cross-validated ROC AUC of a classifier told to find the generated rows (0.5: indistinguishable);
    None with fewer than 5 rows on a side."""
    rng = np.random.default_rng(seed)
    real = real.iloc[rng.permutation(len(real))[:MAX_ROWS]]
    synthetic = synthetic.iloc[rng.permutation(len(synthetic))[:MAX_ROWS]]
    both = pd.concat([real, synthetic], ignore_index=True)
    X = _encode(both)
    y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=seed)
    if min(len(real), len(synthetic)) < folds.n_splits:
        return None  # too few rows to cross-validate
    score = float(cross_val_score(model, X, y, cv=folds, scoring="roc_auc").mean())
    return round(score, 4) if np.isfinite(score) else None


def correlation_difference(real: pd.DataFrame, synthetic: pd.DataFrame, numeric: list[str] | None = None):
    """Mean absolute gap between the two tables' pairwise Pearson correlations (numeric columns only)."""
    numeric = numeric if numeric is not None else [c for c in real.columns if _is_number(real[c])]
    if len(numeric) < 2:
        return None
    upper = np.triu_indices(len(numeric), k=1)  # each pair once, without the diagonal
    a = _numbers(real[numeric]).corr().to_numpy()[upper]
    b = _numbers(synthetic[numeric]).corr().to_numpy()[upper]
    return round(float(np.nanmean(np.abs(np.nan_to_num(a) - np.nan_to_num(b)))), 4)


def _numeric_column(real: pd.Series, synthetic: pd.Series) -> dict:
    r, s = _numbers(real).dropna(), _numbers(synthetic).dropna()

    def summary(values: pd.Series) -> dict:
        if values.empty:
            return {"mean": None, "std": None, **{f"q{int(q * 100)}": None for q in QUANTILES}}
        return {"mean": float(values.mean()), "std": float(values.std(ddof=0)),
                **{f"q{int(q * 100)}": float(values.quantile(q)) for q in QUANTILES}}

    ks = float(ks_2samp(r, s).statistic) if len(r) and len(s) else None
    return {"kind": "numeric", "real": summary(r), "generated": summary(s), "ks": ks}


def _categorical_column(real: pd.Series, synthetic: pd.Series) -> dict:
    r = real.astype(object).where(real.notna(), "missing").map(str).value_counts(normalize=True)
    s = synthetic.astype(object).where(synthetic.notna(), "missing").map(str).value_counts(normalize=True)
    labels = sorted(set(r.index) | set(s.index))
    r, s = r.reindex(labels, fill_value=0.0), s.reindex(labels, fill_value=0.0)
    return {"kind": "categorical", "real": {k: float(v) for k, v in r.items()},
            "generated": {k: float(v) for k, v in s.items()}, "tvd": float(0.5 * np.abs(r - s).sum())}


def _encode(frame: pd.DataFrame) -> np.ndarray:
    """Numbers as they are (missing -> the median), other columns one-hot."""
    parts = []
    for column in frame.columns:
        if _is_number(frame[column]):
            values = _numbers(frame[column])
            parts.append(values.fillna(values.median() if values.notna().any() else 0.0).to_frame())
        else:
            parts.append(pd.get_dummies(frame[column].astype(object).map(str), prefix=str(column), dtype=float))
    return pd.concat(parts, axis=1).to_numpy(dtype=np.float64)


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _numbers(values):
    """Numbers as float64; text, inf and -inf become missing."""
    if isinstance(values, pd.DataFrame):
        return values.apply(lambda c: pd.to_numeric(c, errors="coerce")).astype(np.float64).replace([np.inf, -np.inf], np.nan)
    return pd.to_numeric(values, errors="coerce").astype(np.float64).replace([np.inf, -np.inf], np.nan)
