"""Decision boundary and neuron views, checked against the model's own predictions and hand-written forwards."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.decomposition import PCA

from nnbuilder.data.pipeline import load_table
from nnbuilder.tasks import prepare
from nnbuilder.errors import DataError
from nnbuilder.train.probes import make_probes
from nnbuilder.spec.network import parse_spec
from nnbuilder.model.heads import probabilities
from nnbuilder.views.boundary import (feature_plane, forward, numeric_features, pair_boundary, pair_plane, pca_plane,
                                      why_not)
from nnbuilder.runs.workflow import train_from_spec

TANH_STACK = [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dropout", "rate": 0.1},
              {"type": "dense", "units": 8, "activation": "tanh"}]


def _spec(target, epochs, layers=TANH_STACK, lr=0.03, **extra):
    return parse_spec({"data": {"target": target}, "layers": layers,
                       "training": {"epochs": epochs, "learning_rate": lr, "early_stopping_patience": 0, "seed": 0},
                       **extra})


@pytest.fixture(scope="module")
def moons():
    df, _ = load_table("sample:moons")
    return train_from_spec(df, _spec("label", 20), views=["boundary", "neurons"])


@pytest.fixture(scope="module")
def iris():
    df, _ = load_table("sample:iris")
    return train_from_spec(df, _spec("species", 15), views=["boundary", "neurons"])


def _raw(prepared, X):
    """Encoded numeric columns back to raw units with the fitted scaler (the oracle for plane coordinates)."""
    return prepared.preprocessor.named_transformers_["numeric"].named_steps["scale"].inverse_transform(X)


def _predict(model, X):
    with torch.no_grad():
        return model(torch.from_numpy(X)).float()


def test_moons_grid_classifies_the_training_points_like_the_model(moons):
    view, prepared = moons.fit.views["boundary"], moons.prepared
    assert view["plane"] == "features" and (view["x_label"], view["y_label"]) == ("x1", "x2")
    assert view["epoch"] == 20 and np.shape(view["predicted"]) == (60, 60) and view["probability_of"] == "1"
    points = _raw(prepared, prepared.X_train)
    xs, ys = np.array(view["x"]), np.array(view["y"])
    assert xs.min() < points[:, 0].min() and points[:, 0].max() < xs.max()  # the grid covers every point
    cell_x = np.abs(points[:, 0:1] - xs).argmin(axis=1)
    cell_y = np.abs(points[:, 1:2] - ys).argmin(axis=1)
    grid_class = np.array(view["predicted"])[cell_y, cell_x]
    model_class = probabilities("binary", _predict(moons.model, prepared.X_train)).argmax(1).numpy()
    assert (grid_class == model_class).mean() >= 0.95
    model_accuracy = moons.metrics["train"]["accuracy"]
    assert model_accuracy > 0.8  # a model worth drawing
    assert abs((grid_class == prepared.y_train).mean() - model_accuracy) <= 0.05
    # the probability drawn is the positive class's, and the class is where it passes 0.5
    probability = np.array(view["probability"])
    assert ((probability >= 0.5) == (np.array(view["predicted"]) == 1)).mean() > 0.99


def test_points_are_a_fixed_subsample_in_raw_units(moons):
    view, prepared = moons.fit.views["boundary"], moons.prepared
    train = np.column_stack([view["train"]["x"], view["train"]["y"]])
    assert len(train) == len(prepared.X_train) == 350 and len(view["test"]["x"]) == len(prepared.X_test)
    np.testing.assert_allclose(train, _raw(prepared, prepared.X_train), atol=1e-4)
    assert view["train"]["label"] == prepared.y_train.tolist()


def test_pca_plane_round_trips_the_grid(iris):
    prepared = iris.prepared
    plane = pca_plane(prepared)
    oracle = PCA(n_components=2, random_state=0).fit(prepared.X_train)
    coords = plane.coords(prepared.X_train)
    expected = oracle.transform(prepared.X_train)
    np.testing.assert_allclose(np.abs(coords), np.abs(expected), atol=1e-4)  # a component's sign is arbitrary
    grid = np.array([[-2.0, 0.5], [0.0, 0.0], [3.0, -1.0]])
    rows = plane.to_features(grid)
    np.testing.assert_allclose(plane.coords(rows), grid, atol=1e-5)
    np.testing.assert_allclose(rows, oracle.inverse_transform(grid * np.sign(coords[0] * expected[0])), atol=1e-4)


def test_iris_boundary_is_the_softmax_over_the_pca_grid(iris):
    view, prepared = iris.fit.views["boundary"], iris.prepared
    assert view["plane"] == "pca" and view["title"] == "PCA projection of all inputs"
    assert view["x_label"].startswith("PC1 (") and view["probability_of"] is None
    assert view["classes"] == ["setosa", "versicolor", "virginica"]
    plane = feature_plane(prepared)
    gx, gy = np.meshgrid(view["x"], view["y"])
    rows = plane.to_features(np.column_stack([gx.ravel(), gy.ravel()]))
    probs = probabilities("multiclass", _predict(iris.model, rows))
    np.testing.assert_allclose(np.array(view["probability"]).ravel(), probs.max(1).values.numpy(), atol=1e-3)
    assert np.array_equal(np.array(view["predicted"]).ravel(), probs.argmax(1).numpy())


def test_two_chosen_features_with_the_others_at_their_median(iris):
    prepared, model = iris.prepared, iris.model
    assert numeric_features(prepared) == ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
    view = pair_boundary(model, prepared, "petal_length_cm", "sepal_width_cm", grid=7)
    assert view["plane"] == "pair" and (view["x_label"], view["y_label"]) == ("petal_length_cm", "sepal_width_cm")
    medians = np.median(_raw(prepared, prepared.X_train), axis=0)  # raw training medians, by hand
    rows = [{"sepal_length_cm": medians[0], "sepal_width_cm": y, "petal_length_cm": x, "petal_width_cm": medians[3]}
            for y in view["y"] for x in view["x"]]
    encoded = prepared.preprocessing.transform(pd.DataFrame(rows))
    probs = probabilities("multiclass", _predict(model, encoded))
    np.testing.assert_allclose(np.array(view["probability"]).ravel(), probs.max(1).values.numpy(), atol=1e-3)
    assert np.array_equal(np.array(view["predicted"]).ravel(), probs.argmax(1).numpy())
    petal = _raw(prepared, prepared.X_train)[:, 2]
    assert view["x"][0] < petal.min() and petal.max() < view["x"][-1]


@pytest.mark.parametrize("axes, message", [(("petal_length_cm", "petal_length_cm"), "two different"),
                                           (("petal_length_cm", "species"), "not a numeric input"),
                                           (("nope", "sepal_width_cm"), "choose one of: sepal_length_cm")])
def test_bad_axes_are_explained(iris, axes, message):
    with pytest.raises(DataError, match=message):
        pair_boundary(iris.model, iris.prepared, *axes)


def test_categories_are_held_at_their_commonest_value():
    df, _ = load_table("sample:customers")
    prepared = prepare(df, _spec("churned", 1).data, seed=0)
    names = numeric_features(prepared)
    plane = feature_plane(prepared)
    assert plane.kind == "pca"
    for x_feature, y_feature in [names[:2], names[-2:]]:
        pair = pair_plane(prepared, x_feature, y_feature)
        for kind, transformer, columns in prepared.preprocessor.transformers_:
            if kind != "categorical":
                continue
            start = len(names)
            for column, categories in zip(columns, transformer.named_steps["onehot"].categories_):
                group = pair.origin[start:start + len(categories)]
                counts = prepared.X_train[:, start:start + len(categories)].sum(axis=0)
                assert group.sum() == 1 and group.argmax() == counts.argmax(), column
                start += len(categories)


def test_regression_on_one_feature_draws_the_fitted_curve():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 300)
    df = pd.DataFrame({"x": x, "y": 10 + 5 * np.sin(x) + rng.normal(0, 0.3, 300)})
    trained = train_from_spec(df, _spec("y", 10, lr=0.02), views=["boundary"])
    view, prepared = trained.fit.views["boundary"], trained.prepared
    assert view["kind"] == "regression" and (view["x_label"], view["y_label"]) == ("x", "y")
    scaler = prepared.preprocessor.named_transformers_["numeric"].named_steps["scale"]
    xs = np.array(view["x"])
    encoded = ((xs - scaler.mean_[0]) / scaler.scale_[0]).astype(np.float32)[:, None]
    expected = _predict(trained.model, encoded).numpy()[:, 0] * prepared.target_std[0] + prepared.target_mean[0]
    np.testing.assert_allclose(view["y"], expected, atol=1e-3)
    points = np.column_stack([view["train"]["x"], view["train"]["y"]])  # raw rows of the table, original units
    gaps = np.abs(points[:, None, :] - df[["x", "y"]].to_numpy()[None]).max(axis=2).min(axis=1)
    assert len(points) == len(prepared.X_train) and gaps.max() < 1e-3


def test_neuron_maps_equal_a_hand_written_forward(moons):
    maps, prepared = moons.fit.views["neurons"]["maps"], moons.prepared
    scaler = prepared.preprocessor.named_transformers_["numeric"].named_steps["scale"]
    first, second = moons.model[0][0], moons.model[2][0]  # dense = Sequential(Linear, Tanh); [1] is dropout
    assert len(maps["layers"]) == 2 and np.shape(maps["layers"][0]) == (8, 24, 24)
    for i, j in [(0, 0), (5, 17), (23, 23), (12, 3)]:  # (row = y index, column = x index)
        raw = np.array([maps["x"][j], maps["y"][i]])
        s = torch.tensor((raw - scaler.mean_) / scaler.scale_, dtype=torch.float32)
        h1 = torch.tanh(first.weight.detach() @ s + first.bias.detach())
        h2 = torch.tanh(second.weight.detach() @ h1 + second.bias.detach())
        np.testing.assert_allclose([m[i][j] for m in maps["layers"][0]], h1.numpy(), atol=2e-3)
        np.testing.assert_allclose([m[i][j] for m in maps["layers"][1]], h2.numpy(), atol=2e-3)


def test_weight_edges_equal_the_model_weights(moons):
    layers = moons.fit.views["neurons"]["layers"]
    assert [layer["name"] for layer in layers] == ["Input", "1. dense · 8 units, tanh", "3. dense · 8 units, tanh",
                                                   "Output"]
    assert layers[0]["labels"] == ["x1", "x2"] and [layer["units"] for layer in layers] == [2, 8, 8, 1]
    linears = [moons.model[0][0], moons.model[2][0], moons.model[3]]
    for layer, linear in zip(layers[1:], linears):
        weight = linear.weight.detach()
        assert len(layer["edges"]) == weight.numel()  # small layers keep every edge
        for to, source, w in layer["edges"]:
            assert w == pytest.approx(float(weight[to, source]), abs=1e-4)
        strengths = [abs(w) for _, _, w in layer["edges"]]
        assert strengths == sorted(strengths, reverse=True)
        np.testing.assert_allclose(layer["bias"], linear.bias.detach().numpy(), atol=1e-4)


def test_wide_tables_stay_small_and_keep_the_strongest_edges():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 50))
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(50)]).assign(label=np.where(X[:, 0] + X[:, 1] > 0, "a", "b"))
    trained = train_from_spec(df, _spec("label", 2, layers=[{"type": "dense", "units": 64}]), views=["all"])
    views = trained.fit.views
    assert views["boundary"]["plane"] == "pca" and "maps" not in views["neurons"]  # maps need two inputs
    assert len(json.dumps(views["boundary"])) < 200_000 and len(json.dumps(views["neurons"])) < 200_000
    hidden = views["neurons"]["layers"][1]
    assert hidden["units"] == 64 and len(hidden["edges"]) == 16 * 16 and len(hidden["bias"]) == 16
    weight = trained.model[0][0].weight.detach()[:16, :16].abs().flatten()
    assert abs(hidden["edges"][0][2]) == pytest.approx(float(weight.max()), abs=1e-4)


def test_views_cost_little():
    import time
    df, _ = load_table("sample:moons")
    trained = train_from_spec(df, _spec("label", 1))
    probes = make_probes(["boundary", "neurons"], trained.spec, trained.prepared)
    start = time.perf_counter()
    for probe in probes:
        json.dumps(probe.collect(trained.model.eval(), 1, {}))
    assert time.perf_counter() - start < 0.25  # one grid forward, not one per cell


NOT_APPLICABLE = [
    ("sales", {"data": {"target": "sales"}, "input": {"kind": "sequence", "layout": "time_series",
                                                      "time_column": "date", "window": 14},
               "layers": [{"type": "lstm", "units": 8}]}, "this is a forecast"),
    ("digits", {"data": {"target": "digit"}, "input": {"kind": "image"},
                "layers": [{"type": "conv2d", "filters": 4}, {"type": "flatten"}]}, "this is image input"),
    ("transactions", {"data": {"target": "is_anomaly", "task": "autoencoder"}, "layers": TANH_STACK,
                      "autoencoder": {"latent_dim": 2}}, "autoencoder model"),
    ("iris", {"data": {"target": None, "task": "gan"}, "layers": TANH_STACK}, "gan model"),
    ("diabetes", {"data": {"target": "progression"}, "layers": TANH_STACK}, "single numeric input"),
]


@pytest.mark.parametrize("dataset, spec, reason", NOT_APPLICABLE, ids=[n for n, _, _ in NOT_APPLICABLE])
def test_boundary_does_not_apply(dataset, spec, reason):
    df, _ = load_table(f"sample:{dataset}")
    spec = parse_spec({**spec, "training": {"epochs": 1}})
    prepared = prepare(df, spec.data, seed=0, input=spec.input)
    assert make_probes(["boundary"], spec, prepared) == []
    assert reason in why_not(prepared)
    neurons = make_probes(["neurons"], spec, prepared)
    assert (dataset == "diabetes") == bool(neurons)  # a dense regression stack still has its weights drawn


def test_neurons_need_a_dense_stack():
    df, _ = load_table("sample:moons")
    spec = _spec("label", 1, layers=[{"type": "residual", "layers": [{"type": "dense", "units": 4}]}])
    prepared = prepare(df, spec.data, seed=0, input=spec.input)
    assert [p.name for p in make_probes(["boundary", "neurons"], spec, prepared)] == ["boundary"]


def test_grid_runs_on_the_models_device(moons):
    out = forward(moons.model, moons.prepared.X_train[:3])
    assert out.device.type == "cpu" and out.shape == (3, 1)
