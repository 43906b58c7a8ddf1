"""Widget metadata is read off the spec's fields, so ranges and help never drift from the engine."""




import pytest

from nnbuilder.layers import LAYERS
from nnbuilder.spec.network import DataSpec, SplitSpec, TrainingSpec
from ui.widgets import editable_fields, field_meta, log_grid, number_format


def test_float_field_with_exclusive_upper_bound():
    meta = field_meta(LAYERS["dropout"].spec, "rate")
    assert meta.kind == "float"
    assert (meta.lo, meta.lo_inclusive, meta.hi, meta.hi_inclusive) == (0.0, True, 1.0, False)
    assert meta.min_value == 0.0 and meta.max_value is None  # the engine reports rate >= 1
    assert meta.step == 0.05
    assert "overfitting" in meta.help
    assert meta.slider_range == (0.0, 0.95)  # a slider stops one step short of what the engine refuses


def test_split_shares_give_the_slider_its_range():
    assert field_meta(SplitSpec, "train").slider_range == (0.05, 0.95)
    assert field_meta(SplitSpec, "test").slider_range == (0.0, 0.95)


def test_int_field_bounds_and_step():
    meta = field_meta(LAYERS["dense"].spec, "units")
    assert meta.kind == "int" and meta.default == 64
    assert (meta.min_value, meta.max_value, meta.step) == (1, 16384, 8)


def test_literal_annotation_gives_choices_with_notes_in_help():
    meta = field_meta(LAYERS["dense"].spec, "activation")
    assert meta.kind == "choice"
    assert "relu" in meta.choices and "tanh" in meta.choices
    assert "**relu**" in meta.help


def test_ui_choices_from_json_schema_extra():
    meta = field_meta(TrainingSpec, "optimizer")
    assert meta.kind == "choice" and meta.choices == ("sgd", "adam", "adamw", "rmsprop")
    assert field_meta(DataSpec, "task").choices == ("auto", "classification", "regression", "forecast", "autoencoder", "gan")


def test_log_field_grid_respects_bounds_and_keeps_current_value():
    meta = field_meta(TrainingSpec, "learning_rate")
    assert meta.log
    grid = log_grid(meta, 0.002)
    assert 0.002 in grid and 0.001 in grid and 10.0 in grid
    assert all(0 < v <= 10 for v in grid) and grid == sorted(grid)


def test_labels_and_formats():
    assert field_meta(TrainingSpec, "l1").label == "L1 penalty"
    assert field_meta(TrainingSpec, "weight_decay").label == "Weight decay (L2)"
    assert field_meta(TrainingSpec, "epochs").label == "Epochs"
    assert number_format(field_meta(TrainingSpec, "weight_decay")) == "%.4f"
    assert number_format(field_meta(TrainingSpec, "epochs")) is None


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_registered_layer_field_has_a_widget_kind(name):
    spec = LAYERS[name].spec
    for field in editable_fields(spec):
        assert field_meta(spec, field).kind in ("choice", "int", "float", "bool")
    assert "type" not in editable_fields(spec)


def test_optional_numbers_become_number_boxes_that_may_stay_empty():
    from nnbuilder.spec.network import ImageInputSpec

    meta = field_meta(ImageInputSpec, "height")
    assert meta.kind == "int" and meta.optional and meta.default is None
    assert (meta.min_value, meta.max_value) == (1, 4096)
    pixel_max = field_meta(ImageInputSpec, "pixel_max")
    assert pixel_max.kind == "float" and pixel_max.optional and pixel_max.min_value is None
    stride = field_meta(LAYERS["maxpool2d"].spec, "stride")
    assert stride.kind == "int" and stride.optional
    assert not field_meta(LAYERS["dense"].spec, "units").optional


@pytest.mark.parametrize("layer_type", sorted(LAYERS))
def test_every_layer_field_gets_a_real_widget(layer_type):
    # no layer setting may fall back to a free text box: each has a number, choice or toggle widget
    for name in editable_fields(LAYERS[layer_type].spec):
        assert field_meta(LAYERS[layer_type].spec, name).kind in ("int", "float", "choice", "bool"), name


def test_padding_is_a_choice():
    meta = field_meta(LAYERS["conv2d"].spec, "padding")
    assert meta.kind == "choice" and meta.choices == ("same", "valid")
