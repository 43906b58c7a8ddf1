"""Train page tab "Inside the training" through AppTest: charts drawn from the run's 'internals' views, and flags."""

import base64
import json

import numpy as np

from test_app_support import by_label, charts, open_app, run_ok, texts, train_in_app

from nnbuilder.spec.network import default_spec
from ui import internals_view, state

KEYS = ("internals_grad_norm", "internals_dead", "internals_weight_hist", "internals_grad_hist", "internals_lr")


def _figures(at) -> dict:
    """This tab's plotly figures by their stable key."""
    found = {}
    for chart in charts(at):
        for key in KEYS:
            if key in chart.proto.id:
                found[key] = json.loads(chart.proto.spec)
    return found


def _array(value) -> np.ndarray:
    """A trace's data as plotly sent it: a plain list (None = gap), or a typed array {dtype, bdata, shape}."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.array([np.nan if v is None else v for v in value], dtype=float)


def _spec(layers, **training):
    data = default_spec("label").model_dump(mode="json")
    data["layers"] = layers
    data["training"].update(training)
    return data


def test_moons_internals_are_drawn_from_the_views():
    at = open_app(session={state.SPEC: _spec(default_spec("label").model_dump(mode="json")["layers"],
                                             lr_schedule="step", learning_rate=0.01, early_stopping_patience=0)})
    snap = train_in_app(at, epochs=4)
    views = snap.views["internals"]
    figures = _figures(at)
    assert set(figures) == set(KEYS), list(figures)  # the step schedule brings the learning-rate chart

    names = [layer["name"] for layer in views["layers"]]
    assert names == ["1. dense", "3. dense", "Output"]  # the dropout layer holds no weights
    norms = figures["internals_grad_norm"]["data"]
    assert [t["name"] for t in norms] == names
    for trace, layer in zip(norms, views["layers"]):
        np.testing.assert_allclose(_array(trace["y"]), layer["grad_norm"])
        np.testing.assert_array_equal(_array(trace["x"]), views["epochs"])
    assert figures["internals_grad_norm"]["layout"]["yaxis"]["type"] == "log"

    weights = figures["internals_weight_hist"]["data"][0]  # the first layer is chosen by default
    counts = np.array(views["layers"][0]["weight_hist"]).T  # (bins, epochs)
    np.testing.assert_array_equal(_array(weights["customdata"]).reshape(counts.shape), counts)
    assert counts.sum(axis=0).tolist() == [views["layers"][0]["weights"]] * len(views["epochs"])
    dead = figures["internals_dead"]["data"]
    assert [t["name"] for t in dead] == ["1. dense (64 units)", "3. dense (32 units)"]
    lr = figures["internals_lr"]["data"][0]  # every epoch, from the history: the views may skip some
    np.testing.assert_allclose(_array(lr["y"]), [row["lr"] for row in snap.history])
    np.testing.assert_allclose(_array(lr["y"]), [0.01, 0.001, 0.0001, 1e-05])  # step: ÷10 every 4 // 3 epochs
    assert [views["lr"][views["epochs"].index(e)] for e in views["epochs"]] == [snap.history[e - 1]["lr"]
                                                                               for e in views["epochs"]]
    assert not [w for w in texts(at.warning) if "gradient" in w]  # a healthy relu net: no flag

    by_label(at.selectbox, "Layer").select("Output")
    run_ok(at)
    title = _figures(at)["internals_grad_hist"]["layout"]["title"]["text"]
    assert title == "Output: gradients per epoch"


def test_a_deep_sigmoid_stack_shows_the_vanishing_gradient_warning():
    layers = [{"type": "dense", "units": 16, "activation": "sigmoid"}] * 10
    at = open_app(session={state.SPEC: _spec(layers, early_stopping_patience=0)})
    snap = train_in_app(at, epochs=2)
    assert any("vanishing gradients" in f for f in snap.views["internals"]["flags"])
    warnings = [w for w in texts(at.warning) if "vanishing gradients" in w]
    assert len(warnings) == 1 and warnings[0].startswith("Layers 1. dense") and "relu/leaky_relu" in warnings[0]
    assert "internals_dead" not in _figures(at)  # no ReLU units to count
    assert any("No ReLU layers" in c.value for c in at.caption)
    assert "internals_lr" not in _figures(at)  # constant learning rate: nothing to show


def test_without_views_the_tab_explains_itself():
    """A GAN run (or one before its first epoch) has no 'internals' data: a caption, no chart, no error."""
    assert internals_view.shows_learning_rate([0.1, 0.1], "none") is False
    assert internals_view.shows_learning_rate([0.1, 0.1], "cosine") is True
    assert internals_view.shows_learning_rate([0.1, 0.01], "none") is True
    assert internals_view.shows_learning_rate([], "step") is False
    from streamlit.testing.v1 import AppTest

    def page():
        from ui import internals_view as view

        class Snap:
            views = {}
        view.render(Snap())
        Snap.views = {"internals": {"epochs": []}}
        view.render(Snap())

    at = AppTest.from_function(page).run()
    assert not at.exception and not at.get("plotly_chart")
    assert [c.value for c in at.caption][0].startswith("Weights, gradients and dead units appear here")
