"""Evaluate: how the trained model does on rows it never saw."""

import pandas as pd
import streamlit as st

from nnbuilder.model.heads import get_head
from nnbuilder.tasks import get_task
from ui import charts, state
from ui.anomaly_view import show_anomalies
from ui.gan_view import show_gan
from ui.importance_view import render_importance
from ui.page import header, next_step
from ui.training import format_metric
from ui.session import start as start_session

start_session()  # safe when Streamlit runs this page on its own (a deep link)

CLASSIFICATION_CARDS = [("accuracy", "accuracy", "Share of rows predicted right."),
                        ("balanced_accuracy", "balanced accuracy", "Accuracy averaged over classes, so rare "
                         "classes count as much as common ones."),
                        ("f1_macro", "F1 (macro)", "Balance of precision and recall, averaged over classes."),
                        ("roc_auc", "ROC AUC", "How well the scores rank positives above negatives: 0.5 is "
                         "guessing, 1 is perfect.")]
REGRESSION_CARDS = [("r2", "R²", "Share of the target's variation explained: 1 is perfect, 0 is no better than "
                     "always predicting the mean."),
                    ("rmse", "RMSE", "Typical size of an error, in the target's units (big errors weigh more)."),
                    ("mae", "MAE", "Average size of an error, in the target's units.")]
FORECAST_CARDS = [("rmse", "RMSE", "Typical size of a forecast error, in the target's units (big errors weigh more)."),
                  ("mae", "MAE", "Average size of a forecast error, in the target's units."),
                  ("r2", "R²", "Share of the target's variation explained: 1 is perfect."),
                  ("baseline_rmse", "baseline RMSE", "RMSE of the naive forecast 'the next value equals the last one "
                   "seen'. A model worth keeping beats it.")]
CARDS = {"class_cards": CLASSIFICATION_CARDS, "number_cards": REGRESSION_CARDS, "forecast_cards": FORECAST_CARDS}
BASELINE_OF = {"rmse": "baseline_rmse", "mae": "baseline_mae"}  # the forecast cards compared with the baseline

header(4, "Evaluate", "How well does the model do on the test rows, which it never saw while learning?")
trained = state.trained()
if trained is None:
    next_step("Nothing trained yet. Train a model first; its results appear here.", "pages/3_Train.py", "Train")
    st.stop()

task = get_task(trained.task)  # which views this task has (nnbuilder.tasks.record.Task.evaluate_views)
if task.shows("quality"):  # nothing predicted (a GAN): how much the generated rows look like real ones
    st.caption(f"{task.label(trained.task)} · {len(trained.fit.history)} epochs on {trained.fit.device} in "
               f"{trained.fit.seconds:.1f}s")
    show_gan(trained)
    st.subheader("Training curves")
    loss_col, metric_col = st.columns(2)
    loss_col.plotly_chart(charts.curve_figure(trained.fit.history, "loss", charts.GAN_CURVE_NAMES), key="final_loss")
    metric_col.plotly_chart(charts.curve_figure(trained.fit.history, trained.fit.metric), key="final_metric")
    st.caption("The generator's loss falls as it fools the discriminator; a discriminator accuracy near 0.5 means it "
               "can no longer tell the rows apart.")
    next_step("Download the generator as a bundle (nnbuilder generate BUNDLE --rows N).", "pages/6_Export.py", "Export")
    st.stop()

kind = get_head(trained.task)
split, split_name = "test", "Test"
if not (trained.metrics.get("test") or {}).get("n"):
    split, split_name = "val", "Validation"
    st.info("There are no test rows (the split gives the test set 0%), so validation rows are shown instead.")
scores, details = trained.metrics.get(split, {}), trained.details.get(split, {})

what = f"of **{', '.join(map(str, trained.prepared.target))}**"
if kind.rebuilds_input:  # it predicts no column: it rebuilds them all
    what = "of every input column" + (f", labelled by **{trained.prepared.target[0]}**" if trained.prepared.target
                                      else "")
st.caption(f"{kind.label} {what} · "
           f"{scores.get('n', 0):,} {split_name.lower()} rows · {len(trained.fit.history)} epochs on "
           f"{trained.fit.device} in {trained.fit.seconds:.1f}s")
forecast = task.shows("forecast")
cards = next((CARDS[view] for view in task.evaluate_views if view in CARDS), [])
if task.shows("anomaly"):  # its own cards, after the threshold slider
    show_anomalies(trained, split, split_name)
for column, (key, name, help_text) in zip(st.columns(len(cards)) if cards else [], cards):
    train_value = (trained.metrics.get("train") or {}).get(key)
    baseline = scores.get(BASELINE_OF.get(key, "")) if forecast else None
    delta = None
    if baseline is not None and scores.get(key) is not None:  # below the baseline is good: shown green
        delta = f"{scores[key] - baseline:+.4g} vs last-value baseline"
    column.metric(f"{split_name} {name}", format_metric(key, scores.get(key)), border=True, delta=delta,
                  delta_color="inverse", help=f"{help_text} On the training rows: {format_metric(key, train_value)}.")

if task.shows("class_charts"):
    matrix_col, roc_col = st.columns(2)
    if details.get("confusion_matrix"):
        matrix_col.plotly_chart(charts.confusion_matrix_figure(details["classes"], details["confusion_matrix"]),
                                key="confusion")
        matrix_col.caption("Each row is the true class, each column the prediction; the diagonal is right.")
    if details.get("roc_curves"):
        roc_col.plotly_chart(charts.roc_figure(details["roc_curves"]), key="roc")
        roc_col.caption("The closer a curve hugs the top-left corner, the better the model separates that class.")
    if details.get("per_class"):
        st.subheader("Per class")
        st.dataframe(pd.DataFrame(details["per_class"]).round(3), hide_index=True)
elif task.shows("number_charts"):
    targets = [str(t) for t in trained.prepared.target]
    index = 0
    if len(targets) > 1:
        index = targets.index(st.selectbox("Target to plot", targets))
    name = targets[index] if len(targets) > 1 else ""
    if forecast and details.get("actual"):
        st.plotly_chart(charts.forecast_figure(details, index, name), key="forecast")
        st.caption("The model's forecast of each step (blue) against what happened (black), and the naive "
                   "forecast that repeats the last value seen (dotted). Shown in time order.")
    scatter_col, residual_col = st.columns(2)
    if details.get("actual"):
        scatter_col.plotly_chart(charts.predicted_vs_actual_figure(details["actual"], details["predicted"], index,
                                                                   name), key="scatter")
        scatter_col.caption("Points on the dashed line are predicted exactly.")
        residual_col.plotly_chart(charts.residuals_figure(details["actual"], details["predicted"], index, name),
                                  key="residuals")
        residual_col.caption("Errors should scatter evenly around zero, with no pattern.")

if task.shows("importance"):  # not for an autoencoder: its anomaly view above is its explanation
    render_importance(trained, state.trained_frame())

st.subheader("Training curves")
history = trained.fit.history
loss_col, metric_col = st.columns(2)
loss_col.plotly_chart(charts.curve_figure(history, "loss"), key="final_loss")
metric_col.plotly_chart(charts.curve_figure(history, trained.fit.metric), key="final_metric")
if trained.fit.best_epoch:
    st.caption(f"The weights kept are from epoch {trained.fit.best_epoch}, the one with the lowest validation loss.")

with st.expander("All metrics, per split"):
    st.dataframe(pd.DataFrame(trained.metrics).T.round(4), width="stretch")

next_step("Try the model on new rows, or download it.", "pages/5_Predict.py", "Predict")
