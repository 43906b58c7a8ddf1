"""The decision boundary: what the network predicts over a 2-D plane of its inputs, while it trains.

A `Plane` is a flat window into the encoded feature space: plane coordinates (n, 2) map to encoded
rows by `origin + coords @ axes`, and encoded rows map back by `(X - origin) @ project`. All three
planes are affine, so one small class covers them:
- "features": a table of exactly two numeric inputs; the axes are those columns in their raw units.
- "pair": two numeric columns the user picks, every other input held at its training median (numbers)
  or most common value (categories); raw units again. Also used for two numbers beside categories.
- "pca": any other table; the two first principal components of the continuous encoded features
  (embedded category codes are held at their most common code, since a code between two codes means nothing).

The "boundary" probe evaluates the model on a 60×60 grid of the plane in one batched forward pass and
returns small JSON-able data: axes, the probability (of the positive class, or of the predicted class when
there are more than two), the predicted class per cell, and a fixed subsample of training and test points.
Regression on a single numeric input gets the fitted curve in original target units instead.
The neuron maps (nnbuilder.views.neurons) reuse `feature_plane` and `grid_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.decomposition import PCA

from nnbuilder.data.features import fitted_parameters
from nnbuilder.errors import DataError
from nnbuilder.model.device import to_model_device
from nnbuilder.train.probes import register_probe
from nnbuilder.model.heads import find_head, probabilities, task_label

GRID = 60  # cells per axis of the boundary grid
CURVE_POINTS = 120  # points of a regression curve
MAX_TRAIN_POINTS = 400
MAX_TEST_POINTS = 200
MAX_PCA_ROWS = 5000  # rows the projection is fitted on; more changes nothing visible
MARGIN = 0.05  # share of the data's range added on each side, so edge points are not on the border
DIGITS = 4


def predicts(prepared) -> str:
    """What the run's head predicts: "classes", "number" (one target), "numbers" (several), or "" for a network
    that predicts no target (it rebuilds its input, or a task's own networks)."""
    head = find_head(prepared.task)
    if head is None or not head.has_network_head or head.rebuilds_input:
        return ""
    if head.is_classification:
        return "classes"
    return "number" if prepared.n_outputs == 1 else "numbers"


@dataclass(frozen=True)
class Plane:
    kind: str  # "features", "pair" or "pca"
    title: str
    labels: tuple[str, str]  # axis titles
    origin: np.ndarray  # (F,) encoded row at plane coordinates (0, 0)
    axes: np.ndarray  # (2, F) encoded change per unit of each plane coordinate
    project: np.ndarray  # (F, 2) encoded offset from the origin -> plane coordinates

    def to_features(self, coords: np.ndarray) -> np.ndarray:
        return (self.origin + coords @ self.axes).astype(np.float32)  # (n, F)

    def coords(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.origin) @ self.project  # (n, 2)


def _numeric(prepared) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(names, raw training medians, scaler means, scaler scales) of the numeric features, in matrix order."""
    numeric = fitted_parameters(prepared.preprocessor).get("numeric") if prepared.preprocessor is not None else None
    if numeric is None:
        return [], np.zeros(0), np.zeros(0), np.ones(0)
    return (numeric["columns"], np.asarray(numeric["median"], dtype=np.float64),
            np.asarray(numeric["mean"], dtype=np.float64), np.asarray(numeric["scale"], dtype=np.float64))


def numeric_features(prepared) -> list[str]:
    """The numeric inputs a user can put on the axes (numbers and date parts)."""
    return _numeric(prepared)[0] if getattr(prepared, "input_kind", "") == "tabular" else []


def _typical_row(prepared) -> np.ndarray:
    """Encoded row with numbers at their median and each category at its most common value (training rows)."""
    X = prepared.X_train
    row = np.median(X, axis=0).astype(np.float64) if len(X) else np.zeros(X.shape[1])
    start = len(_numeric(prepared)[0])
    one_hot = fitted_parameters(prepared.preprocessor).get("categorical", {"categories": []})
    for categories in one_hot["categories"]:  # one one-hot group per column: the most frequent category wins
        group = slice(start, start + len(categories))
        row[group] = 0.0
        row[start + int(np.argmax(X[:, group].mean(axis=0)))] = 1.0
        start += len(categories)
    for j in range(X.shape[1] - len(prepared.embedding_levels), X.shape[1]):  # codes: the commonest one
        values, counts = np.unique(X[:, j], return_counts=True)
        row[j] = values[np.argmax(counts)]
    return row


def pair_plane(prepared, x_feature: str, y_feature: str) -> Plane:
    """Two numeric inputs in raw units; every other input at its median or most common value."""
    names, medians, means, scales = _numeric(prepared)
    for name in (x_feature, y_feature):
        if name not in names:
            raise DataError(f"'{name}' is not a numeric input of this model; choose one of: {', '.join(names)}",
                            column=name)
    if x_feature == y_feature:
        raise DataError(f"both axes show '{x_feature}'; choose two different numeric inputs", column=x_feature)
    width = prepared.X_train.shape[1]
    origin = _typical_row(prepared)
    axes, project = np.zeros((2, width)), np.zeros((width, 2))
    for axis, name in enumerate((x_feature, y_feature)):
        j = names.index(name)  # numeric features come first in the matrix
        origin[j] = -means[j] / scales[j]  # encoded value of raw 0
        axes[axis, j], project[j, axis] = 1.0 / scales[j], scales[j]
    return Plane("pair", f"{x_feature} and {y_feature} (other inputs at their median)", (x_feature, y_feature),
                 origin, axes, project)


def pca_plane(prepared) -> Plane:
    """The two directions along which the encoded training rows vary most (embedded codes held constant)."""
    X = prepared.X_train
    continuous = X.shape[1] - len(prepared.embedding_levels)
    rows = X[:, :continuous]
    if len(rows) > MAX_PCA_ROWS:
        rows = rows[np.random.default_rng(0).choice(len(rows), MAX_PCA_ROWS, replace=False)]
    pca = PCA(n_components=2, random_state=0).fit(rows)
    origin = _typical_row(prepared)
    origin[:continuous] = pca.mean_
    axes = np.zeros((2, X.shape[1]))
    axes[:, :continuous] = pca.components_  # inverse_transform: mean + coords @ components (no whitening)
    share = pca.explained_variance_ratio_
    return Plane("pca", "PCA projection of all inputs", (f"PC1 ({share[0]:.0%} of variance)",
                                                         f"PC2 ({share[1]:.0%} of variance)"),
                 origin, axes, axes.T.copy())


def feature_plane(prepared) -> Plane | None:
    """The default plane: raw axes for exactly two numeric inputs (beside categories, held constant), else PCA."""
    if prepared.input_kind != "tabular" or prepared.preprocessor is None:
        return None
    names = _numeric(prepared)[0]
    if len(names) == 2:
        plane = pair_plane(prepared, *names)
        if prepared.X_train.shape[1] == 2:  # nothing held constant: say so plainly
            plane = Plane("features", f"{names[0]} and {names[1]}", plane.labels, plane.origin, plane.axes,
                          plane.project)
        return plane
    if prepared.X_train.shape[1] - len(prepared.embedding_levels) < 2:
        return None
    return pca_plane(prepared)


def grid_axes(plane: Plane, prepared, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n values per axis spanning the training points' range on the plane, with a margin."""
    points = plane.coords(prepared.X_train)
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((high - low) * MARGIN, 1e-3)
    return np.linspace(low[0] - pad[0], high[0] + pad[0], n), np.linspace(low[1] - pad[1], high[1] + pad[1], n)


def grid_rows(plane: Plane, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Encoded rows of the grid, row-major over y then x, so outputs reshape to (len(ys), len(xs))."""
    gx, gy = np.meshgrid(xs, ys)
    return plane.to_features(np.column_stack([gx.ravel(), gy.ravel()]))


@torch.no_grad()
def forward(model: torch.nn.Module, rows: np.ndarray) -> torch.Tensor:
    """The model's raw outputs for encoded rows, in one batch on the model's device, back on the CPU."""
    return model(to_model_device(rows, model)).float().cpu()


def _round(values) -> list:
    return np.round(np.asarray(values, dtype=np.float64), DIGITS).tolist()


def _sample(n: int, cap: int) -> np.ndarray:
    return np.sort(np.random.default_rng(0).choice(n, cap, replace=False)) if n > cap else np.arange(n)


def _points(plane: Plane, X: np.ndarray, y: np.ndarray, cap: int) -> dict:
    keep = _sample(len(X), cap)
    coords = plane.coords(X[keep]) if len(keep) else np.zeros((0, 2))
    return {"x": _round(coords[:, 0]), "y": _round(coords[:, 1]), "label": np.asarray(y)[keep].astype(int).tolist()}


def boundary_data(model: torch.nn.Module, prepared, plane: Plane, grid: int = GRID, points: dict | None = None,
                  axes: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """The model's classes and probabilities over the plane, with training and test points on it."""
    xs, ys = axes if axes is not None else grid_axes(plane, prepared, grid)
    probs = probabilities(prepared.task, forward(model, grid_rows(plane, xs, ys))).numpy()  # (grid², classes)
    binary = prepared.n_outputs == 1  # one logit: the probability of the second class
    shown = probs[:, 1] if binary else probs.max(axis=1)
    classes = [str(c) for c in prepared.classes]
    if points is None:
        points = {"train": _points(plane, prepared.X_train, prepared.y_train, MAX_TRAIN_POINTS),
                  "test": _points(plane, prepared.X_test, prepared.y_test, MAX_TEST_POINTS)}
    return {
        "kind": "classification", "plane": plane.kind, "title": plane.title,
        "x_label": plane.labels[0], "y_label": plane.labels[1], "x": _round(xs), "y": _round(ys),
        "classes": classes, "probability_of": classes[1] if binary else None,  # None: of the predicted class
        "probability": _round(shown.reshape(grid, grid)),
        "predicted": probs.argmax(axis=1).reshape(grid, grid).tolist(), **points,
    }


def pair_boundary(model: torch.nn.Module, prepared, x_feature: str, y_feature: str, grid: int = GRID) -> dict:
    """The boundary over two chosen numeric inputs, the others held at their median (after training)."""
    if predicts(prepared) != "classes":
        raise DataError(f"the decision boundary is drawn for classification; this model's task is {prepared.task}")
    model.eval()
    return boundary_data(model, prepared, pair_plane(prepared, x_feature, y_feature), grid)


def curve_data(model: torch.nn.Module, prepared, n: int = CURVE_POINTS) -> dict:
    """Regression on one numeric input: the fitted curve and the points, in raw and original target units."""
    plane = feature_plane_1d(prepared)
    xs = np.linspace(*_padded_range(plane.coords(prepared.X_train)[:, 0]), n)
    ys = prepared.untransform_target(forward(model, plane.to_features(np.column_stack([xs, xs]))).numpy())[:, 0]

    def points(X, y, cap):
        keep = _sample(len(X), cap)
        return {"x": _round(plane.coords(X[keep])[:, 0]),
                "y": _round(prepared.untransform_target(np.asarray(y)[keep])[:, 0])}

    return {"kind": "regression", "title": f"{prepared.target[0]} against {plane.labels[0]}",
            "x_label": plane.labels[0], "y_label": prepared.target[0], "x": _round(xs), "y": _round(ys),
            "train": points(prepared.X_train, prepared.y_train, MAX_TRAIN_POINTS),
            "test": points(prepared.X_test, prepared.y_test, MAX_TEST_POINTS)}


def feature_plane_1d(prepared) -> Plane:
    """A line along the single numeric input (both plane coordinates read it; only the first is used)."""
    names, _, means, scales = _numeric(prepared)
    origin = np.array([-means[0] / scales[0]])
    axes = np.array([[1.0 / scales[0]], [0.0]])
    project = np.array([[scales[0], scales[0]]])
    return Plane("features", names[0], (names[0], names[0]), origin, axes, project)


def _padded_range(values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    pad = max((high - low) * MARGIN, 1e-3)
    return low - pad, high + pad


def why_not(prepared) -> str | None:
    """Why the boundary view does not apply to this run, in plain words; None when it does."""
    if prepared is None:
        return "The decision boundary appears here while the model trains."
    answer = predicts(prepared)
    if prepared.input_kind != "tabular":
        series = getattr(prepared.sequence, "layout", None) == "time_series" and answer != "classes"
        what = f"a {task_label(prepared.task).lower()}" if series else f"{prepared.input_kind} input"
        return f"The decision boundary is drawn for classification on tables; this is {what}."
    if answer == "classes":
        return None if feature_plane(prepared) is not None else "The decision boundary needs two or more inputs."
    if answer == "number" and len(prepared.feature_names) == 1 and len(_numeric(prepared)[0]) == 1:
        return None
    if answer:
        return ("The decision boundary is drawn for classification; for regression the fitted curve is shown "
                "when the table has a single numeric input.")
    return f"The decision boundary is drawn for classification on tables; this is a {prepared.task} model."


class BoundaryProbe:
    name = "boundary"

    def __init__(self, prepared):
        self.prepared = prepared
        self.regression = predicts(prepared) == "number"
        self.plane = None if self.regression else feature_plane(prepared)
        if not self.regression:  # the points and the grid's extent are fixed: computed once
            self.points = {"train": _points(self.plane, prepared.X_train, prepared.y_train, MAX_TRAIN_POINTS),
                           "test": _points(self.plane, prepared.X_test, prepared.y_test, MAX_TEST_POINTS)}
            self.axes = grid_axes(self.plane, prepared, GRID)

    def collect(self, model, epoch, record) -> dict:
        if self.regression:
            data = curve_data(model, self.prepared)
        else:
            data = boundary_data(model, self.prepared, self.plane, GRID, self.points, self.axes)
        return {**data, "epoch": epoch}


def _boundary_probe(spec, prepared):
    return BoundaryProbe(prepared) if prepared is not None and why_not(prepared) is None else None


register_probe("boundary", _boundary_probe)
