"""Train page tabs "Decision boundary" and "Neurons" through AppTest: figures built from the run's views."""

import base64
import json

import numpy as np

from test_app_support import by_label, charts, goto, open_app, run_ok, texts, train_in_app

from ui.boundary_view import tile_maps


def _figures(at) -> dict:
    """Plotly figures on the page by their key's end (boundary_chart, neurons_diagram, neurons_maps)."""
    found = {}
    for chart in charts(at):
        spec = json.loads(chart.proto.spec)
        for key in ("boundary_chart", "neurons_diagram", "neurons_maps"):
            if key in chart.proto.id:
                found[key] = spec
    return found


def _array(value) -> np.ndarray:
    """A trace's data as plotly sent it: a plain list, or a typed array {dtype, bdata, shape}."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.array(value, dtype=float)


def _types(figure) -> list[str]:
    return [trace.get("type", "scatter") for trace in figure["data"]]


def test_moons_boundary_and_neurons_are_drawn_from_the_views():
    at = open_app()  # moons is the default dataset
    snap = train_in_app(at, epochs=5)
    view = snap.views["boundary"]
    figures = _figures(at)
    boundary = figures["boundary_chart"]
    assert _types(boundary)[:2] == ["heatmap", "contour"] and "scatter" in _types(boundary)
    heatmap = boundary["data"][0]
    np.testing.assert_array_equal(_array(heatmap["z"]), view["probability"])  # drawn from the probe's data
    np.testing.assert_array_equal(_array(heatmap["x"]), view["x"])
    names = [t.get("name") for t in boundary["data"]]
    assert {"0 (train)", "1 (train)", "0 (test)", "1 (test)"} <= set(names)
    train_points = sum(len(_array(t["x"])) for t in boundary["data"] if str(t.get("name")).endswith("(train)"))
    assert train_points == len(view["train"]["x"])
    assert "x1 and x2" in boundary["layout"]["title"]["text"]
    assert not [s for s in at.selectbox if s.label == "Horizontal axis"]  # two inputs: nothing to choose

    diagram = figures["neurons_diagram"]
    edges = [t for t in diagram["data"] if t.get("mode") == "lines"]
    colours = {t["line"]["color"] for t in edges}
    assert colours == {"#0877bd", "#f59322"}  # positive and negative weights both appear
    n_edges = sum(len(_array(t["x"])) // 3 for t in edges)
    assert n_edges == sum(len(layer.get("edges", [])) for layer in snap.views["neurons"]["layers"])
    maps = figures["neurons_maps"]
    layers = snap.views["neurons"]["maps"]["layers"]
    assert _types(maps) == ["heatmap"] and [len(layer) for layer in layers] == [16, 16]  # 64 and 32 units: 16 drawn
    image = _array(maps["data"][0]["z"])
    np.testing.assert_allclose(image, tile_maps(layers), equal_nan=True)
    first = np.array(layers[0][0])  # top-left tile: the first neuron, flipped so its y grows upwards
    np.testing.assert_allclose(image[:24, :24], first[::-1] / np.abs(first).max(), atol=1e-6)
    assert not at.exception


def test_feature_pair_selector_recomputes_the_boundary():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("iris")
    run_ok(at)
    train_in_app(at, epochs=5)
    before = _figures(at)["boundary_chart"]
    assert "PCA projection" in before["layout"]["title"]["text"]
    by_label(at.selectbox, "Horizontal axis").select("petal_length_cm")
    run_ok(at)
    by_label(at.selectbox, "Vertical axis").select("sepal_width_cm")
    run_ok(at)
    after = _figures(at)["boundary_chart"]
    assert "petal_length_cm and sepal_width_cm" in after["layout"]["title"]["text"]
    assert after["layout"]["xaxis"]["title"]["text"] == "petal_length_cm"
    assert not np.array_equal(_array(after["data"][0]["x"]), _array(before["data"][0]["x"]))  # a new grid, raw units
    assert _types(after).count("heatmap") == 3  # one region per iris class
    by_label(at.selectbox, "Vertical axis").select("petal_length_cm")
    run_ok(at)  # the same feature twice is explained, not a traceback
    assert any("two different" in w for w in texts(at.warning))


def test_time_series_says_the_boundary_does_not_apply():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("sales")
    run_ok(at)
    by_label(at.radio, "How each row becomes the network's input").set_value("sequence")
    run_ok(at)
    goto(at, "Build")
    by_label(at.selectbox, "Start from a preset").select("LSTM (time series)")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    train_in_app(at, epochs=2)
    captions = texts(at.caption)
    assert any("drawn for classification on tables; this is a forecast" in c for c in captions), captions
    assert any("neuron view draws stacks of dense layers" in c for c in captions), captions
    assert "boundary_chart" not in _figures(at)
