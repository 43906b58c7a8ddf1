"""Plotly figures for the pages. Pure functions: plain data in, a `go.Figure` out.

Nothing here imports Streamlit, so every chart is unit-tested without a
browser. Colours are fixed (train blue, validation orange) so the curves read
the same on every page and on a projector.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

TRAIN_COLOUR = "#1f77b4"
VAL_COLOUR = "#ff7f0e"
NEURON_TYPES = ("input", "dense", "latent", "output")  # rows drawn as columns of neurons; the rest are bands
MAX_DRAWN_UNITS = 10
METRIC_LABELS = {"accuracy": "Accuracy", "r2": "R²", "reconstruction_r2": "Reconstruction R²", "loss": "Loss",
                 "discriminator_accuracy": "Discriminator accuracy"}
GAN_CURVE_NAMES = ("generator", "discriminator")  # a GAN's train_loss / val_loss (nnbuilder.tasks.gan.fit)
ANOMALY_COLOUR = "#d62728"
NO_LABEL = "(no label)"


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        title=title, xaxis_title=x, yaxis_title=y, height=height, margin=dict(l=50, r=20, t=50, b=45),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
    )
    return fig


def curve_figure(history: Sequence[dict], key: str = "loss",
                 names: tuple[str, str] = ("training", "validation"),
                 previous: Sequence[dict] | None = None, previous_label: str = "previous run") -> go.Figure:
    """Train and validation `key` ("loss", "accuracy", "r2") per epoch; `names` label the two lines
    (a GAN's losses are the generator's and the discriminator's: GAN_CURVE_NAMES). `previous` is an earlier
    run's history, drawn dashed and thinner in the same colours under `previous_label` ("previous: lr 0.1"),
    so the effect of one changed knob shows at a glance."""
    fig = go.Figure()
    epochs = [row.get("epoch") for row in history]
    for split, colour, name in (("train", TRAIN_COLOUR, names[0]), ("val", VAL_COLOUR, names[1])):
        values = [row.get(f"{split}_{key}") for row in history]
        if any(v is not None for v in values):
            fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers" if len(epochs) < 40 else "lines",
                                     name=name, line=dict(color=colour, width=3)))
    for split, colour, name in (("train", TRAIN_COLOUR, names[0]), ("val", VAL_COLOUR, names[1])):
        values = [row.get(f"{split}_{key}") for row in previous or ()]
        if any(v is not None for v in values):  # drawn after today's lines: the legend reads current first
            fig.add_trace(go.Scatter(x=[row.get("epoch") for row in previous], y=values, mode="lines",
                                     name=f"{previous_label} ({name})", opacity=0.7, legendgroup="previous",
                                     line=dict(color=colour, width=2, dash="dash")))
    label = METRIC_LABELS.get(key, key)
    return _layout(fig, f"{label} per epoch", "epoch", label)


def confusion_matrix_figure(classes: Sequence[str], matrix: Sequence[Sequence[int]]) -> go.Figure:
    """Rows are the true class, columns the predicted one; each cell shows its count."""
    labels = [str(c) for c in classes]
    fig = go.Figure(go.Heatmap(
        z=matrix, x=labels, y=labels, colorscale="Blues", showscale=False,
        text=[[str(v) for v in row] for row in matrix], texttemplate="%{text}", textfont=dict(size=16),
        hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return _layout(fig, "Confusion matrix (test rows)", "predicted class", "true class", height=420)


def roc_figure(curves: Sequence[dict]) -> go.Figure:
    """One line per curve dict {class, fpr, tpr, auc}, plus the chance diagonal."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                             line=dict(color="grey", dash="dash")))
    for curve in curves:
        fig.add_trace(go.Scatter(x=curve["fpr"], y=curve["tpr"], mode="lines", line=dict(width=3),
                                 name=f"{curve['class']} (AUC {curve['auc']:.3f})"))
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return _layout(fig, "ROC curve (test rows)", "false positive rate", "true positive rate", height=420)


def _column(values: Sequence, index: int) -> list[float]:
    """Regression details hold rows of targets; pick one target (plain numbers pass through)."""
    return [v[index] if isinstance(v, (list, tuple)) else v for v in values]


def predicted_vs_actual_figure(actual: Sequence, predicted: Sequence, target: int = 0, name: str = "") -> go.Figure:
    a, p = _column(actual, target), _column(predicted, target)
    lo, hi = (min(a + p), max(a + p)) if a else (0.0, 1.0)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect prediction",
                             line=dict(color="grey", dash="dash")))
    fig.add_trace(go.Scatter(x=a, y=p, mode="markers", name="test rows", marker=dict(color=TRAIN_COLOUR, opacity=0.7)))
    suffix = f" ({name})" if name else ""
    return _layout(fig, f"Predicted vs actual{suffix}", "actual", "predicted", height=420)


