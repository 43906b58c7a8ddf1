"""Spec validation: every error path gives one readable line with the dotted path."""

import json

import pytest

from nnbuilder.errors import SpecError
from nnbuilder.layers import LAYERS
from nnbuilder.spec.network import INPUT_KINDS, NetworkSpec, default_spec, load_spec, parse_spec, spec_to_json

ISSUE_EXAMPLE = {
    "version": 1,
    "data": {"target": "species", "task": "auto", "drop_columns": [], "split": {"train": 0.7, "val": 0.15, "test": 0.15}},
    "layers": [{"type": "dense", "units": 64, "activation": "relu"}, {"type": "dropout", "rate": 0.2},
               {"type": "batchnorm"}, {"type": "dense", "units": 32, "activation": "tanh"}],
    "training": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32, "epochs": 100,
                 "weight_decay": 0.0, "l1": 0.0, "early_stopping_patience": 10, "lr_schedule": "none", "seed": 0},
}


def problems(data) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(data)
    return info.value.problems


def test_issue_example_is_valid_and_round_trips():
    spec = parse_spec(ISSUE_EXAMPLE)
    assert [layer.type for layer in spec.layers] == ["dense", "dropout", "batchnorm", "dense"]
    again = parse_spec(json.loads(spec_to_json(spec)))
    assert again == spec


def test_empty_spec_gets_defaults_and_zero_hidden_layers_is_valid():
    spec = parse_spec({})
    assert spec.layers == [] and spec.version == 1 and spec.input.kind == "tabular"
    assert spec.training.optimizer == "adam"


def test_default_spec_has_a_small_network():
    spec = default_spec("label")
    assert spec.data.target == "label" and len(spec.layers) >= 2


@pytest.mark.parametrize("section, expected", [
    ({"kind": "image"}, {"channels": None, "height": None, "width": None, "pixel_columns": None, "pixel_max": None}),
    ({"kind": "image", "channels": 3, "height": 32, "width": 32, "pixel_max": 255},
     {"channels": 3, "height": 32, "width": 32, "pixel_max": 255.0}),
    ({"kind": "image", "pixel_columns": ["p0", "p1", "p2", "p3"]}, {"pixel_columns": ["p0", "p1", "p2", "p3"]}),
])
def test_image_input_section(section, expected):
    spec = parse_spec({"input": section})
    assert spec.input.kind == "image"
    assert {key: getattr(spec.input, key) for key in expected} == expected
    assert parse_spec(json.loads(spec_to_json(spec))) == spec


def test_multi_target_is_a_list():
    assert parse_spec({"data": {"target": ["a", "b"]}}).data.target == ["a", "b"]


