"""Chart builders are pure: plain data in, a plotly figure out, checked without a browser."""



import plotly.graph_objects as go  # noqa: E402

from nnbuilder.model.compile import layer_table  # noqa: E402
from nnbuilder.spec.network import default_spec, parse_spec  # noqa: E402
from ui import charts  # noqa: E402

HISTORY = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "train_accuracy": 0.5 + e / 20,
            "val_accuracy": 0.45 + e / 20, "lr": 0.001, "seconds": 0.1} for e in range(1, 6)]


def test_curve_figure_has_train_and_validation():
    fig = charts.curve_figure(HISTORY, "loss")
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["training", "validation"]
    assert list(fig.data[0].x) == [1, 2, 3, 4, 5]
    assert list(fig.data[1].y) == [1.2 / e for e in range(1, 6)]
    assert charts.curve_figure(HISTORY, "accuracy").layout.yaxis.title.text == "Accuracy"


def test_curve_figure_without_validation():
    history = [{"epoch": 1, "train_loss": 1.0, "val_loss": None}]
    assert [t.name for t in charts.curve_figure(history).data] == ["training"]
    assert len(charts.curve_figure([]).data) == 0


def test_confusion_matrix_counts_in_cells():
    fig = charts.confusion_matrix_figure(["a", "b"], [[5, 1], [2, 7]])
    heat = fig.data[0]
    assert list(heat.x) == ["a", "b"] and [list(r) for r in heat.z] == [[5, 1], [2, 7]]
    assert heat.text[1][1] == "7"


