"""Pure edits of layer stacks, stack paths, presets and the mapping of problems to layer editors."""

import json

import pytest

from nnbuilder.errors import SpecProblem
from nnbuilder.model.compile import layer_table
from nnbuilder.spec.network import parse_spec
from ui import stack


def test_add_move_delete():
    layers = stack.add_layer([], "dense")
    layers = stack.add_layer(layers, "dropout")
    assert [layer["type"] for layer in layers] == ["dense", "dropout"]
    assert layers[0] == {"type": "dense", "units": 64, "activation": "relu"}
    assert [layer["type"] for layer in stack.move_layer(layers, 1, -1)] == ["dropout", "dense"]
    assert stack.move_layer(layers, 0, -1) == layers  # nothing above the first layer
    assert [layer["type"] for layer in stack.delete_layer(layers, 0)] == ["dropout"]


def test_every_preset_is_a_valid_spec():
    for name in stack.PRESETS:
        spec = parse_spec({"layers": stack.preset_layers(name)})
        shape = {"image": (1, 8, 8), "sequence": (14, 3)}.get(stack.PRESET_INPUT_KINDS.get(name), (4,))
        rows = layer_table(spec, shape, "multiclass", 3)
        assert rows[0].name == "Input" and rows[-1].name == "Output"
    assert stack.preset_layers("Perceptron / logistic regression") == []


def test_presets_are_copies():
    layers = stack.preset_layers("Small MLP")
    layers[0]["units"] = 999
    assert stack.PRESETS["Small MLP"][0]["units"] != 999


