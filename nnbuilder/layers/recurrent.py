"""The recurrent family: simple RNN, LSTM and GRU over sequence input.

A sequence sample is `(T, F)`: T time steps of F features, batch first. torch's
recurrent modules return `(outputs, state)` tuples, which an `nn.Sequential`
cannot pass on, so each is wrapped in `RecurrentBlock`, which returns one tensor:
every step's output (`return_sequences`) or only the final state.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import nn

from nnbuilder.layers.registry import LayerSpecBase, LayerType, Shape, register_layer


def sequence_shape(layer: str, shape: Shape) -> tuple[int, int]:
    """(T, F) of a sequence input, or a ValueError that says what came instead and how to fix it."""
    if len(shape) == 2:
        return shape[0], shape[1]
    wanted = f"{layer} needs sequence input (time steps × features)"
    if len(shape) == 1:
        # A flat vector is either a table row or the output of a layer that kept only the last step/pooled.
        # A conv1d reads a flat row as a one-feature signal, so it turns ordered columns into a sequence.
        raise ValueError(
            f"{wanted}, but gets a flat vector of {shape[0]} values per sample: if the data is tabular, put a "
            "conv1d layer first (it reads the columns in order as a sequence); if a recurrent layer comes before "
            "it, turn on its return_sequences (for a transformer_encoder before it, set pooling to none); for a "
            "time series, choose the sequence input on the Data page"
        )
    if len(shape) == 3:
        raise ValueError(
            f"{wanted}, but the data is images (channels × height × width = {' × '.join(map(str, shape))}): "
            "use conv2d and pooling layers for images, or choose the tabular input on the Data page"
        )
    raise ValueError(f"{wanted}, but gets values shaped {shape}: put a flatten or conv1d layer before it")


class _RecurrentSpec(LayerSpecBase):
    # `type` is narrowed to a literal by each subclass; declaring it here keeps it first in the JSON.
    type: str
    units: int = Field(
        64, ge=1, le=4096,
        description="Size of the memory (hidden state) carried from step to step. More units remember richer "
        "patterns but overfit small data and train slower; too few and the layer forgets what mattered.",
        json_schema_extra={"ui": {"step": 8}},
    )
    layers: int = Field(
        1, ge=1, le=4,
        description="Recurrent layers stacked inside this block, each reading every step of the one below. More (2-3) "
        "can learn more abstract patterns but train slowly and overfit small data; fewer (1) is usually enough "
        "for short, simple sequences.",
    )
    bidirectional: bool = Field(
        False,
        description="Also read the sequence backwards and join both readings, doubling the outputs and the "
        "parameters. Helps when the whole sequence is known up front (classifying it); wrong for forecasting, "
        "where the layer must not see the future.",
    )
    return_sequences: bool = Field(
        False,
        description="On: output every time step (time steps × units), needed when another recurrent or "
        "transformer layer follows. Off: output only the final state (units), what a dense layer or the output "
        "layer expects.",
    )
    dropout: float = Field(
        0.0, ge=0.0, lt=1.0,
        description="Fraction of values zeroed between the stacked layers while training (no effect when "
        "layers is 1). Fights overfitting; too high and the network underfits, too low (0) lets a big stack "
        "memorise small data.",
        json_schema_extra={"ui": {"step": 0.05}},
    )


class RNNSpec(_RecurrentSpec):
    type: Literal["rnn"] = "rnn"


class LSTMSpec(_RecurrentSpec):
    type: Literal["lstm"] = "lstm"


class GRUSpec(_RecurrentSpec):
    type: Literal["gru"] = "gru"


_MODULES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentBlock(nn.Module):
    """An nn.RNN/LSTM/GRU (batch first) that returns a tensor instead of a tuple.

    Without `return_sequences` it returns the final hidden state of the top layer in
    each direction, concatenated (forward then backward): the forward direction's
    state after the last step and the backward direction's state after the first
    step, the standard choice (Keras does the same). For one direction this equals
    the output at the last step.
    """

    def __init__(self, kind: str, features: int, units: int, layers: int,
                 bidirectional: bool, dropout: float, return_sequences: bool):
        super().__init__()
        # torch warns (and does nothing) for dropout with a single layer, so pass 0 there.
        self.rnn = _MODULES[kind](features, units, num_layers=layers, batch_first=True,
                                  bidirectional=bidirectional, dropout=dropout if layers > 1 else 0.0)
        self.directions = 2 if bidirectional else 1
        self.return_sequences = return_sequences

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, T, F)
        outputs, state = self.rnn(x)  # outputs: (batch, T, units × directions)
        if self.return_sequences:
            return outputs
        hidden = state[0] if isinstance(state, tuple) else state  # LSTM's state is (h, c); h: (layers × dirs, batch, units)
        top = hidden[-self.directions:]  # the top layer's directions: (dirs, batch, units)
        return top.transpose(0, 1).reshape(x.shape[0], -1)  # (batch, dirs × units)


def _output_shape(spec: _RecurrentSpec, shape: Shape) -> Shape:
    steps, _ = sequence_shape(spec.type, shape)
    width = spec.units * (2 if spec.bidirectional else 1)
    return (steps, width) if spec.return_sequences else (width,)


def _build(spec: _RecurrentSpec, shape: Shape) -> nn.Module:
    _, features = sequence_shape(spec.type, shape)
    return RecurrentBlock(spec.type, features, spec.units, spec.layers, spec.bidirectional, spec.dropout,
                          spec.return_sequences)


register_layer(LayerType(
    "rnn", RNNSpec, "Simple RNN",
    "Reads a sequence one step at a time, keeping a running memory; simple, but it forgets after a few dozen steps.",
    output_shape=_output_shape,
    build=_build,
))
register_layer(LayerType(
    "lstm", LSTMSpec, "LSTM (long short-term memory)",
    "A recurrent layer with gates that decide what to keep and what to forget, so it remembers over long sequences.",
    output_shape=_output_shape,
    build=_build,
))
register_layer(LayerType(
    "gru", GRUSpec, "GRU (gated recurrent unit)",
    "A lighter LSTM with two gates instead of three: often as accurate, with fewer parameters and faster training.",
    output_shape=_output_shape,
    build=_build,
))