def test_roc_figure_one_line_per_class_plus_chance():
    curves = [{"class": "x", "fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1], "auc": 0.85}]
    fig = charts.roc_figure(curves)
    assert len(fig.data) == 2 and "AUC 0.850" in fig.data[1].name


def test_regression_figures():
    actual, predicted = [[1.0], [2.0], [3.0]], [[1.5], [2.0], [2.0]]
    scatter = charts.predicted_vs_actual_figure(actual, predicted)
    assert list(scatter.data[1].x) == [1.0, 2.0, 3.0] and list(scatter.data[1].y) == [1.5, 2.0, 2.0]
    residuals = charts.residuals_figure(actual, predicted)
    assert list(residuals.data[0].y) == [-0.5, 0.0, 1.0]
    multi = charts.predicted_vs_actual_figure([[1, 10]], [[2, 20]], target=1, name="b")
    assert list(multi.data[1].x) == [10] and "(b)" in multi.layout.title.text


def test_probability_figure():
    fig = charts.probability_figure({"setosa": 0.7, "virginica": 0.3})
    assert list(fig.data[0].y) == ["setosa", "virginica"] and fig.data[0].text[0] == "70.0%"


def test_architecture_figure_from_layer_table():
    rows = [r.to_dict() for r in layer_table(default_spec(), (2,), "binary", 2)]
    fig = charts.architecture_figure(rows)
    neurons = [t for t in fig.data if t.mode == "markers"]
    assert len(neurons) == 4  # input, two dense layers, output; the dropout is a band
    assert [len(t.y) for t in neurons] == [2, 10, 10, 1]  # at most ten neurons drawn per layer
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "Input" in texts and "Output" in texts and "⋮ 64" in texts
    assert len(fig.layout.shapes) == 1  # the dropout band


def test_architecture_figure_for_a_perceptron():
    rows = [r.to_dict() for r in layer_table(parse_spec({"layers": []}), (3,), "regression", 1)]
    fig = charts.architecture_figure(rows)
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 1 and len([x for x in lines[0].x if x is not None]) == 2 * 3  # 3 inputs -> 1 output


def test_image_grid_figure_shows_each_image_with_its_label():
    import numpy as np

    images = np.random.default_rng(0).random((12, 1, 8, 8))
    fig = charts.image_grid_figure(images, list(range(12)))
    assert len(fig.data) == 12 and all(isinstance(t, go.Image) for t in fig.data)
    assert [a.text for a in fig.layout.annotations] == [str(i) for i in range(12)]
    assert np.asarray(fig.data[0].z).shape == (8, 8, 3)
    rgb = charts.image_grid_figure(np.ones((2, 3, 4, 5)), ["cat", "dog"])
    assert len(rgb.data) == 2 and np.asarray(rgb.data[1].z).shape == (4, 5, 3)
    assert int(np.asarray(rgb.data[1].z).min()) == 255  # RGB shown as is


def test_architecture_figure_for_a_cnn():
    rows = [r.to_dict() for r in layer_table(parse_spec({"input": {"kind": "image"}, "layers": [
        {"type": "conv2d", "filters": 4}, {"type": "maxpool2d"}, {"type": "flatten"}, {"type": "dense", "units": 8}]}),
        (1, 8, 8), "multiclass", 10)]
    fig = charts.architecture_figure(rows)
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "→ 4×8×8" in texts and "→ 4×4×4" in texts and "8×8 image" in texts


def test_forecast_figure_draws_actual_forecast_and_baseline_over_time():
    details = {"actual": [[1.0], [2.0], [4.0]], "predicted": [[1.5], [2.0], [3.5]], "baseline": [[0.0], [1.0], [2.0]],
               "time": ["2024-01-01", "2024-01-02", "2024-01-03"]}
    fig = charts.forecast_figure(details)
    assert [trace.name for trace in fig.data] == ["actual", "forecast", "last value (baseline)"]
    assert list(fig.data[1].y) == [1.5, 2.0, 3.5] and list(fig.data[0].x) == details["time"]
    assert fig.data[2].line.dash == "dot" and "Forecast vs actual" in fig.layout.title.text
    bare = charts.forecast_figure({"actual": [[1, 10]], "predicted": [[2, 20]]}, target=1, name="b")
    assert list(bare.data[0].x) == [0] and list(bare.data[1].y) == [20] and "(b)" in bare.layout.title.text


def test_latent_figure_colours_rows_by_label_with_anomalies_on_top():
    latent = [[0, 0], [1, 1], [2, 2], [3, 3]]
    fig = charts.latent_figure(latent, ["no", "yes", None, "no"], anomaly_class="yes")
    assert [t.name for t in fig.data] == ["no", charts.NO_LABEL, "yes"]
    assert list(fig.data[0].x) == [0, 3] and fig.data[2].marker.color == charts.ANOMALY_COLOUR
    bare = charts.latent_figure(latent)
    assert [t.name for t in bare.data] == ["rows"] and len(bare.data[0].x) == 4


def test_error_histogram_marks_the_threshold():
    fig = charts.error_histogram_figure([0.1, 0.2, 0.3, 4.0], 0.5)
    assert list(fig.data[0].x) == [0.1, 0.2, 0.3, 4.0]
    assert fig.layout.shapes[0].x0 == 0.5 and fig.layout.yaxis.type == "log"


def test_architecture_draws_the_latent_layer_as_neurons():
    spec = parse_spec({"data": {"task": "autoencoder"}, "layers": [{"type": "dense", "units": 4}]})
    rows = [r.to_dict() for r in layer_table(spec, (6,), "autoencoder", 6)]
    fig = charts.architecture_figure(rows)
    markers = [t for t in fig.data if t.mode == "markers"]
    assert len(markers) == 5  # input, dense, latent, mirrored dense, output


def test_real_vs_generated_figure_numbers_and_categories():
    numbers = charts.real_vs_generated_figure([1.0, 2.0, 2.5, None], [1.5, 2.0], "height", numeric=True)
    assert [t.type for t in numbers.data] == ["histogram", "histogram"] and numbers.layout.barmode == "overlay"
    assert [t.name for t in numbers.data] == ["real", "generated"] and list(numbers.data[0].x) == [1.0, 2.0, 2.5]
    categories = charts.real_vs_generated_figure(["a", "a", "b"], ["b", "b"], "sex", numeric=False)
    assert list(categories.data[0].x) == ["a", "b"] and list(categories.data[1].y) == [0.0, 1.0]
    assert "sex: real vs generated" in categories.layout.title.text


def test_gan_curves_name_both_losses():
    history = [{"epoch": 1, "train_loss": 0.7, "val_loss": 0.6}, {"epoch": 2, "train_loss": 0.8, "val_loss": 0.65}]
    fig = charts.curve_figure(history, "loss", charts.GAN_CURVE_NAMES)
    assert [t.name for t in fig.data] == ["generator", "discriminator"]