def residuals_figure(actual: Sequence, predicted: Sequence, target: int = 0, name: str = "") -> go.Figure:
    a, p = _column(actual, target), _column(predicted, target)
    residuals = [x - y for x, y in zip(a, p)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=p, y=residuals, mode="markers", name="test rows",
                             marker=dict(color=VAL_COLOUR, opacity=0.7)))
    fig.add_hline(y=0, line=dict(color="grey", dash="dash"))
    suffix = f" ({name})" if name else ""
    return _layout(fig, f"Residuals{suffix}: actual − predicted", "predicted", "residual", height=420)


def forecast_figure(details: dict, target: int = 0, name: str = "") -> go.Figure:
    """Forecast vs actual over time (a forecast's evaluation details), with the last-value baseline dotted."""
    times = list(details.get("time") or range(len(details.get("actual", []))))
    fig = go.Figure()
    for key, label, line in (("actual", "actual", dict(color="black", width=1.5)),
                             ("predicted", "forecast", dict(color=TRAIN_COLOUR, width=2)),
                             ("baseline", "last value (baseline)", dict(color=VAL_COLOUR, width=1, dash="dot"))):
        if details.get(key):
            fig.add_trace(go.Scatter(x=times, y=_column(details[key], target), mode="lines", name=label, line=line))
    suffix = f" ({name})" if name else ""
    return _layout(fig, f"Forecast vs actual{suffix}", "time", "value", height=420)


def probability_figure(probabilities: dict[str, float]) -> go.Figure:
    """Horizontal bars, one per class, for a single prediction."""
    names = [str(k) for k in probabilities]
    values = [float(v) for v in probabilities.values()]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=TRAIN_COLOUR,
                           text=[f"{v:.1%}" for v in values], textposition="auto"))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_yaxes(type="category", autorange="reversed")
    return _layout(fig, "Class probabilities", "probability", "class", height=max(220, 60 + 40 * len(names)))


def _units(row: dict) -> int:
    shape = row.get("output_shape") or (1,)
    return int(math.prod(shape))


def _neuron_ys(count: int) -> list[float]:
    """Vertical positions of the drawn neurons, centred on 0 (at most MAX_DRAWN_UNITS)."""
    drawn = min(count, MAX_DRAWN_UNITS)
    return [(drawn - 1) / 2 - i for i in range(drawn)]


def architecture_figure(rows: Sequence[dict]) -> go.Figure:
    """Input → hidden layers → output, from the layer table rows (dicts of LayerRow).

    Input, dense and output rows are columns of neurons (at most ten drawn, with a
    "⋮" when there are more) joined by their connections; shape-keeping layers
    (dropout, batch norm, activation) are shaded bands between them.
    """
    fig = go.Figure()
    columns, previous = [], None
    for x, row in enumerate(rows):
        is_neurons = row.get("type") in NEURON_TYPES
        ys = _neuron_ys(_units(row)) if is_neurons else []
        columns.append((x, row, is_neurons, ys))
        if is_neurons and previous is not None:
            px_, pys = previous
            line_x, line_y = [], []
            for y0 in pys:
                for y1 in ys:
                    line_x += [px_, x, None]
                    line_y += [y0, y1, None]
            fig.add_trace(go.Scatter(x=line_x, y=line_y, mode="lines", hoverinfo="skip", showlegend=False,
                                     line=dict(color="rgba(120,120,120,0.25)", width=1)))
        if is_neurons:
            previous = (x, ys)
    top = MAX_DRAWN_UNITS / 2 + 0.5
    stagger = len(rows) > 6  # many layers: alternate label heights so neighbours do not overlap
    for x, row, is_neurons, ys in columns:
        detail = str(row.get("detail", "")).replace(", ", "<br>").replace(" (", "<br>(").replace(": ", ":<br>")
        label = f"<b>{row.get('name')}</b><br>{detail}"
        shape = tuple(row.get("output_shape") or ())
        if len(shape) > 1 and row.get("type") != "input":  # images and sequences: their shape says more than a neuron column
            label += f"<br>→ {'×'.join(map(str, shape))}"
        if row.get("parameters"):
            label += f"<br>{row['parameters']:,} params"
        y = -top - 0.3 - (2.6 if stagger and x % 2 else 0)
        fig.add_annotation(x=x, y=y, text=label, showarrow=False, yanchor="top", font=dict(size=11))
        if not is_neurons:
            fig.add_shape(type="rect", x0=x - 0.3, x1=x + 0.3, y0=-top + 0.3, y1=top - 0.3,
                          fillcolor="rgba(255,127,14,0.18)", line=dict(color=VAL_COLOUR, width=1))
            continue
        colour = {"input": "#2ca02c", "latent": "#9467bd", "output": "#d62728"}.get(row.get("type"), TRAIN_COLOUR)
        units = _units(row)
        fig.add_trace(go.Scatter(
            x=[x] * len(ys), y=ys, mode="markers", showlegend=False,
            marker=dict(size=18, color=colour, line=dict(color="white", width=1)),
            hovertemplate=f"{row.get('name')}: {units:,} units<extra></extra>",
        ))
        if units > MAX_DRAWN_UNITS:
            fig.add_annotation(x=x, y=ys[-1] - 0.9, text=f"⋮ {units:,}", showarrow=False, font=dict(size=14))
    fig.update_xaxes(visible=False, range=[-0.6, max(len(rows) - 0.4, 1)])
    fig.update_yaxes(visible=False, range=[-top - (6.4 if stagger else 3.8), top])
    fig.update_layout(height=520 if stagger else 480, margin=dict(l=10, r=10, t=40, b=10), title="Architecture",
                      plot_bgcolor="rgba(0,0,0,0)")
    return fig


