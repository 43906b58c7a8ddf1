"""The Evaluate page's GAN section: quality cards, real-vs-generated charts per column, a download of N rows."""

from __future__ import annotations

import streamlit as st

from nnbuilder.tasks.gan.networks import comparable_rows, decode_rows, generate_encoded
from ui import charts, state

AUC_HELP = ("ROC AUC of a classifier trained to tell real rows from {what} (5-fold cross-validation): 0.5 means "
            "it cannot tell them apart, 1 that it always can. Lower is better.")


@st.cache_data(show_spinner=False, max_entries=4)
def _generated_csv(_trained, key: str, rows: int, seed: int) -> bytes:
    frame = decode_rows(generate_encoded(_trained.model, rows, seed), _trained.gan_layout)
    return frame.to_csv(index=False).encode()


def show_gan(trained) -> None:
    quality = trained.metrics.get("quality") or {}
    auc, corr = quality.get("auc") or {}, quality.get("correlation_difference") or {}
    cols = st.columns(3)
    cols[0].metric("Real-vs-generated AUC", _fmt(auc.get("gan")), border=True,
                   help=AUC_HELP.format(what="the GAN's rows"))
    cols[1].metric("Real-vs-independent AUC", _fmt(auc.get("independent")), border=True,
                   help=AUC_HELP.format(what="rows whose columns were each drawn on their own (a baseline that keeps "
                                        "every column's values but loses how they go together)"))
    cols[2].metric("Correlation difference", _fmt(corr.get("gan")), border=True,
                   help="Mean absolute gap between the real and the generated correlations of the numeric columns "
                   f"(0 = the same relationships). The independent baseline's: {_fmt(corr.get('independent'))}.")
    if auc.get("gan") is not None and auc.get("independent") is not None:
        better = auc["gan"] < auc["independent"]
        (st.success if better else st.warning)(
            "The generated rows are harder to tell from real ones than rows sampled column by column."
            if better else "The generated rows are no harder to tell from real ones than rows sampled column by "
            "column: train longer, or change the learning rate.")

    st.subheader("Real and generated, column by column")
    real = state.trained_frame()
    real = comparable_rows(trained.prepared.raw_test if real is None else real, trained.prepared)
    n_real = max(len(real), 1)
    generated = decode_rows(generate_encoded(trained.model, n_real, trained.spec.training.seed), trained.gan_layout)
    columns = [c for c in generated.columns if c in real.columns]
    reports = quality.get("columns") or {}
    chart_cols = st.columns(2)
    for index, column in enumerate(columns):
        report = reports.get(column) or {}
        numeric = report.get("kind") == "numeric"
        target = chart_cols[index % 2]
        target.plotly_chart(charts.real_vs_generated_figure(real[column].tolist(), generated[column].tolist(),
                                                             column, numeric), key=f"gan_{column}")
        gap = f"KS statistic {_fmt(report.get('ks'))}" if numeric else f"total-variation distance {_fmt(report.get('tvd'))}"
        target.caption(f"{column}: {gap} (0 = the same distribution).")

    st.subheader("Download generated rows")
    rows_col, seed_col = st.columns(2)
    rows = int(rows_col.number_input("Rows to generate", min_value=1, max_value=1_000_000, value=1000, step=100))
    seed = int(seed_col.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0,
                                     help="The same seed gives the same rows."))
    data = _generated_csv(trained, str(id(trained)), rows, seed)
    st.download_button("Download generated rows", data, file_name="generated_rows.csv", mime="text/csv",
                       icon=":material/download:")


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"
