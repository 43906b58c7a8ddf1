"""Build page: the layer stack edits the spec dict; the table, errors and JSON import follow."""

import json

from test_app_support import by_label, open_app, run_ok, texts

from nnbuilder.compile import layer_table
from nnbuilder.spec import parse_spec
from ui import state

MOONS = ((2,), "binary", 1)  # input shape, task, outputs of the default dataset


def layers(at):
    return at.session_state[state.SPEC]["layers"]


def total_parameters(at) -> int:
    return int(by_label(at.metric, "Trainable parameters").value.replace(",", ""))


def expected_parameters(at) -> int:
    return sum(row.parameters for row in layer_table(parse_spec(at.session_state[state.SPEC]), *MOONS))


def icon_button(at, icon: str, index: int):
    return [b for b in at.button if b.icon == icon][index]


def test_layer_table_and_parameter_count_match_the_engine():
    at = open_app("Build")
    assert total_parameters(at) == expected_parameters(at) == 2305
    table = at.dataframe[0].value
    assert list(table["layer"]) == ["Input", "1. dense", "2. dropout", "3. dense", "Output"]
    assert len(at.get("plotly_chart")) == 1  # the architecture diagram


def test_add_move_delete_and_preset():
    at = open_app("Build")
    by_label(at.selectbox, "Layer type").select("Batch normalisation")
    by_label(at.button, "Add layer").click()
    run_ok(at)
    assert [layer["type"] for layer in layers(at)] == ["dense", "dropout", "dense", "batchnorm"]
    assert total_parameters(at) == expected_parameters(at)

    icon_button(at, ":material/arrow_upward:", 3).click()
    run_ok(at)
    assert [layer["type"] for layer in layers(at)] == ["dense", "dropout", "batchnorm", "dense"]
    assert total_parameters(at) == expected_parameters(at)

    icon_button(at, ":material/delete:", 1).click()
    run_ok(at)
    assert [layer["type"] for layer in layers(at)] == ["dense", "batchnorm", "dense"]
    assert total_parameters(at) == expected_parameters(at)

    by_label(at.selectbox, "Start from a preset").select("Perceptron / logistic regression")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    assert layers(at) == [] and total_parameters(at) == 3  # 2 weights + 1 bias
    by_label(at.selectbox, "Start from a preset").select("Wide MLP")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    assert layers(at)[0]["units"] == 256 and total_parameters(at) == expected_parameters(at)


def test_editing_a_layer_updates_the_spec_and_count():
    at = open_app("Build")
    by_label(at.number_input, "Units").set_value(8)  # the first dense layer
    run_ok(at)
    assert layers(at)[0]["units"] == 8
    assert total_parameters(at) == expected_parameters(at)
    by_label(at.selectbox, "Activation").select("tanh")
    run_ok(at)
    assert layers(at)[0]["activation"] == "tanh"


def test_invalid_value_shows_the_engine_message_at_the_layer():
    at = open_app("Build")
    by_label(at.number_input, "Rate").set_value(1.0)
    run_ok(at)
    assert "layers[1].rate must be in [0, 1); got 1.0" in texts(at.error)
    assert not [m for m in at.metric if m.label == "Trainable parameters"]  # no table until it is fixed
    by_label(at.number_input, "Rate").set_value(0.5)
    run_ok(at)
    assert not at.error and total_parameters(at) == 2305


def test_import_valid_and_invalid_spec_json():
    at = open_app("Build")
    good = {"layers": [{"type": "dense", "units": 4, "activation": "relu"}], "training": {"epochs": 7}}
    at.text_area(key="import_text").input(json.dumps(good))
    by_label(at.button, "Import pasted JSON").click()
    run_ok(at)
    spec = at.session_state[state.SPEC]
    assert spec["layers"] == good["layers"] and spec["training"]["epochs"] == 7
    assert spec["data"]["target"] == "label"  # a network-only spec keeps the chosen target
    assert "Spec imported." in texts(at.success)

    bad = {"layers": [{"type": "dense", "units": 0}, {"type": "dropuot"}]}
    at.text_area(key="import_text").input(json.dumps(bad))
    by_label(at.button, "Import pasted JSON").click()
    run_ok(at)
    message = texts(at.error)[0]
    assert "layers[0].units must be in [1, 16384]; got 0" in message and "did you mean 'dropout'" in message
    assert at.session_state[state.SPEC]["layers"] == good["layers"]  # nothing changed

    at.text_area(key="import_text").input("{not json")
    by_label(at.button, "Import pasted JSON").click()
    run_ok(at)
    assert "not valid JSON" in texts(at.error)[0]


def test_import_spec_file_and_download_button():
    at = open_app("Build")
    spec = {"layers": [], "training": {"optimizer": "sgd"}}
    at.file_uploader(key="import_file").set_value(("net.json", json.dumps(spec).encode(), "application/json"))
    run_ok(at)
    assert at.session_state[state.SPEC]["layers"] == []
    assert at.session_state[state.SPEC]["training"]["optimizer"] == "sgd"
    assert "Download spec JSON" in [b.label for b in at.get("download_button")]
