"""Build page: the layer stack edits the spec dict; the table, errors and JSON import follow."""

import json
import re

from streamlit.testing.v1.element_tree import Block
from test_app_support import by_label, goto, open_app, run_ok, texts

from nnbuilder.model.compile import layer_table
from nnbuilder.spec.network import parse_spec
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
    assert card_errors(at, "layers", 1) == ["Layer 2: rate must be in [0, 1); got 1.0"]  # numbered like its card
    assert not card_errors(at, "layers", 0) and not card_errors(at, "layers", 2)
    assert not [m for m in at.metric if m.label == "Trainable parameters"]  # no table until it is fixed
    by_label(at.number_input, "Rate").set_value(0.5)
    run_ok(at)
    assert not at.error and total_parameters(at) == 2305


def test_every_problem_shows_on_its_own_card_numbered_like_the_cards():
    at = open_app("Build")
    by_label(at.selectbox, "Layer type").select("Dropout")
    by_label(at.button, "Add layer").click()
    run_ok(at)
    layer_widget(at.number_input, "layers", 1, "rate").set_value(1.0)
    layer_widget(at.number_input, "layers", 3, "rate").set_value(1.0)
    run_ok(at)  # two problems at once, each on its card with the card's number (the engine says layers[1], layers[3])
    assert card_errors(at, "layers", 1) == ["Layer 2: rate must be in [0, 1); got 1.0"]
    assert card_errors(at, "layers", 3) == ["Layer 4: rate must be in [0, 1); got 1.0"]
    assert not card_errors(at, "layers", 0) and not card_errors(at, "layers", 2)
    layer_button(at, "del", "layers", 3).click()
    run_ok(at)
    layer_widget(at.number_input, "layers", 1, "rate").set_value(0.1)
    run_ok(at)
    assert not at.error

    by_label(at.selectbox, "Layer type").select("Convolution 2D (images)")  # valid settings, but not for a table
    by_label(at.button, "Add layer").click()
    run_ok(at)
    errors = card_errors(at, "layers", 3)
    assert len(errors) == 1 and errors[0].startswith("Layer 4 (conv2d): conv2d needs image input"), errors
    assert not any(card_errors(at, "layers", index) for index in range(3))


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


# ---------------------------------------------------------------- every stack: paths, nested blocks, the GAN

def layer_button(at, action: str, path: str, index: int):
    """The up/down/del button of layer `index` in the stack at `path` (keys carry the path)."""
    pattern = re.compile(rf"^{action}_\d+_{re.escape(path)}_{index}$")
    found = [b for b in at.button if b.key and pattern.match(b.key)]
    assert len(found) == 1, [b.key for b in at.button]
    return found[0]


def layer_widget(widgets, path: str, index: int, field: str):
    pattern = re.compile(rf"^layer_\d+_{re.escape(path)}_{index}_{field}$")
    found = [w for w in widgets if w.key and pattern.match(w.key)]
    assert len(found) == 1, [w.key for w in widgets]
    return found[0]


def card(at, path: str, index: int) -> Block:
    """The bordered card of one layer: the innermost bordered block holding that layer's delete button."""
    pattern = re.compile(rf"^del_\d+_{re.escape(path)}_{index}$")
    found = []

    def walk(node):
        for child in node.children.values():
            if isinstance(child, Block):
                if getattr(child.proto, "flex_container", None) and child.proto.flex_container.border \
                        and any(b.key and pattern.match(b.key) for b in child.button):
                    found.append(child)
                walk(child)
    walk(at.main)
    assert found, f"no card for {path}[{index}]"
    return found[-1]


def card_errors(at, path: str, index: int) -> list[str]:
    return texts(card(at, path, index).error)


def types(stack_layers) -> list[str]:
    return [layer["type"] for layer in stack_layers]


def open_gan():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("people")
    run_ok(at)
    by_label(at.selectbox, "Task (auto-detected, or choose)").select("gan")
    run_ok(at)
    return goto(at, "Build")


def table_layers(at) -> list[str]:
    return list(at.dataframe[0].value["layer"])


