"""Inside the training: per-layer weight and gradient histograms, norms, dead ReLUs and the learning rate.

Registers the probe "internals" (nnbuilder.train.probes) for every task the Trainer runs (not the GAN, whose
loop is its own). Each collection takes a FIXED batch of up to 256 training rows, chosen once with a
seeded generator, and runs one forward and one backward pass with the task's loss to read gradients:
the optimizer is never touched and every `p.grad` is cleared before and after, so the run trains the
same weights with or without this view. The model is in eval mode (the runner sets it), so dropout is
off and batch normalisation neither uses nor updates batch statistics.

A "layer" is one child of the compiled `nn.Sequential`, named as in the layer table ("1. dense",
"Embeddings", "Output" ...); its weights are the parameters called *weight* with two or more
dimensions (linear, convolution, recurrent, attention, embedding tables; not the norms' scales).
Histograms have 32 bins over [-R, R], R a power of two that only grows: when it doubles, the older
histograms are merged pairwise into the middle half of the new bins, exactly, so every epoch of a
layer is drawn on the same bins. The probe keeps its own history, thinned evenly beyond a cap so the
JSON stays small, and returns a fresh copy each time (the page reads it from another thread).
`gradient_flags` turns the latest numbers into warnings in words, with the next step to try.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from nnbuilder.train.probes import register_probe
from nnbuilder.model.heads import find_head, get_head
from nnbuilder.model.device import to_model_device

BINS = 32  # even, so a doubled range merges old bins pairwise into the middle 16
PROBE_ROWS = 256
MAX_EPOCHS = 60  # history entries kept at most
MAX_CELLS = 600  # layers × entries kept at most: about 400 bytes of JSON each, so < 300 kB in all
RELU_TYPES = (nn.ReLU, nn.ReLU6)  # units that output exactly 0 below their threshold can die
VANISHING_RELATIVE, VANISHING_ABSOLUTE = 1e-5, 1e-7
EXPLODING_NORM, EXPLODING_GROWTH = 1e3, 10.0  # growth: per epoch, between the last two collections
DEAD_SHARE = 0.5


@dataclass
class _Layer:
    name: str  # as in the layer table
    kind: str  # the layer type ("dense", "conv2d", "output" ...)
    weights: list[nn.Parameter]
    relus: list[nn.Module]
    n_weights: int = 0
    relu_units: int = 0  # learnt at the first collection, from the activations' shapes
    history: dict = field(default_factory=lambda: {key: [] for key in _SERIES})
    ranges: dict = field(default_factory=lambda: {"weight": 0.0, "grad": 0.0})


_SERIES = ("weight_hist", "grad_hist", "weight_norm", "grad_norm", "ratio", "dead")


class InternalsProbe:
    """Weights, gradients and dead units of each layer on a fixed probe batch, one entry per collected epoch."""

    name = "internals"

    def __init__(self, x: np.ndarray, y: np.ndarray, task: str, names: list[tuple[str, str]], schedule: str):
        self.x_rows, self.y_rows = x, y  # numpy until the first collection tells us the device
        self.task, self.names, self.schedule = task, names, schedule
        self.loss_fn = get_head(task).loss()
        self.epochs: list[int] = []
        self.lr: list[float] = []
        self._model_id, self._layers, self._batch = None, [], None

    # ---- one collection -------------------------------------------------------------------
    def collect(self, model: nn.Module, epoch: int, record: dict) -> dict:
        if self._model_id != id(model):  # another model: its history starts afresh
            self._layers, self._model_id, self.epochs, self.lr = self._map_layers(model), id(model), [], []
        if self._batch is None:
            self._batch = self._tensors(model)
        was_training = model.training
        model.eval()  # the runner does this too; a direct caller must not update batch-norm statistics
        try:
            weights, grads, dead = self._measure(model)
        finally:
            model.train(was_training)
        if self.epochs and self.epochs[-1] == epoch:  # the final collection (best weights) after the last epoch's
            self._drop(len(self.epochs) - 1)
        self.epochs.append(int(epoch))
        self.lr.append(float(record.get("lr", math.nan)))
        for layer, w, g, d in zip(self._layers, weights, grads, dead):
            self._record(layer, w, g, d)
        self._thin()
        return self.views()

    def _measure(self, model: nn.Module) -> tuple[list, list, list]:
        """Per layer: flat weights, flat gradients (None without weights) and the dead share (None without ReLUs)."""
        x, y = self._batch
        params = list(model.parameters())
        alive: dict[int, torch.Tensor] = {}
        hooks = [relu.register_forward_hook(_alive_hook(alive, id(relu)))
                 for layer in self._layers for relu in layer.relus]
        for p in params:
            p.grad = None
        try:
            with torch.enable_grad(), _rnn_backward_allowed(model):
                self.loss_fn(model(x), y).backward()
            weights, grads = [], []
            for layer in self._layers:
                if not layer.weights:
                    weights.append(None)
                    grads.append(None)
                    continue
                weights.append(torch.cat([p.detach().reshape(-1) for p in layer.weights]).float())
                grads.append(torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                                        for p in layer.weights]).float())
        finally:
            for hook in hooks:
                hook.remove()
            for p in params:
                p.grad = None  # the optimizer must see only the training step's gradients
        dead = []
        for layer in self._layers:
            masks = [alive[id(relu)] for relu in layer.relus if id(relu) in alive]
            units = sum(int(m.numel()) for m in masks)
            layer.relu_units = units
            dead.append(1.0 - float(sum(int(m.sum()) for m in masks)) / units if units else None)
        return weights, grads, dead

    def _record(self, layer: _Layer, w, g, dead) -> None:
        h = layer.history
        h["dead"].append(None if dead is None else round(dead, 4))
        if w is None:
            for key in ("weight_hist", "grad_hist", "weight_norm", "grad_norm", "ratio"):
                h[key].append(None)
            return
        w_norm, g_norm = float(w.norm()), float(g.norm())
        for which, values in (("weight", w), ("grad", g)):
            counts = self._histogram(layer, which, values)  # first: a wider range replaces the older lists
            h[f"{which}_hist"].append(counts)
        h["weight_norm"].append(_short(w_norm))
        h["grad_norm"].append(_short(g_norm))
        h["ratio"].append(_short(g_norm / w_norm) if w_norm > 0 else None)

    def _histogram(self, layer: _Layer, which: str, values: torch.Tensor) -> list[int]:
        finite = values[torch.isfinite(values)]
        top = float(finite.abs().max()) if finite.numel() else 0.0
        old = layer.ranges[which]
        if top > old:
            new = 2.0 ** math.ceil(math.log2(top))
            if old > 0:  # re-bin the older histograms onto the wider range, exactly
                key = f"{which}_hist"
                doublings = round(math.log2(new / old))
                layer.history[key] = [None if h is None else _widen(h, doublings) for h in layer.history[key]]
            layer.ranges[which] = new
        span = layer.ranges[which] or 1.0
        return [int(c) for c in torch.histc(finite, bins=BINS, min=-span, max=span).tolist()]

    # ---- history ------------------------------------------------------------------------
    def _drop(self, index: int) -> None:
        del self.epochs[index], self.lr[index]
        for layer in self._layers:
            for series in layer.history.values():
                del series[index]

    def _thin(self) -> None:
        """Beyond the cap keep every other entry (the first and the latest always): older epochs get sparser."""
        cap = max(8, min(MAX_EPOCHS, MAX_CELLS // max(1, len(self._layers))))
        if len(self.epochs) <= cap:
            return
        keep = sorted(set(range(0, len(self.epochs) - 1, 2)) | {len(self.epochs) - 1})
        self.epochs = [self.epochs[i] for i in keep]
        self.lr = [self.lr[i] for i in keep]
        for layer in self._layers:
            for key, series in layer.history.items():
                layer.history[key] = [series[i] for i in keep]

    def views(self) -> dict:
        """The whole history as fresh JSON-able lists, and the flags it raises."""
        data = {
            "bins": BINS, "epochs": list(self.epochs), "lr": list(self.lr), "schedule": self.schedule,
            "layers": [{"name": l.name, "kind": l.kind, "weights": l.n_weights, "relu_units": l.relu_units,
                        "weight_range": l.ranges["weight"], "grad_range": l.ranges["grad"],
                        **{key: [list(v) if isinstance(v, list) else v for v in l.history[key]] for key in _SERIES}}
                       for l in self._layers],
        }
        data["flags"] = gradient_flags(data)
        return data

    # ---- set-up ---------------------------------------------------------------------------
    def _map_layers(self, model: nn.Module) -> list[_Layer]:
        layers = []
        for index, child in enumerate(model.children()):
            name, kind = self.names[index] if index < len(self.names) else (f"{index + 1}. {type(child).__name__}",
                                                                              type(child).__name__.lower())
            weights = [p for n, p in child.named_parameters() if p.dim() >= 2 and "weight" in n.rsplit(".", 1)[-1]]
            relus = [m for m in child.modules() if isinstance(m, RELU_TYPES)]
            if weights or relus:
                layers.append(_Layer(name, kind, weights, relus, sum(p.numel() for p in weights)))
        return layers

    def _tensors(self, model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        x = to_model_device(self.x_rows, model)
        head = get_head(self.task)
        if head.rebuilds_input:  # e.g. an autoencoder: the target is the input
            return x, x
        return x, head.shape_target(to_model_device(self.y_rows, model, dtype=None))


def _alive_hook(alive: dict, key: int):
    """Forward hook: which units (features, or channels of an image) were positive for any probe row."""
    def hook(module, inputs, out):
        out = out.detach()
        reduce = [d for d in range(out.dim()) if d != (1 if out.dim() == 4 else out.dim() - 1)]
        positive = (out > 0).amax(dim=reduce) if reduce else out > 0  # (units,)
        alive[key] = alive[key] | positive if key in alive else positive  # a module used twice
    return hook


def _rnn_backward_allowed(model: nn.Module):
    """cuDNN refuses a recurrent backward pass in eval mode; the native kernels allow it (only GPUs care)."""
    on_gpu = next(model.parameters()).is_cuda
    if on_gpu and any(isinstance(m, nn.RNNBase) for m in model.modules()):
        return torch.backends.cudnn.flags(enabled=False)
    return contextlib.nullcontext()


def _widen(hist: list[int], doublings: int) -> list[int]:
    """Counts on [-R, R] -> counts on [-2^k R, 2^k R]: neighbours merge, zeros pad both sides."""
    for _ in range(doublings):
        merged = [hist[i] + hist[i + 1] for i in range(0, BINS, 2)]
        pad = [0] * (BINS // 4)
        hist = pad + merged + pad
    return hist


def _short(value: float) -> float | None:
    """Four significant digits keep the JSON small; non-finite numbers become None (JSON has no NaN)."""
    return float(f"{value:.4g}") if math.isfinite(value) else None


# ---- flags in words ---------------------------------------------------------------------------
def gradient_flags(views: dict) -> list[str]:
    """Warnings about the latest collection: vanishing or exploding gradients and dead ReLUs, each with a fix."""
    layers = [l for l in views.get("layers", []) if l.get("grad_norm")]
    if not layers:
        return []
    flags = []
    norms = {l["name"]: l["grad_norm"][-1] for l in layers if l["grad_norm"][-1] is not None}
    top_name = max(norms, key=norms.get) if norms else None
    top = norms.get(top_name, 0.0)
    vanishing = [name for name, g in norms.items()
                 if g < VANISHING_ABSOLUTE or g < VANISHING_RELATIVE * top]
    if vanishing:
        worst = min(vanishing, key=norms.get)
        flags.append(f"layer{'s' * (len(vanishing) > 1)} {', '.join(vanishing)} get{'s' * (len(vanishing) == 1)} "
                     f"almost no gradient (vanishing gradients: norm {norms[worst]:.1e} in {worst} against "
                     f"{top:.1e} in {top_name}): try relu/leaky_relu instead of sigmoid/tanh, batch normalisation, "
                     "or fewer layers")
    exploding = _exploding(layers, views.get("epochs", []))
    if exploding:
        lr = (views.get("lr") or [math.nan])[-1]
        lower = f" (e.g. to {lr / 10:g})" if isinstance(lr, float) and math.isfinite(lr) else ""
        flags.append(f"layer{'s' * (len(exploding) > 1)} {', '.join(exploding)}: the gradients are exploding "
                     f"({'; '.join(exploding.values())}): lower the learning rate{lower}, add batch or layer "
                     "normalisation, or use fewer layers")
    for layer in views.get("layers", []):
        dead = (layer.get("dead") or [None])[-1]
        if dead is not None and dead > DEAD_SHARE:
            flags.append(f"layer {layer['name']}: {dead:.0%} of its ReLU units are dead (they output 0 for every "
                         "probe row, so they no longer learn): lower the learning rate or use leaky_relu")
    return flags


def _exploding(layers: list[dict], epochs: list[int]) -> dict[str, str]:
    """name -> why, for layers whose gradient norm is huge or grows 10× per epoch (from at least 1: a tiny
    gradient waking up is no explosion)."""
    found = {}
    for layer in layers:
        series = layer["grad_norm"]
        g = series[-1]
        if g is None:
            continue
        if g > EXPLODING_NORM:
            found[layer["name"]] = f"norm {g:.1e}"
        elif len(series) > 1 and series[-2] and len(epochs) > 1 and epochs[-1] > epochs[-2] and g >= 1.0:
            growth = (g / series[-2]) ** (1.0 / (epochs[-1] - epochs[-2]))
            if growth >= EXPLODING_GROWTH:
                found[layer["name"]] = f"norm {g:.1e}, growing {growth:.0f}× per epoch"
    return found


# ---- registration -----------------------------------------------------------------------------
def make_internals_probe(spec, prepared) -> InternalsProbe | None:
    """The probe for this run, or None where the Trainer does not run (GAN) or there is nothing to show."""
    head = None if prepared is None else find_head(prepared.task)
    if head is None or not head.has_network_head or len(prepared.X_train) == 0:
        return None
    from nnbuilder.model.compile import layer_table  # the compiler imports the layer registry: only when a probe is made

    rows = layer_table(spec, prepared.input_shape, prepared.task, prepared.n_outputs,
                       embeddings=prepared.embedding_levels)
    names = [(row.name, row.type) for row in rows[1:]]  # one per model child: [Embeddings,] hidden ..., Output
    rng = np.random.default_rng(spec.training.seed)
    n = len(prepared.X_train)
    index = np.sort(rng.choice(n, size=min(PROBE_ROWS, n), replace=False))
    y = None if head.rebuilds_input else prepared.y_train[index]
    return InternalsProbe(prepared.X_train[index], y, prepared.task, names, spec.training.lr_schedule)


register_probe("internals", make_internals_probe)