def test_set_dropout_updates_or_adds():
    layers = [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dropout", "rate": 0.1}]
    assert stack.dropout_rate(layers) == 0.1
    assert stack.set_dropout(layers, 0.3)[1]["rate"] == 0.3
    added = stack.set_dropout([{"type": "dense", "units": 8, "activation": "relu"}] * 2, 0.2)
    assert [layer["type"] for layer in added] == ["dense", "dropout", "dense", "dropout"]
    assert stack.set_dropout([], 0.2) == [{"type": "dropout", "rate": 0.2}]
    assert stack.set_dropout([], 0.0) == []


def test_split_problems_by_layer():
    by_layer, general = stack.split_problems([
        SpecProblem(("layers", 2, "rate"), "must be in [0, 1); got 1.5"),
        SpecProblem(("layers", 0), "does not fit", "dense"),
        SpecProblem(("training", "learning_rate"), "must be in (0, 10]; got 100"),
    ])
    assert by_layer == {2: ["Layer 3: rate must be in [0, 1); got 1.5"], 0: ["Layer 1 (dense): does not fit"]}
    assert general == ["training.learning_rate must be in (0, 10]; got 100"]


def test_mirrored_layers_seed_an_editable_decoder():
    layers = [{"type": "dropout", "rate": 0.1}, {"type": "dense", "units": 16, "activation": "tanh"},
              {"type": "batchnorm"}, {"type": "dense", "units": 8}]
    assert stack.mirrored_layers(layers) == [{"type": "dense", "units": 8, "activation": "relu"},
                                             {"type": "dense", "units": 16, "activation": "tanh"},
                                             {"type": "batchnorm"}]
    assert stack.mirrored_layers([{"type": "conv1d"}]) == []
    assert stack.mirrored_layers([{"type": "nope"}]) == []


# ---------------------------------------------------------------- stack paths

def test_get_and_set_stack_by_path():
    spec = {"layers": [{"type": "dense", "units": 8},
                       {"type": "residual", "layers": [{"type": "dense", "units": 8}]}]}
    assert stack.get_stack(spec, "layers") is spec["layers"]  # the live list: widgets write into it
    assert stack.get_stack(spec, "layers.1.layers") == [{"type": "dense", "units": 8}]
    assert stack.get_stack(spec, "gan.discriminator") == []  # no gan section yet
    assert stack.get_stack({"gan": None}, "gan.discriminator") == []
    assert stack.get_stack(spec, "layers.7.layers") == []  # an index past the end
    stack.set_stack(spec, "gan.discriminator", [{"type": "dropout", "rate": 0.2}])
    assert spec["gan"] == {"discriminator": [{"type": "dropout", "rate": 0.2}]}
    stack.set_stack(spec, "layers.1.layers", [])
    assert spec["layers"][1] == {"type": "residual", "layers": []}
    stack.set_stack({"autoencoder": None}, "autoencoder.decoder", [])  # a null section is replaced


def test_path_spellings_and_labels():
    assert stack.parse_path("layers.3.layers") == ["layers", 3, "layers"]
    assert [stack.stack_label(p) for p in ("layers", "autoencoder.decoder", "gan.discriminator", "layers.2.layers",
                                           "gan.discriminator.1.layers", "layers.2.layers.0.layers")] == [
        "", "decoder", "discriminator", "block 3", "discriminator block 2", "block 3.1"]


@pytest.mark.parametrize("path, owner", [
    (("layers", 2, "rate"), ("layers", 2)),
    (("layers", 0), ("layers", 0)),
    (("gan", "discriminator", 1, "rate"), ("gan.discriminator", 1)),
    (("autoencoder", "decoder", 0), ("autoencoder.decoder", 0)),
    (("layers", 3, "layers", 0, "units"), ("layers.3.layers", 0)),
    (("layers", 3, "layers", 1, "type"), ("layers.3.layers", 1)),
    (("gan", "discriminator", 0, "layers", 2, "layers", 1), ("gan.discriminator.0.layers.2.layers", 1)),
    (("layers", 0, "layers"), ("layers", 0)),  # the block itself is empty
    (("training", "learning_rate"), None),
    (("gan", "noise_dim"), None),
    (("data", "split"), None),
    (("layers",), None),  # the whole network (too many parameters)
    (("autoencoder", "decoder"), None),  # a mirrored decoder: no card of its own
    ((), None),
])
def test_problem_owner(path, owner):
    assert stack.problem_owner(path) == owner


@pytest.mark.parametrize("problem, text", [
    (SpecProblem(("layers", 2, "rate"), "must be in [0, 1); got 1.5"), "Layer 3: rate must be in [0, 1); got 1.5"),
    (SpecProblem(("layers", 3), "conv2d needs image input", "conv2d"), "Layer 4 (conv2d): conv2d needs image input"),
    (SpecProblem(("layers", 0), "must be an object of settings; got 5"), "Layer 1 must be an object of settings; got 5"),
    (SpecProblem(("layers", 3, "layers", 0, "units"), "must be in [1, 16384]; got 0"),
     "Layer 4.1: units must be in [1, 16384]; got 0"),
    (SpecProblem(("layers", 3, "layers", 2, "layers", 1), "needs images", "conv2d"), "Layer 4.3.2 (conv2d): needs images"),
    (SpecProblem(("gan", "discriminator", 1, "rate"), "must be in [0, 1); got 1.5"),
     "Discriminator layer 2: rate must be in [0, 1); got 1.5"),
    (SpecProblem(("gan", "discriminator", 0, "layers", 1), "needs images", "conv2d"),
     "Discriminator layer 1.2 (conv2d): needs images"),
    (SpecProblem(("autoencoder", "decoder", 0, "rate"), "must be in [0, 1); got 2"),
     "Decoder layer 1: rate must be in [0, 1); got 2"),
    (SpecProblem(("training", "learning_rate"), "must be in (0, 10]; got 100"),
     "training.learning_rate must be in (0, 10]; got 100"),  # not a layer: the engine's words
    (SpecProblem((), "has task gan with the image input"), "spec has task gan with the image input"),
])
def test_problem_text_numbers_layers_like_their_cards(problem, text):
    assert stack.problem_text(problem) == text


def test_group_and_split_problems_across_stacks():
    problems = [SpecProblem(("layers", 1, "units"), "bad"), SpecProblem(("gan", "discriminator", 0, "rate"), "bad"),
                SpecProblem(("layers", 1, "layers", 0, "units"), "bad"), SpecProblem(("training", "epochs"), "bad"),
                SpecProblem(("gan", "discriminator", 0, "type"), "worse")]
    grouped, general = stack.group_problems(problems)
    assert grouped == {("layers", 1): ["Layer 2: units bad"],
                       ("gan.discriminator", 0): ["Discriminator layer 1: rate bad",
                                                  "Discriminator layer 1: type worse"],
                       ("layers.1.layers", 0): ["Layer 2.1: units bad"]}
    assert general == ["training.epochs bad"]
    by_layer, rest = stack.split_problems(problems, "gan.discriminator")
    assert by_layer == {0: ["Discriminator layer 1: rate bad", "Discriminator layer 1: type worse"]}
    assert sorted(rest) == sorted(["training.epochs bad", "Layer 2: units bad", "Layer 2.1: units bad"])


# ---------------------------------------------------------------- residual blocks

def test_nested_fields_come_from_the_layer_spec():
    assert stack.nested_fields("residual") == ["layers"]
    assert stack.nested_fields("dense") == stack.nested_fields("conv2d") == stack.nested_fields("nope") == []


def test_a_new_residual_block_keeps_the_width_before_it():
    layers = stack.add_layer([{"type": "dense", "units": 24, "activation": "relu"}], "residual")
    block = layers[-1]
    assert block["type"] == "residual" and [(l["type"], l["units"]) for l in block["layers"]] == [("dense", 24)] * 2
    spec = parse_spec({"layers": layers})
    rows = layer_table(spec, (4,), "binary", 1)
    # dense 4->24 (120), block: two dense 24->24 (600 each) and an identity skip (no projection), output 25
    assert [r.parameters for r in rows] == [0, 120, 1200, 25]
    assert rows[2].output_shape == (24,)


def test_a_residual_block_in_a_conv_stack_starts_with_convolutions_and_nests():
    before = [{"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"}]
    block = stack.new_layer("residual", before)
    assert [(l["type"], l["filters"], l["padding"]) for l in block["layers"]] == [("conv2d", 8, "same")] * 2
    rows = layer_table(parse_spec({"layers": [*before, block, {"type": "flatten"}]}), (1, 8, 8), "multiclass", 3)
    assert rows[2].output_shape == (8, 8, 8)
    inner = stack.add_layer(block["layers"], "residual", before)  # a block inside the block
    assert inner[-1]["layers"][0]["filters"] == 8
    assert stack.new_layer("residual")["layers"][0]["units"] == 32  # nothing before it: a modest width


# ---------------------------------------------------------------- presets, read from assets/presets

def test_presets_come_from_the_shipped_files():
    index = json.loads((stack.PRESET_DIR / "index.json").read_text())
    assert list(stack.PRESETS) == [entry["name"] for entry in index]
    for entry in index:
        shipped = json.loads((stack.PRESET_DIR / entry["file"]).read_text())
        assert stack.preset_layers(entry["name"]) == shipped["layers"]
        assert parse_spec(shipped).layers == parse_spec({"layers": shipped["layers"]}).layers
    assert stack.PRESET_TASKS == {"Autoencoder (anomalies)": "autoencoder", "GAN (synthetic rows)": "gan"}
    assert stack.PRESET_INPUT_KINDS == {"CNN (images)": "image", "LSTM (time series)": "sequence",
                                        "Transformer (time series)": "sequence"}
    assert stack.PRESET_DATASETS["Transformer (time series)"] == "sales"


def test_preset_sections_bring_the_discriminator_and_are_copies():
    sections = stack.preset_sections("GAN (synthetic rows)")
    assert list(sections) == ["gan"] and sections["gan"]["noise_dim"] == 16
    assert [l["type"] for l in sections["gan"]["discriminator"]] == ["dense", "dropout", "dense"]
    sections["gan"]["discriminator"].clear()
    assert stack.preset_sections("GAN (synthetic rows)")["gan"]["discriminator"]
    assert stack.preset_sections("Autoencoder (anomalies)")["autoencoder"]["latent_dim"] == 2
    assert stack.preset_sections("Small MLP") == {}
