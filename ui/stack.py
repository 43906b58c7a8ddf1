"""Pure edits of the hidden-layer stack (lists of layer dicts) and of problem lists.

The Build page calls these on the spec dict's `layers`; they never validate (the
engine does) and never touch Streamlit, so they are unit-tested directly.
"""

from __future__ import annotations

import re
from collections import defaultdict

from nnbuilder.compile import mirror
from nnbuilder.errors import SpecError
from nnbuilder.layers import LAYERS

PRESETS: dict[str, list[dict]] = {
    "Perceptron / logistic regression": [],
    "Small MLP": [
        {"type": "dense", "units": 16, "activation": "relu"},
    ],
    "Deep MLP": [
        {"type": "dense", "units": 64, "activation": "relu"},
        {"type": "batchnorm"},
        {"type": "dense", "units": 64, "activation": "relu"},
        {"type": "dropout", "rate": 0.1},
        {"type": "dense", "units": 32, "activation": "relu"},
        {"type": "dense", "units": 16, "activation": "relu"},
    ],
    "Wide MLP": [
        {"type": "dense", "units": 256, "activation": "relu"},
        {"type": "dropout", "rate": 0.2},
    ],
    # Needs the image input (Data page); the same stack as assets/presets/cnn_digits.json.
    "CNN (images)": [
        {"type": "conv2d", "filters": 16, "kernel_size": 3, "stride": 1, "padding": "same", "activation": "relu"},
        {"type": "maxpool2d", "pool_size": 2},
        {"type": "conv2d", "filters": 32, "kernel_size": 3, "stride": 1, "padding": "same", "activation": "relu"},
        {"type": "flatten"},
        {"type": "dense", "units": 64, "activation": "relu"},
    ],
    # Needs the sequence input (Data page); the same stack as assets/presets/lstm_timeseries.json.
    "LSTM (time series)": [
        {"type": "lstm", "units": 32, "layers": 1, "bidirectional": False, "return_sequences": False, "dropout": 0.0},
    ],
    # The encoder of the autoencoder task (Data page); the same stack as assets/presets/autoencoder_anomalies.json.
    "Autoencoder (anomalies)": [
        {"type": "dense", "units": 16, "activation": "tanh"},
        {"type": "dense", "units": 8, "activation": "tanh"},
    ],
    # The generator of the GAN task (Data page); the same stack as assets/presets/gan_synthetic_rows.json.
    "GAN (synthetic rows)": [
        {"type": "dense", "units": 64, "activation": "leaky_relu"},
        {"type": "dense", "units": 64, "activation": "leaky_relu"},
    ],
}

# The task a preset is made for (Data page); the others suit any task.
PRESET_TASKS: dict[str, str] = {"Autoencoder (anomalies)": "autoencoder", "GAN (synthetic rows)": "gan"}

# The input kind a preset is made for (Data page); the others are for tables.
PRESET_INPUT_KINDS: dict[str, str] = {"CNN (images)": "image", "LSTM (time series)": "sequence"}

_LAYER_PATH = re.compile(r"^layers\[(\d+)\]")


def new_layer(layer_type: str) -> dict:
    """A layer dict with every setting at its spec default."""
    return LAYERS[layer_type].spec().model_dump(mode="json")


def add_layer(layers: list[dict], layer_type: str) -> list[dict]:
    return [*layers, new_layer(layer_type)]


def move_layer(layers: list[dict], index: int, offset: int) -> list[dict]:
    """Swap layer `index` with its neighbour `index + offset`; out-of-range moves change nothing."""
    target = index + offset
    if not (0 <= index < len(layers) and 0 <= target < len(layers)):
        return list(layers)
    out = list(layers)
    out[index], out[target] = out[target], out[index]
    return out


def delete_layer(layers: list[dict], index: int) -> list[dict]:
    return [layer for i, layer in enumerate(layers) if i != index]


def preset_layers(name: str) -> list[dict]:
    return [dict(layer) for layer in PRESETS[name]]


def mirrored_layers(layers: list[dict]) -> list[dict]:
    """The autoencoder decoder that mirrors this encoder, as layer dicts to edit; [] when it cannot be mirrored."""
    try:
        parsed = [(str(i), LAYERS[layer["type"]].spec.model_validate(
            {k: v for k, v in layer.items() if k != "type"} | {"type": layer["type"]})) for i, layer in enumerate(layers)]
        return [layer.model_dump(mode="json") for _, layer in mirror(parsed)]
    except (KeyError, ValueError, SpecError):  # an unknown or invalid layer: nothing sensible to copy
        return []


def dropout_rate(layers: list[dict]) -> float:
    """The rate of the first dropout layer, 0 when there is none."""
    return next((float(layer.get("rate", 0.0)) for layer in layers if layer.get("type") == "dropout"), 0.0)


def set_dropout(layers: list[dict], rate: float) -> list[dict]:
    """Every dropout layer gets `rate`; with none and rate > 0, one is added after each dense layer
    (or as the only layer of a perceptron, where it drops inputs)."""
    if any(layer.get("type") == "dropout" for layer in layers):
        return [{**layer, "rate": rate} if layer.get("type") == "dropout" else dict(layer) for layer in layers]
    if rate <= 0:
        return [dict(layer) for layer in layers]
    out: list[dict] = []
    for layer in layers:
        out.append(dict(layer))
        if layer.get("type") == "dense":
            out.append({"type": "dropout", "rate": rate})
    return out if len(out) > len(layers) else [{"type": "dropout", "rate": rate}, *out]


def split_problems(problems: list[str]) -> tuple[dict[int, list[str]], list[str]]:
    """Problems naming `layers[i]` go to layer i's editor; the rest are returned as general ones."""
    by_layer: dict[int, list[str]] = defaultdict(list)
    general: list[str] = []
    for problem in problems:
        match = _LAYER_PATH.match(problem)
        if match:
            by_layer[int(match.group(1))].append(problem)
        else:
            general.append(problem)
    return dict(by_layer), general


def problems_under(problems: list[str], prefix: str) -> list[str]:
    """Problems whose dotted path starts with `prefix` (e.g. "training", "data")."""
    return [p for p in problems if p.startswith(prefix)]
