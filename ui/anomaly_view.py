"""The Evaluate page's autoencoder section: score cards, latent space, error histogram, threshold slider.

The slider only moves the threshold over the stored per-row errors (no retraining); the cards and the
table of flagged rows are recomputed by the engine's `anomaly_report` and `flagged_rows`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from nnbuilder.tasks.autoencoder.anomaly import anomaly_report, flagged_rows
from ui import charts
from ui.training import format_metric

MAX_TABLE_ROWS = 200


def show_anomalies(trained, split: str, split_name: str) -> None:
    details = trained.details.get(split) or {}
    errors = np.asarray(details.get("errors") or [], dtype=np.float64)
    if not len(errors):
        st.info("No rows to score in this split.")
        return
    default = float(details["threshold"])
    top = float(max(errors.max(), default) * 1.05)
    threshold = st.slider(
        "Anomaly threshold (reconstruction error)", min_value=0.0, max_value=top, value=min(default, top),
        step=top / 500, format="%.4f", key="anomaly_threshold",
        help=f"Rows that the network rebuilds worse than this are flagged. The default, {default:.4g}, flags the "
        "worst 5% of the training rows (autoencoder.threshold_quantile). Moving it does not retrain anything.")
    labels = None if details.get("labels") is None else np.asarray(details["labels"], dtype=object)
    report = anomaly_report(errors, threshold, labels, details.get("anomaly_class"))
    scores = trained.metrics.get(split) or {}
    flagged = flagged_rows(errors, threshold)
    cards = [("Flagged rows", f"{len(flagged):,} ({format_metric('flagged_share', report['flagged_share'])})",
              "Rows above the threshold.")]
    if scores.get("roc_auc") is not None:
        cards.insert(0, (f"{split_name} ROC AUC", format_metric("roc_auc", scores["roc_auc"]),
                         "How well the reconstruction error ranks the labelled anomalies above the normal rows: 0.5 "
                         "is guessing, 1 is perfect. It does not depend on the threshold."))
    if report.get("precision") is not None:
        cards += [("Precision", format_metric("precision", report["precision"]),
                   "Share of the flagged rows that are labelled anomalies."),
                  ("Recall", format_metric("recall", report.get("recall")),
                   "Share of the labelled anomalies that are flagged.")]
    cards.append(("Median error", format_metric("", report["reconstruction_error_median"]),
                  "The typical row's reconstruction error (mean squared, in standardised units)."))
    for column, (name, value, help_text) in zip(st.columns(len(cards)), cards):
        column.metric(name, value, border=True, help=help_text)

    latent_col, error_col = st.columns(2)
    latent_col.plotly_chart(charts.latent_figure(details["latent"], details.get("labels"),
                                                 details.get("anomaly_class")), key="latent")
    latent_col.caption("Every row squeezed through the latent layer. Anomalies may sit apart, but often they land "
                       "among ordinary rows and give themselves away by a large reconstruction error instead."
                       + (" Coloured by the label." if labels is not None else ""))
    error_col.plotly_chart(charts.error_histogram_figure(errors, threshold), key="errors")
    error_col.caption("How badly each row is rebuilt; rows right of the red line are flagged.")

    st.subheader(f"Flagged rows ({len(flagged):,})")
    table = _scored_rows(trained, split, errors, threshold)
    st.dataframe(table.iloc[flagged[:MAX_TABLE_ROWS]], hide_index=True)
    st.download_button("Download anomaly scores", table.to_csv(index=False).encode("utf-8"),
                       file_name="anomaly_scores.csv", mime="text/csv", icon=":material/download:")
    if len(errors) < (scores.get("n") or 0):
        st.caption(f"Charts and cards use the first {len(errors):,} of the {scores['n']:,} {split_name.lower()} rows.")


def _scored_rows(trained, split: str, errors: np.ndarray, threshold: float) -> pd.DataFrame:
    """The split's rows as read, with their score and flag first (the raw rows are kept for the test split)."""
    if split != "test":
        return pd.DataFrame({"anomaly_score": errors, "anomaly": errors > threshold})
    rows = trained.prepared.raw_test.iloc[:len(errors)].reset_index(drop=True)
    return pd.concat([pd.DataFrame({"anomaly_score": errors, "anomaly": errors > threshold}), rows], axis=1)
