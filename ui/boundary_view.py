"""Train page tabs "Decision boundary" and "Neurons": figures drawn from the probes' data, no model calls while polling.

The data comes from nnbuilder.views.boundary and nnbuilder.views.neurons through the job snapshot
(`snap.views`). The figure builders are plain functions (data in, `go.Figure` out) so tests can read the
traces. Only after the run has finished does the boundary tab call the engine, once per chosen pair of
axes, to redraw the boundary over two features with the others at their median (cached per run).
Colours follow TensorFlow Playground: orange for negative / the first class, blue for positive / the second.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from nnbuilder.errors import NNBuilderError
from nnbuilder.views.boundary import numeric_features, pair_boundary, why_not

ORANGE, BLUE = "#f59322", "#0877bd"
CLASS_COLOURS = [ORANGE, BLUE, "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                 "#17becf"]
DIVERGING = [[0.0, ORANGE], [0.5, "#f7f7f7"], [1.0, BLUE]]
EDGE_WIDTHS = (0.6, 1.5, 3.0, 5.0)  # |w| buckets: one trace per sign and bucket keeps the figure light
_PAIR_CACHE = "_boundary_pair_cache"
MAP_GAP = 3  # blank cells between neuron tiles
MAX_DRAWN = 16  # input neurons drawn (the probe caps the other layers the same way)


def class_colour(index: int) -> str:
    return CLASS_COLOURS[index % len(CLASS_COLOURS)]


def _tint(colour: str) -> list:
    return [[0.0, "rgba(255,255,255,0)"], [1.0, colour]]


def boundary_figure(view: dict) -> go.Figure:
    """Probability heat map over the plane with training points (circles) and test points (crosses)."""
    if view.get("kind") == "regression":
        return curve_figure(view)
    fig = go.Figure()
    classes = view["classes"]
    probability = np.array(view["probability"], dtype=float)
    if view.get("probability_of") is not None:  # binary: one diverging map of P(second class)
        fig.add_trace(go.Heatmap(x=view["x"], y=view["y"], z=probability, zmin=0, zmax=1, colorscale=DIVERGING,
                                 opacity=0.75, zsmooth="best", name="probability",
                                 colorbar=dict(title=f"P({view['probability_of']})", thickness=12, len=0.8),
                                 hovertemplate="%{x:.3g}, %{y:.3g}: P=%{z:.2f}<extra></extra>"))
    else:  # several classes: each class tints the cells it wins, darker where the model is surer
        predicted = np.array(view["predicted"])
        low = 1.0 / max(len(classes), 2)
        for k, name in enumerate(classes):
            z = np.where(predicted == k, probability, np.nan)
            fig.add_trace(go.Heatmap(x=view["x"], y=view["y"], z=z, zmin=low, zmax=1, colorscale=_tint(class_colour(k)),
                                     showscale=False, opacity=0.6, name=f"{name} region",
                                     hovertemplate=f"%{{x:.3g}}, %{{y:.3g}}: {name} (P=%{{z:.2f}})<extra></extra>"))
    if view.get("probability_of") is not None:  # the boundary itself: where the probability crosses 0.5
        fig.add_trace(go.Contour(x=view["x"], y=view["y"], z=probability, contours=dict(start=0.5, end=0.5,
                                 coloring="none"), line=dict(color="#333", width=2), showscale=False,
                                 hoverinfo="skip", name="boundary"))
    for split, symbol, size in (("train", "circle", 7), ("test", "x", 8)):
        points = view.get(split) or {}
        labels = np.array(points.get("label", []), dtype=int)
        for k, name in enumerate(classes):
            chosen = labels == k
            if not chosen.any():
                continue
            fig.add_trace(go.Scatter(
                x=np.array(points["x"])[chosen], y=np.array(points["y"])[chosen], mode="markers",
                name=f"{name} ({split})", legendgroup=name,
                marker=dict(symbol=symbol, size=size, color=class_colour(k), line=dict(color="white" if split == "train"
                                                                                       else "#222", width=1)),
            ))
    title = f"Decision boundary: {view['title']}" + (f" · epoch {view['epoch']}" if view.get("epoch") else "")
    fig.update_layout(title=title, xaxis_title=view["x_label"], yaxis_title=view["y_label"], height=480,
                      margin=dict(l=50, r=20, t=50, b=45), legend=dict(orientation="h", y=-0.18),
                      xaxis=dict(range=[view["x"][0], view["x"][-1]]), yaxis=dict(range=[view["y"][0], view["y"][-1]]))
    return fig


def curve_figure(view: dict) -> go.Figure:
    """Regression on one input: the fitted curve over the training and test points."""
    fig = go.Figure()
    for split, symbol, colour in (("train", "circle", BLUE), ("test", "x", ORANGE)):
        points = view.get(split) or {}
        fig.add_trace(go.Scatter(x=points.get("x", []), y=points.get("y", []), mode="markers", name=split,
                                 marker=dict(symbol=symbol, size=6, color=colour, opacity=0.7)))
    fig.add_trace(go.Scatter(x=view["x"], y=view["y"], mode="lines", name="model", line=dict(color="#222", width=3)))
    title = f"Fitted curve: {view['title']}" + (f" · epoch {view['epoch']}" if view.get("epoch") else "")
    fig.update_layout(title=title, xaxis_title=view["x_label"], yaxis_title=view["y_label"], height=440,
                      margin=dict(l=50, r=20, t=50, b=45))
    return fig


def _ys(count: int) -> list[float]:
    return [(count - 1) / 2 - i for i in range(count)]


def network_figure(view: dict) -> go.Figure:
    """Neurons in columns; edges blue for positive, orange for negative weights, wider for larger |w|."""
    layers = view["layers"]
    fig = go.Figure()
    columns = [_ys(min(layers[0]["units"], MAX_DRAWN))] + [_ys(len(layer["bias"])) for layer in layers[1:]]
    strongest = max([abs(e[2]) for layer in layers[1:] for e in layer["edges"]] or [1.0]) or 1.0
    buckets: dict[tuple[bool, int], tuple[list, list]] = {}
    for x, layer in enumerate(layers[1:], start=1):
        for to, source, w in layer["edges"]:
            bucket = min(int(abs(w) / strongest * len(EDGE_WIDTHS)), len(EDGE_WIDTHS) - 1)
            xs, ys = buckets.setdefault((w >= 0, bucket), ([], []))
            xs += [x - 1, x, None]
            ys += [columns[x - 1][source], columns[x][to], None]
    for (positive, bucket), (xs, ys) in sorted(buckets.items()):
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(color=BLUE if positive else ORANGE, width=EDGE_WIDTHS[bucket]),
                                 opacity=0.35 + 0.15 * bucket))
    top = max(len(c) for c in columns) / 2 + 0.5
    for x, (layer, ys) in enumerate(zip(layers, columns)):
        bias = layer.get("bias")
        labels = layer.get("labels") or []
        fig.add_trace(go.Scatter(
            x=[x] * len(ys), y=ys, mode="markers+text" if labels else "markers", showlegend=False,
            text=labels, textposition="middle left" if x == 0 else "middle right",
            marker=dict(size=16, color=bias if bias else "#bbb", colorscale=DIVERGING, cmid=0,
                        line=dict(color="#444", width=1)),
            hovertemplate=(f"{layer['name']}<br>bias %{{marker.color:.3f}}<extra></extra>" if bias
                           else f"{layer['name']}<extra></extra>")))
        more = layer["units"] - len(ys)
        noun = "input" if x == 0 else "unit"
        count = f"{layer['units']} {noun}{'s' * (layer['units'] != 1)}" + (f" ({more} not drawn)" if more > 0 else "")
        name, _, detail = layer["name"].partition(" · ")
        activation = f", {detail.rsplit(', ', 1)[-1]}" if detail else ""
        fig.add_annotation(x=x, y=top, text=f"<b>{name}</b><br>{count}{activation}", showarrow=False,
                           yanchor="bottom", font=dict(size=11))
    fig.update_xaxes(visible=False, range=[-1.0, len(layers) - 0.2])
    fig.update_yaxes(visible=False, range=[-top, top + 1.6])
    fig.update_layout(title="Weights: blue positive, orange negative, thicker = stronger" +
                      (f" · epoch {view['epoch']}" if view.get("epoch") else ""), height=460,
                      margin=dict(l=10, r=10, t=50, b=10), plot_bgcolor="rgba(0,0,0,0)")
    return fig


def tile_maps(layers: list) -> np.ndarray:
    """Every neuron map scaled to [-1, 1] by its own largest |value| (the shape matters, not the size), tiled
    into one image: a row of tiles per layer, NaN gaps between them, each tile flipped so its y grows upwards."""
    rows, cols = len(layers), max(len(layer) for layer in layers)
    size = len(layers[0][0])
    step = size + MAP_GAP
    image = np.full((rows * step - MAP_GAP, cols * step - MAP_GAP), np.nan)
    for r, layer in enumerate(layers):
        for c, grid in enumerate(layer):
            z = np.array(grid, dtype=float)
            span = float(np.abs(z).max()) or 1.0
            image[r * step:r * step + size, c * step:c * step + size] = z[::-1] / span
    return image.astype(np.float32)  # half the bytes on the wire; colours need no more


def neuron_maps_figure(view: dict) -> go.Figure:
    """One small heat map per hidden neuron over the input plane, a row per layer (TensorFlow Playground style).

    Drawn as a single heat map of tiles: one trace instead of one subplot per neuron keeps the polling page fast."""
    maps = view["maps"]
    names = [layer["name"].split(" · ")[0] for layer in view["layers"][1:-1]]
    image = tile_maps(maps["layers"])
    step = len(maps["layers"][0][0]) + MAP_GAP
    fig = go.Figure(go.Heatmap(z=image, zmin=-1, zmax=1, colorscale=DIVERGING, showscale=False, hoverinfo="skip",
                               name="neuron maps"))
    for r, name in enumerate(names[:len(maps["layers"])]):
        fig.add_annotation(x=-1, y=r * step + step / 2 - 1, text=f"<b>{name}</b>", showarrow=False, xanchor="right",
                           font=dict(size=11))
    fig.update_xaxes(visible=False, range=[-step * 1.6, image.shape[1]])
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    tile_px = max(40, min(120, 800 // (image.shape[1] // step + 2)))  # about what one tile gets on a wide page
    title = f"What each hidden neuron responds to over {maps['x_label']} (→) × {maps['y_label']} (↑)"
    fig.update_layout(title=title, height=80 + len(maps["layers"]) * tile_px, margin=dict(l=10, r=10, t=50, b=10),
                      plot_bgcolor="rgba(0,0,0,0)")
    return fig


def _pair_view(snap, x_feature: str, y_feature: str) -> dict:
    """The boundary over two chosen features from the finished model, computed once per run and pair."""
    cache = st.session_state.setdefault(_PAIR_CACHE, {})
    key = (snap.id, x_feature, y_feature)
    if key not in cache:
        if len(cache) >= 8:
            cache.clear()
        trained = snap.result
        cache[key] = pair_boundary(trained.model, trained.prepared, x_feature, y_feature)
    return cache[key]


def _reason(snap) -> str:
    """Why there is no boundary for this run."""
    prepared = getattr(snap.result, "prepared", None)
    if prepared is not None:
        return why_not(prepared) or "The decision boundary was not collected for this run."
    kind = ((snap.context or {}).get("spec") or {}).get("input", {}).get("kind", "tabular")
    if not snap.views:
        return "The decision boundary appears here after the first epoch."
    if kind != "tabular":
        return f"The decision boundary is drawn for classification on tables; this run reads {kind} input."
    return "The decision boundary is drawn for classification on tables (or regression on one numeric input)."


def render_boundary(snap) -> None:
    view = (snap.views or {}).get("boundary")
    if view is None:
        st.caption(_reason(snap))
        return
    prepared = getattr(snap.result, "prepared", None)
    choices = numeric_features(prepared) if prepared is not None and view.get("kind") == "classification" else []
    if len(choices) >= 3:  # with two numeric inputs the plane already shows them
        st.markdown("**Features on the axes** · pick two; every other input is held at its median")
        left, right = st.columns(2)
        x_feature = left.selectbox("Horizontal axis", choices, index=None, placeholder=view["x_label"],
                                   key=f"boundary_x_{snap.id}")
        y_feature = right.selectbox("Vertical axis", choices, index=None, placeholder=view["y_label"],
                                    key=f"boundary_y_{snap.id}")
        if x_feature and y_feature:
            try:
                view = _pair_view(snap, x_feature, y_feature)
            except NNBuilderError as exc:
                st.warning(str(exc), icon=":material/info:")
    st.plotly_chart(boundary_figure(view), key="boundary_chart")
    if view.get("kind") == "classification":
        st.caption("Background: what the network predicts at each point of the plane (stronger colour = more sure). "
                   "Circles are training rows, crosses test rows, coloured by their true class. "
                   + ("The plane is the two directions in which the rows differ most; points are projected onto it."
                      if view["plane"] == "pca" else ""))


def render_neurons(snap) -> None:
    view = (snap.views or {}).get("neurons")
    if view is None:
        st.caption("The neuron view draws stacks of dense layers on tables; this network has other layers."
                   if snap.views else "Each neuron's view appears here after the first epoch.")
        return
    st.plotly_chart(network_figure(view), key="neurons_diagram")
    st.caption("Each line is a weight (blue positive, orange negative, thicker = larger); each circle's colour is "
               "its neuron's bias. Big layers show their first 16 neurons and only the strongest lines.")
    if "maps" in view:
        st.plotly_chart(neuron_maps_figure(view), key="neurons_maps")
        st.caption("Each square is one hidden neuron: blue where it outputs a positive value, orange where "
                   "negative. Deeper layers combine the simple shapes of the first layer into the boundary.")
    else:
        st.caption("Neuron maps over the input plane are drawn when the table has exactly two inputs.")