def test_gan_section_edits_the_discriminator_and_noise():
    at = open_gan()
    assert "Generator and discriminator" in texts(at.subheader)
    spec = at.session_state[state.SPEC]
    assert types(spec["gan"]["discriminator"]) == ["dense", "dropout", "dense"]  # GanSpec's defaults, editable
    assert by_label(at.number_input, "Noise size").value == 16
    assert table_layers(at)[-4:] == ["Disc 1. dense", "Disc 2. dropout", "Disc 3. dense", "Disc output"]

    by_label(at.selectbox, "Discriminator layer type").select("Batch normalisation")
    by_label(at.button, "Add discriminator layer").click()
    run_ok(at)
    disc = lambda: at.session_state[state.SPEC]["gan"]["discriminator"]  # noqa: E731
    assert types(disc()) == ["dense", "dropout", "dense", "batchnorm"]
    assert types(at.session_state[state.SPEC]["layers"]) == ["dense", "dropout", "dense"]  # the generator stays
    assert table_layers(at)[-2] == "Disc 4. batchnorm"

    layer_button(at, "up", "gan.discriminator", 3).click()
    run_ok(at)
    assert types(disc()) == ["dense", "dropout", "batchnorm", "dense"]
    layer_button(at, "del", "gan.discriminator", 1).click()
    run_ok(at)
    assert types(disc()) == ["dense", "batchnorm", "dense"]
    assert table_layers(at)[-4:] == ["Disc 1. dense", "Disc 2. batchnorm", "Disc 3. dense", "Disc output"]

    layer_widget(at.number_input, "gan.discriminator", 0, "units").set_value(12)
    by_label(at.number_input, "Noise size").set_value(8)
    by_label(at.number_input, "Discriminator LR factor").set_value(0.5)
    run_ok(at)
    gan = at.session_state[state.SPEC]["gan"]
    assert gan["noise_dim"] == 8 and gan["discriminator_lr_factor"] == 0.5 and gan["discriminator"][0]["units"] == 12
    table = at.dataframe[0].value.set_index("layer")
    assert table.loc["Noise", "output shape"] == "(8,)" and table.loc["Disc 1. dense", "output shape"] == "(12,)"
    assert table.loc["Disc 1. dense", "parameters"] == 6 * 12 + 12  # 6 encoded features in, 12 units
    assert not at.error


def test_a_bad_discriminator_setting_is_shown_beside_that_layer():
    at = open_gan()
    layer_widget(at.number_input, "gan.discriminator", 1, "rate").set_value(1.0)
    run_ok(at)
    errors = card_errors(at, "gan.discriminator", 1)
    assert errors == ["Discriminator layer 2: rate must be in [0, 1); got 1.0"]
    assert not card_errors(at, "layers", 1)  # the generator's dropout is fine
    assert not [m for m in at.metric if m.label == "Trainable parameters"]
    layer_widget(at.number_input, "gan.discriminator", 1, "rate").set_value(0.2)
    run_ok(at)
    assert not at.error and at.session_state[state.SPEC]["gan"]["discriminator"][1]["rate"] == 0.2

    # A layer that cannot work on rows (a 1-D convolution) is refused at that layer too, by the engine's shape rule.
    by_label(at.selectbox, "Discriminator layer type").select("Convolution 1D (sequences)")
    by_label(at.button, "Add discriminator layer").click()
    run_ok(at)
    errors = card_errors(at, "gan.discriminator", 3)
    assert errors and errors[0].startswith("Discriminator layer 4 (conv1d): ") and "one dimension" in errors[0]


def test_residual_block_add_edit_inner_layers_and_delete():
    at = open_app("Build")
    by_label(at.selectbox, "Layer type").select("Residual block (skip connection)")
    by_label(at.button, "Add layer").click()
    run_ok(at)
    block = layers(at)[3]
    assert block == {"type": "residual", "layers": [{"type": "dense", "units": 32, "activation": "relu"},
                                                    {"type": "dense", "units": 32, "activation": "linear"}]}
    assert total_parameters(at) == expected_parameters(at) == 2305 + 2 * (32 * 32 + 32)  # identity skip: no weights
    assert "4. residual" in table_layers(at)

    by_label(at.selectbox, "Layer type in block 4").select("Dropout")
    by_label(at.button, "Add to block 4").click()
    run_ok(at)
    assert types(layers(at)[3]["layers"]) == ["dense", "dense", "dropout"]
    layer_widget(at.number_input, "layers.3.layers", 0, "units").set_value(8)
    run_ok(at)
    assert layers(at)[3]["layers"][0]["units"] == 8
    assert total_parameters(at) == expected_parameters(at)

    layer_widget(at.number_input, "layers.3.layers", 2, "rate").set_value(1.0)
    run_ok(at)
    inner = card_errors(at, "layers.3.layers", 2)
    assert inner == ["Layer 4.3: rate must be in [0, 1); got 1.0"]
    assert not card_errors(at, "layers.3.layers", 0) and not card_errors(at, "layers", 2)
    layer_widget(at.number_input, "layers.3.layers", 2, "rate").set_value(0.1)
    run_ok(at)
    assert not at.error

    layer_button(at, "up", "layers.3.layers", 2).click()
    run_ok(at)
    assert types(layers(at)[3]["layers"]) == ["dense", "dropout", "dense"]
    for _ in range(3):  # an empty block is refused at the block, not with a traceback
        layer_button(at, "del", "layers.3.layers", 0).click()
        run_ok(at)
    assert layers(at)[3]["layers"] == []
    assert any(e.startswith("Layer 4: layers must hold at least 1 item") for e in card_errors(at, "layers", 3))
    layer_button(at, "del", "layers", 3).click()
    run_ok(at)
    assert types(layers(at)) == ["dense", "dropout", "dense"] and not at.error


