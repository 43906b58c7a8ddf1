"""Pure edits of the hidden-layer stack and the mapping of problems to layer editors."""




from nnbuilder.compile import layer_table
from nnbuilder.spec import parse_spec
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


def test_cnn_preset_is_valid_on_digits_and_matches_the_shipped_spec():
    import json
    from pathlib import Path

    from nnbuilder.data import load_table, prepare
    from nnbuilder.workflow import describe_network

    df, _ = load_table("sample:digits")
    spec = parse_spec({"data": {"target": "digit"}, "input": {"kind": "image"},
                       "layers": stack.preset_layers("CNN (images)")})
    rows = describe_network(spec, prepare(df, spec.data, input=spec.input))
    assert rows[0].output_shape == (1, 8, 8) and rows[-1].output_shape == (10,)
    shipped = json.loads((Path(__file__).resolve().parents[1] / "assets" / "presets" / "cnn_digits.json").read_text())
    assert parse_spec(shipped).layers == spec.layers


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
        "layers[2].rate must be in [0, 1); got 1.5",
        "layers[0] (dense): does not fit",
        "training.learning_rate must be in (0, 10]; got 100",
    ])
    assert by_layer == {2: ["layers[2].rate must be in [0, 1); got 1.5"], 0: ["layers[0] (dense): does not fit"]}
    assert general == ["training.learning_rate must be in (0, 10]; got 100"]


def test_lstm_preset_is_valid_on_sales_and_matches_the_shipped_spec():
    import json
    from pathlib import Path

    from nnbuilder.data import load_table, prepare
    from nnbuilder.workflow import describe_network

    shipped = json.loads((Path(__file__).resolve().parents[1] / "assets" / "presets" / "lstm_timeseries.json").read_text())
    df, _ = load_table("sample:sales")
    spec = parse_spec({"data": {"target": "sales"}, "input": shipped["input"],
                       "layers": stack.preset_layers("LSTM (time series)")})
    prepared = prepare(df, spec.data, input=spec.input)
    rows = describe_network(spec, prepared)
    assert prepared.task == "forecast" and rows[0].output_shape == (14, 3) and rows[-1].output_shape == (1,)
    assert parse_spec(shipped).layers == spec.layers


def test_autoencoder_preset_is_valid_on_transactions_and_matches_the_shipped_spec():
    import json
    from pathlib import Path

    from nnbuilder.data import load_table, prepare
    from nnbuilder.workflow import describe_network

    shipped = json.loads((Path(__file__).resolve().parents[1] / "assets" / "presets" /
                          "autoencoder_anomalies.json").read_text())
    df, _ = load_table("sample:transactions")
    name = "Autoencoder (anomalies)"
    spec = parse_spec({"data": {"target": "is_anomaly", "task": stack.PRESET_TASKS[name]},
                       "layers": stack.preset_layers(name)})
    prepared = prepare(df, spec.data, input=spec.input)
    rows = describe_network(spec, prepared)
    assert prepared.task == "autoencoder" and [r.name for r in rows][3] == "Latent"
    assert rows[0].output_shape == rows[-1].output_shape == (8,)
    assert parse_spec(shipped).layers == spec.layers


def test_mirrored_layers_seed_an_editable_decoder():
    layers = [{"type": "dropout", "rate": 0.1}, {"type": "dense", "units": 16, "activation": "tanh"},
              {"type": "batchnorm"}, {"type": "dense", "units": 8}]
    assert stack.mirrored_layers(layers) == [{"type": "dense", "units": 8, "activation": "relu"},
                                             {"type": "dense", "units": 16, "activation": "tanh"},
                                             {"type": "batchnorm"}]
    assert stack.mirrored_layers([{"type": "conv1d"}]) == []
    assert stack.mirrored_layers([{"type": "nope"}]) == []


def test_gan_preset_sets_the_task_and_matches_the_shipped_spec():
    import json
    from pathlib import Path

    from nnbuilder.spec import parse_spec

    assert stack.PRESET_TASKS["GAN (synthetic rows)"] == "gan"
    shipped = json.loads((Path(__file__).resolve().parents[1] / "assets" / "presets" /
                          "gan_synthetic_rows.json").read_text())
    assert parse_spec(shipped).layers == parse_spec({"layers": stack.preset_layers("GAN (synthetic rows)")}).layers
