"""The neuron view: the weights of a dense network for its diagram, and each hidden neuron's map over the inputs.

For every stack of dense layers on a table (dropout, normalisation and activation layers may sit between
them; they keep the width, so neuron j stays neuron j), the "neurons" probe returns, per dense layer and
the output, the strongest edges (top `MAX_EDGES` by |w| among the drawn neurons, at most
`MAX_NEURONS` a layer) and the biases. With exactly two inputs it adds what TensorFlow Playground
shows: each hidden neuron's activation over the input plane (the boundary view's raw plane) on a coarse
grid, taken by running the model's children in order over the grid in one batch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nnbuilder.model.device import to_model_device
from nnbuilder.model.heads import find_head, get_head
from nnbuilder.train.probes import register_probe
from nnbuilder.views.boundary import feature_plane, grid_axes, grid_rows

MAX_NEURONS = 16  # drawn per layer
MAX_MAP_LAYERS = 6
MAX_EDGES = 300  # per layer
MAP_GRID = 24
DIGITS = 3
FLAT_LAYERS = {"dense", "dropout", "activation", "batchnorm", "layernorm"}  # width-keeping besides dense


def _linear(block: nn.Module) -> nn.Linear:
    """The Linear inside a dense block (nn.Sequential(Linear, activation)) or the head itself."""
    if isinstance(block, nn.Linear):
        return block
    return next(m for m in block.modules() if isinstance(m, nn.Linear))


def top_edges(weight: torch.Tensor, rows: int, cols: int, cap: int = MAX_EDGES) -> list[list]:
    """[[to, from, w], ...] of the `cap` strongest weights among the first `rows` × `cols`, strongest first."""
    flat = weight.detach().float().cpu()[:rows, :cols].numpy().astype(np.float64).ravel()  # (out × in,)
    order = np.argsort(-np.abs(flat), kind="stable")[:cap]
    return [[t, f, w] for t, f, w in zip((order // cols).tolist(), (order % cols).tolist(),
                                         np.round(flat[order], 4).tolist())]


class NeuronsProbe:
    name = "neurons"

    def __init__(self, spec, prepared):
        self.dense = [i for i, layer in enumerate(spec.layers) if layer.type == "dense"]  # child indices
        self.details = [f"{i + 1}. dense · {spec.layers[i].units} units, {spec.layers[i].activation}"
                        for i in self.dense]
        self.names = list(prepared.feature_names)
        one_per_class = get_head(prepared.task).is_classification and prepared.n_outputs > 1  # not a binary logit
        self.output_names = ([str(c) for c in prepared.classes] if one_per_class
                             else [str(t) for t in prepared.target])
        self.plane = feature_plane(prepared) if len(self.names) == 2 else None
        self.rows = None
        if self.plane is not None:
            xs, ys = grid_axes(self.plane, prepared, MAP_GRID)
            self.xs, self.ys, self.rows = xs, ys, grid_rows(self.plane, xs, ys)

    def collect(self, model: nn.Sequential, epoch: int, record: dict) -> dict:
        blocks = [model[i] for i in self.dense] + [model[len(model) - 1]]
        widths = [len(self.names)] + [_linear(b).out_features for b in blocks]
        shown = [min(w, MAX_NEURONS) for w in widths]
        layers = [{"name": "Input", "units": widths[0], "labels": self.names[:shown[0]]}]
        for k, block in enumerate(blocks):
            linear = _linear(block)
            last = k == len(blocks) - 1
            layers.append({
                "name": "Output" if last else self.details[k], "units": widths[k + 1],
                "labels": self.output_names[:shown[k + 1]] if last else [],
                "bias": np.round(linear.bias.detach().double().cpu()[:shown[k + 1]].numpy(), 4).tolist(),
                "edges": top_edges(linear.weight, shown[k + 1], shown[k]),
            })
        data = {"layers": layers, "epoch": epoch}
        if self.rows is not None:
            data["maps"] = self._maps(model)
        return data

    @torch.no_grad()
    def _maps(self, model: nn.Sequential) -> dict:
        """Activation of each drawn hidden neuron over the input plane: (layers, neurons, grid, grid)."""
        wanted = set(self.dense[:MAX_MAP_LAYERS])
        x = to_model_device(self.rows, model)  # (grid², 2)
        maps = []
        for index in range(max(wanted) + 1):
            x = model[index](x)
            if index in wanted:
                out = x[:, :MAX_NEURONS].float().cpu().numpy().T.reshape(-1, MAP_GRID, MAP_GRID)
                maps.append(np.round(out.astype(np.float64), DIGITS).tolist())
        return {"x": np.round(self.xs, 4).tolist(), "y": np.round(self.ys, 4).tolist(),
                "x_label": self.plane.labels[0], "y_label": self.plane.labels[1], "layers": maps}


def applies(spec, prepared) -> bool:
    """A dense stack on a table, without embedded category codes (their front is not a dense layer)."""
    return (prepared is not None and prepared.input_kind == "tabular" and _predicts_a_target(prepared.task)
            and not prepared.embedding_levels and any(layer.type == "dense" for layer in spec.layers)
            and all(layer.type in FLAT_LAYERS for layer in spec.layers))


def _neurons_probe(spec, prepared):
    return NeuronsProbe(spec, prepared) if applies(spec, prepared) else None


register_probe("neurons", _neurons_probe)


def _predicts_a_target(task: str) -> bool:
    """One network with a head on the stack that predicts a target (not a rebuilt input, not a GAN's own nets)."""
    head = find_head(task)
    return head is not None and head.has_network_head and not head.rebuilds_input