@pytest.mark.parametrize("data, expected", [
    ({"layers": [{"type": "dropout", "rate": 1.5}]}, "layers[0].rate must be in [0, 1); got 1.5"),
    ({"layers": [{"type": "dense", "units": 0}]}, "layers[0].units must be in [1, 16384]; got 0"),
    ({"layers": [{"type": "dense", "units": "many"}]}, "layers[0].units must be a whole number; got 'many'"),
    ({"layers": [{"type": "dense", "activation": "rellu"}]}, "did you mean 'relu'?"),
    ({"layers": [{"type": "conv9d"}]}, "layers[0].type must be one of dense, dropout"),
    ({"layers": [{"units": 3}]}, "layers[0].type is required: one of dense"),
    ({"layers": [{"type": "dense", "unit": 3}]}, "layers[0].unit is not a known setting; expected one of type, units, activation (did you mean 'units'?)"),
    ({"layers": {"type": "dense"}}, "layers must be a list"),
    ({"version": 2}, "version must be one of 1; got 2"),
    ({"colour": "red"}, "colour is not a known setting"),
    ({"data": {"task": "clasification"}}, "data.task must be one of auto, classification, regression, forecast, autoencoder, gan; got 'clasification' (did you mean 'classification'?)"),
    ({"data": {"target": 5}}, "data.target"),
    ({"data": {"split": {"train": 0.5, "val": 0.1, "test": 0.1}}}, "data.split must add up to 1; got 0.7"),
    ({"data": {"split": {"train": 0}}}, "data.split.train must be in (0, 1); got 0"),
    ({"data": {"drop_columns": "id"}}, "data.drop_columns must be a list"),
    ({"input": {"kind": "hologram"}}, "input.kind must be one of tabular, image, sequence; got 'hologram'"),
    ({"input": {"kind": "imag"}}, "input.kind must be one of tabular, image, sequence; got 'imag' (did you mean 'image'?)"),
    ({"input": {"kind": "image", "channels": 2}}, "input.channels must be 1 (greyscale) or 3 (RGB); got 2"),
    ({"input": {"kind": "image", "height": 0}}, "input.height must be in [1, 4096]; got 0"),
    ({"input": {"kind": "image", "pixel_max": 0}}, "input.pixel_max must be greater than 0; got 0"),
    ({"input": {"kind": "image", "colours": 3}}, "input.colours is not a known setting"),
    ({"training": {"optimizer": "adan"}}, "training.optimizer must be one of sgd, adam, adamw, rmsprop; got 'adan' (did you mean 'adam'?)"),
    ({"training": {"learning_rate": -1}}, "training.learning_rate must be in (0, 10]; got -1"),
    ({"training": {"learning_rate": "fast"}}, "training.learning_rate must be a number; got 'fast'"),
    ({"training": {"batch_size": 2.5}}, "training.batch_size must be a whole number; got 2.5"),
    ({"training": {"epochs": 0}}, "training.epochs must be in [1, 100000]; got 0"),
    ({"training": {"lr_schedule": "cosin"}}, "did you mean 'cosine'?"),
    ({"training": {"seed": -1}}, "training.seed must be in [0, 2.14748e+09]; got -1"),
    ({"training": {"early_stopping_patience": -3}}, "training.early_stopping_patience must be in [0, 100000]; got -3"),
    ({"training": {"l1": 2}}, "training.l1 must be in [0, 1]; got 2"),
    ({"training": "fast"}, "training must be an object of settings; got 'fast'"),
])
def test_each_error_path_names_path_expectation_and_value(data, expected):
    found = problems(data)
    assert len(found) == 1, found
    assert expected in found[0]


def test_all_problems_are_reported_at_once():
    found = problems({
        "layers": [{"type": "dense", "units": -1}, {"type": "dropout", "rate": 2}],
        "training": {"optimizer": "nope", "epochs": 0},
        "surprise": True,
    })
    assert len(found) == 5
    joined = "\n".join(found)
    for part in ("layers[0].units", "layers[1].rate", "training.optimizer", "training.epochs", "surprise"):
        assert part in joined
    with pytest.raises(SpecError, match="5 problems in the spec"):
        parse_spec({"layers": [{"type": "dense", "units": -1}, {"type": "dropout", "rate": 2}],
                    "training": {"optimizer": "nope", "epochs": 0}, "surprise": True})


def test_non_object_spec_is_refused():
    assert problems([1, 2]) == ["the spec must be a JSON object; got list"]


def test_load_spec_file_errors(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"layers": [', encoding="utf-8")
    with pytest.raises(SpecError, match="not valid JSON.*line 1"):
        load_spec(broken)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(ISSUE_EXAMPLE), encoding="utf-8")
    assert load_spec(good).data.target == "species"


def test_every_field_has_help_text():
    def walk(model):
        for name, field in model.model_fields.items():
            if name not in ("type",):
                assert field.description, f"{model.__name__}.{name} has no description"
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                walk(annotation)
    walk(NetworkSpec)
    for input_kind in INPUT_KINDS.values():
        walk(input_kind)
    for layer_type in LAYERS.values():
        assert layer_type.summary and layer_type.label
        for name, field in layer_type.spec.model_fields.items():
            assert name == "type" or field.description, f"{layer_type.name}.{name} has no description"


@pytest.mark.parametrize("spec, message", [
    ({"gan": {"discriminator": [{"type": "dense"}, {"type": "dropout", "rate": 1.5}]}},
     "gan.discriminator[1].rate must be in [0, 1); got 1.5"),
    ({"autoencoder": {"decoder": [{"type": "dropout", "rate": 1.5}]}}, "autoencoder.decoder[0].rate must be in [0, 1); got 1.5"),
    ({"gan": {"discriminator": [{"type": "residual", "layers": [{"type": "dense", "units": -1}]}]}},
     "gan.discriminator[0].layers[0].units must be in [1, 16384]; got -1"),
])
def test_layers_in_optional_sections_are_named_like_the_main_stack(spec, message):
    with pytest.raises(SpecError) as caught:
        parse_spec(spec)
    assert caught.value.problems == [message]