def image_grid_figure(images, labels: Sequence, columns: int = 6) -> go.Figure:
    """Sample images with their labels. `images` is (n, C, H, W) with values in [0, 1]; C is 1 or 3."""
    images = np.clip(np.asarray(images, dtype=np.float64), 0.0, 1.0)
    n = len(images)
    columns = max(1, min(columns, n))
    rows = max(1, math.ceil(n / columns))
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[str(label) for label in labels][:n],
                        horizontal_spacing=0.02, vertical_spacing=0.12 if rows > 1 else 0.05)
    for k, image in enumerate(images):
        rgb = np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image  # (3, H, W)
        # dark strokes on white, like ink on paper, whatever the data's convention
        pixels = np.round(255 * (1 - rgb if image.shape[0] == 1 else rgb)).astype(np.uint8).transpose(1, 2, 0)
        fig.add_trace(go.Image(z=pixels, hoverinfo="skip"), row=k // columns + 1, col=k % columns + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=40 + 150 * rows, margin=dict(l=10, r=10, t=40, b=10), title="Sample images and labels")
    return fig


def history_frame_columns(metric: str | None) -> list[str]:
    """Columns of the per-epoch table, in reading order."""
    columns = ["epoch", "train_loss", "val_loss"]
    if metric:
        columns += [f"train_{metric}", f"val_{metric}"]
    return columns + ["lr", "seconds"]


def latent_figure(latent: Sequence[Sequence[float]], labels: Sequence | None = None,
                  anomaly_class: str | None = None) -> go.Figure:
    """The autoencoder's 2-D latent space, one point per row, one colour per label (the anomaly class red)."""
    points = np.asarray(latent, dtype=float).reshape(-1, 2)
    groups = [NO_LABEL] * len(points) if labels is None else [NO_LABEL if v is None else str(v) for v in labels]
    fig = go.Figure()
    names = sorted(set(groups), key=lambda g: (g == str(anomaly_class), g == NO_LABEL, g))  # anomalies on top
    for name in names:
        mask = np.array([g == name for g in groups], dtype=bool)
        marker = dict(size=7, opacity=0.75)
        if name == str(anomaly_class):
            marker.update(color=ANOMALY_COLOUR, size=9, symbol="x")
        fig.add_trace(go.Scatter(x=points[mask, 0], y=points[mask, 1], mode="markers", marker=marker,
                                 name=name if labels is not None else "rows"))
    return _layout(fig, "Latent space (each row squeezed to 2 numbers)", "latent 1", "latent 2", height=420)


def error_histogram_figure(errors: Sequence[float], threshold: float) -> go.Figure:
    """Reconstruction error per row as a histogram, with the anomaly threshold as a red line."""
    fig = go.Figure(go.Histogram(x=list(errors), nbinsx=60, marker_color=TRAIN_COLOUR, name="rows"))
    fig.add_vline(x=threshold, line=dict(color=ANOMALY_COLOUR, width=3, dash="dash"),
                  annotation_text="threshold", annotation_position="top right")
    fig.update_yaxes(type="log", dtick=1)  # the few large errors stay visible next to the many small ones
    return _layout(fig, "Reconstruction error per row", "reconstruction error (mean squared, standardised units)",
                   "rows (log scale)")


def real_vs_generated_figure(real: Sequence, generated: Sequence, column: str, numeric: bool) -> go.Figure:
    """One column's distribution, real next to generated: overlaid histograms (shares of rows) for numbers,
    grouped bars of each category's share otherwise."""
    fig = go.Figure()
    if numeric:
        for values, name, colour in ((real, "real", TRAIN_COLOUR), (generated, "generated", VAL_COLOUR)):
            fig.add_trace(go.Histogram(x=[v for v in values if v is not None], name=name, opacity=0.6,
                                       histnorm="probability", marker_color=colour, nbinsx=30))
        fig.update_layout(barmode="overlay")
        return _layout(fig, f"{column}: real vs generated", column, "share of rows", height=300)
    labels = sorted({str(v) for v in [*real, *generated]})
    for values, name, colour in ((real, "real", TRAIN_COLOUR), (generated, "generated", VAL_COLOUR)):
        counts = [sum(str(v) == label for v in values) / max(len(values), 1) for label in labels]
        fig.add_trace(go.Bar(x=labels, y=counts, name=name, marker_color=colour))
    fig.update_layout(barmode="group")
    return _layout(fig, f"{column}: real vs generated", column, "share of rows", height=300)
