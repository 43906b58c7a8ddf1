"""Train page tab "Inside the training": weights, gradients, dead ReLUs and the learning rate per epoch.

Draws the 'internals' probe's data (nnbuilder.views.internals) from the job snapshot, nothing else: no
model calls, so it is cheap inside the page's polling fragment. The figure builders are pure functions
(data in, a plotly figure out); `render` lays them out with stable keys so a redraw updates the same
charts. The warnings come from the engine's `gradient_flags`, already in the data.
"""

from __future__ import annotations

import math
from typing import Sequence

import plotly.graph_objects as go
import streamlit as st

from nnbuilder.train.probes import DEFAULT_BUDGET

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
HEIGHT = 300


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=height, margin=dict(l=55, r=20, t=45, b=40),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0.0))
    return fig


def _mode(epochs: Sequence) -> str:
    return "lines+markers" if len(epochs) < 30 else "lines"


def histogram_figure(views: dict, layer: dict, which: str) -> go.Figure:
    """Epoch on x, value on y, how many weights (or gradients) fall in each bin as colour.

    The colour is log-scaled: most values crowd the middle bins, and the tails are what changes."""
    counts = layer[f"{which}_hist"]
    epochs = [e for e, h in zip(views["epochs"], counts) if h is not None]
    counts = [h for h in counts if h is not None]
    span, bins = layer[f"{which}_range"] or 1.0, views["bins"]
    centres = [-span + (i + 0.5) * 2 * span / bins for i in range(bins)]
    z = [[math.log10(1 + col[b]) for col in counts] for b in range(bins)]  # (bins, epochs)
    raw = [[col[b] for col in counts] for b in range(bins)]
    word = "weights" if which == "weight" else "gradients"
    fig = go.Figure(go.Heatmap(
        x=epochs, y=centres, z=z, customdata=raw, colorscale="Viridis", showscale=False,
        hovertemplate=f"epoch %{{x}}<br>{word[:-1]} ≈ %{{y:.3g}}<br>%{{customdata}} {word}<extra></extra>",
    ))
    fig.update_yaxes(range=[-span, span], exponentformat="e" if span < 1e-2 else "none")
    return _layout(fig, f"{layer['name']}: {word} per epoch", "epoch", f"{word[:-1]} value")


def grad_norm_figure(views: dict) -> go.Figure:
    """Gradient L2 norm of every layer per epoch on a log axis: parallel lines far apart = vanishing."""
    fig = go.Figure()
    for i, layer in enumerate(l for l in views["layers"] if l["weights"]):
        norms = [g if g else None for g in layer["grad_norm"]]  # a log axis cannot show 0
        ratio = [f"{r:.2e}" if r is not None else "-" for r in layer["ratio"]]
        fig.add_trace(go.Scatter(
            x=views["epochs"], y=norms, name=layer["name"], mode=_mode(views["epochs"]), customdata=ratio,
            line=dict(color=PALETTE[i % len(PALETTE)], width=2),
            hovertemplate=f"{layer['name']}<br>epoch %{{x}}: gradient norm %{{y:.2e}}"
                          "<br>gradient / weight norm %{customdata}<extra></extra>"))
    fig.update_yaxes(type="log", exponentformat="power")
    return _layout(fig, "Gradient norm per layer", "epoch", "gradient L2 norm (log)")


def dead_figure(views: dict) -> go.Figure:
    """Share of ReLU units that output 0 for every probe row, per layer and epoch."""
    fig = go.Figure()
    for i, layer in enumerate(l for l in views["layers"] if l["relu_units"]):
        fig.add_trace(go.Scatter(
            x=views["epochs"], y=layer["dead"], name=f"{layer['name']} ({layer['relu_units']} units)",
            mode=_mode(views["epochs"]), line=dict(color=PALETTE[i % len(PALETTE)], width=2),
            hovertemplate=f"{layer['name']}<br>epoch %{{x}}: %{{y:.0%}} dead<extra></extra>"))
    fig.add_hline(y=0.5, line=dict(color="grey", dash="dot"))  # where the engine starts to warn
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return _layout(fig, "Dead ReLU units per layer", "epoch", "share of units dead")


def lr_figure(epochs: Sequence[int], rates: Sequence[float], schedule: str = "none") -> go.Figure:
    fig = go.Figure(go.Scatter(x=list(epochs), y=list(rates), mode=_mode(epochs),
                               line=dict(color="#1f77b4", width=3, shape="hv"),
                               hovertemplate="epoch %{x}: learning rate %{y:.3g}<extra></extra>"))
    fig.update_yaxes(type="log", exponentformat="power")
    return _layout(fig, f"Learning rate ({schedule} schedule)", "epoch", "learning rate (log)")


def learning_rates(snapshot, views: dict) -> tuple[list, list]:
    """(epochs, rates): every epoch from the run's history when it has them (the views skip epochs)."""
    history = [row for row in (getattr(snapshot, "history", None) or []) if row.get("lr") is not None]
    if history:
        return [row["epoch"] for row in history], [row["lr"] for row in history]
    return list(views.get("epochs", [])), list(views.get("lr", []))


def shows_learning_rate(rates: Sequence[float], schedule: str = "none") -> bool:
    """Only when it changes or a schedule is on: a flat line says nothing."""
    rates = [r for r in rates if r is not None and not math.isnan(r)]
    return bool(rates) and (schedule != "none" or len(set(rates)) > 1)


def render(snapshot) -> None:
    views = (snapshot.views or {}).get("internals")
    if not views or not views.get("epochs"):
        st.caption("Weights, gradients and dead units appear here after the first epoch (not for GANs).")
        return
    for flag in views.get("flags", []):
        st.warning(flag[0].upper() + flag[1:], icon=":material/warning:")
    shown = len(views["epochs"])
    st.caption(f"Measured between epochs on a fixed batch of training rows, with one extra backward pass that "
               f"does not change the training; {shown} epoch{'s' * (shown != 1)} shown (the views take at most "
               f"about {DEFAULT_BUDGET:.0%} of the training time, so on fast runs some epochs are skipped).")
    weighted = [layer for layer in views["layers"] if layer["weights"]]
    left, right = st.columns(2)
    if weighted:
        left.plotly_chart(grad_norm_figure(views), key="internals_grad_norm")
    if any(layer["relu_units"] for layer in views["layers"]):
        right.plotly_chart(dead_figure(views), key="internals_dead")
    else:
        right.caption("No ReLU layers, so no dead units to count (leaky_relu, elu, gelu... cannot die).")
    if weighted:
        names = [layer["name"] for layer in weighted]
        name = st.selectbox("Layer", names, key="internals_layer",
                            help="Histograms of one layer's weights and gradients over the epochs. The value "
                                 "range only grows, so the epochs are comparable; a gradient band shrinking to "
                                 "the middle line means the layer has stopped learning.")
        layer = weighted[names.index(name)] if name in names else weighted[0]
        w_col, g_col = st.columns(2)
        w_col.plotly_chart(histogram_figure(views, layer, "weight"), key="internals_weight_hist")
        g_col.plotly_chart(histogram_figure(views, layer, "grad"), key="internals_grad_hist")
    epochs, rates = learning_rates(snapshot, views)
    schedule = views.get("schedule", "none")
    if shows_learning_rate(rates, schedule):
        st.plotly_chart(lr_figure(epochs, rates, schedule), key="internals_lr")