def test_blocks_nest_and_a_block_that_cannot_fit_is_explained_at_its_inner_layer():
    at = open_app("Build")
    by_label(at.selectbox, "Layer type").select("Residual block (skip connection)")
    by_label(at.button, "Add layer").click()
    run_ok(at)
    by_label(at.selectbox, "Layer type in block 4").select("Residual block (skip connection)")
    by_label(at.button, "Add to block 4").click()
    run_ok(at)
    nested = layers(at)[3]["layers"][2]
    assert nested["type"] == "residual" and [l["units"] for l in nested["layers"]] == [32, 32]
    assert "Add to block 4.3" in [b.label for b in at.button]
    assert total_parameters(at) == expected_parameters(at)

    by_label(at.selectbox, "Layer type in block 4.3").select("Convolution 2D (images)")
    by_label(at.button, "Add to block 4.3").click()
    run_ok(at)
    errors = card_errors(at, "layers.3.layers.2.layers", 2)
    assert errors and errors[0].startswith("Layer 4.3.3 (conv2d): ") and "image input" in errors[0]


def test_autoencoder_decoder_stack_is_edited_by_the_same_editor():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("transactions")
    run_ok(at)
    by_label(at.selectbox, "Task (auto-detected, or choose)").select("autoencoder")
    run_ok(at)
    goto(at, "Build")
    by_label(at.toggle, "Decoder mirrors the encoder").set_value(False)
    run_ok(at)
    decoder = lambda: at.session_state[state.SPEC]["autoencoder"]["decoder"]  # noqa: E731
    mirrored = [layer for layer in decoder() if layer["type"] == "dense"]
    assert [layer["units"] for layer in mirrored] == [32, 64]  # the mirror of the default 64 -> 32 encoder
    before = types(decoder())
    by_label(at.selectbox, "Decoder layer type").select("Dropout")
    by_label(at.button, "Add decoder layer").click()
    run_ok(at)
    end = len(before)
    assert types(decoder()) == [*before, "dropout"]
    layer_widget(at.number_input, "autoencoder.decoder", end, "rate").set_value(1.0)
    run_ok(at)
    assert card_errors(at, "autoencoder.decoder", end) == [f"Decoder layer {end + 1}: rate must be in [0, 1); got 1.0"]
    layer_button(at, "del", "autoencoder.decoder", end).click()
    run_ok(at)
    assert types(decoder()) == before and not at.error


def test_gan_preset_brings_its_discriminator_and_sequence_presets_say_what_input_they_need():
    at = open_gan()
    by_label(at.selectbox, "Start from a preset").select("GAN (synthetic rows)")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    gan = at.session_state[state.SPEC]["gan"]
    assert [layer["activation"] for layer in layers(at)] == ["leaky_relu", "leaky_relu"]
    assert types(gan["discriminator"]) == ["dense", "dropout", "dense"] and gan["discriminator"][0]["units"] == 64

    at = open_app("Build")  # moons: a table
    by_label(at.selectbox, "Start from a preset").select("Transformer (time series)")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    assert types(layers(at)) == ["transformer_encoder", "dense"]
    assert any("made for the sequence input" in text for text in texts(at.info))
    assert card_errors(at, "layers", 0) == []  # on a table the transformer reads the columns as its tokens
    by_label(at.selectbox, "Start from a preset").select("LSTM (time series)")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    assert any("needs sequence input" in e for e in card_errors(at, "layers", 0))  # at the layer, in words

