"""The GAN task's networks and what they produce: a generator (noise -> encoded row), a discriminator
(encoded row -> logit, "real" when high) and the way back from encoded rows to a raw-looking table.

The generator writes rows in the preprocessing's encoded space: standardised numbers (a linear output) and,
for each categorical column, a one-hot group. A group is made by a straight-through Gumbel-softmax
(`hard=True`): the forward pass is an exact one-hot row, like the real ones (so the discriminator cannot
tell rows apart by soft values), while the gradient flows through the softmax.

Going back (`decode_rows`): numbers are un-standardised (the fitted StandardScaler's mean and scale), clipped
to the range seen in the training rows and rounded like the real column (whole numbers stay whole); a
one-hot group becomes its category label. Numeric parts derived from a date (year, month, ...) and
categories that stand for a missing value are not generated back: such a column comes out empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from nnbuilder.data.features import MISSING, build_frame
from nnbuilder.errors import SpecError, SpecPath, SpecProblem
from nnbuilder.layers import LAYERS, shape_problem
from nnbuilder.model.compile import LayerRow, count_parameters, layer_detail
from nnbuilder.model.device import model_device


def stack(layers, input_units: int, output_units: int, path: SpecPath) -> nn.Sequential:
    """Hidden layers from the spec (dense, dropout, batch norm ...) and a linear output, on (rows, features)."""
    blocks, shape, problems = [], (input_units,), []
    for index, layer in enumerate(layers):
        try:
            out = tuple(LAYERS[layer.type].output_shape(layer, shape))
        except ValueError as exc:
            problems.append(shape_problem((*path, index), layer, exc))
            continue
        if len(out) != 1:
            problems.append(SpecProblem((*path, index), "the GAN works on rows of features, so every layer must keep "
                                        f"one dimension; got shape {out}: use dense, dropout or batch norm layers",
                                        layer.type))
            continue
        blocks.append(LAYERS[layer.type].build(layer, shape))
        shape = out
    if problems:
        raise SpecError(problems)
    blocks.append(nn.Linear(shape[0], output_units))
    return nn.Sequential(*blocks)


class Generator(nn.Module):
    """(rows, noise_dim) noise -> (rows, features) encoded rows; categorical groups are one-hot."""

    def __init__(self, spec, layout: dict):
        super().__init__()
        self.noise_dim = spec.gan_settings.noise_dim
        self.n_numeric = len(layout["numeric"])
        self.groups = [len(group["categories"]) for group in layout["categorical"]]
        self.net = stack(spec.layers, self.noise_dim, self.n_numeric + sum(self.groups), ("layers",))

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        raw = self.net(noise)  # (rows, features)
        parts, start = [raw[:, :self.n_numeric]], self.n_numeric
        for size in self.groups:  # (rows, size) one-hot forward, softmax gradient backward
            parts.append(F.gumbel_softmax(raw[:, start:start + size], tau=1.0, hard=True))
            start += size
        return torch.cat(parts, dim=1)


def build_generator(spec, layout: dict) -> Generator:
    return Generator(spec, layout)


def build_discriminator(spec, n_features: int) -> nn.Sequential:
    return stack(spec.gan_settings.discriminator, n_features, 1, ("gan", "discriminator"))


def gan_layer_table(spec, prepared) -> list:
    """The generator's rows (noise in, each hidden layer, the generated row) then the discriminator's."""
    layout = output_layout(prepared)
    n_features = len(prepared.feature_names)
    with torch.device("meta"):  # parameter counts without allocating anything
        generator, discriminator = build_generator(spec, layout), build_discriminator(spec, n_features)
    noise = spec.gan_settings.noise_dim
    rows = [LayerRow("Noise", "input", (noise,), 0, f"{noise} random numbers per generated row")]
    for prefix, layers, net in (("", spec.layers, generator.net), ("Disc ", spec.gan_settings.discriminator,
                                                                   discriminator)):
        shape = (n_features,) if prefix else (noise,)
        for index, (layer, block) in enumerate(zip(layers, net)):
            shape = tuple(LAYERS[layer.type].output_shape(layer, shape))
            rows.append(LayerRow(f"{prefix}{index + 1}. {layer.type}", layer.type, shape, count_parameters(block),
                                 layer_detail(layer)))
        if prefix:
            rows.append(LayerRow("Disc output", "output", (1,), count_parameters(net[-1]),
                                 "1 unit, sigmoid (real or generated)"))
        else:
            groups = len(layout["categorical"])
            rows.append(LayerRow("Generated row", "output", (n_features,), count_parameters(net[-1]),
                                 f"{n_features} features: {len(layout['numeric'])} numbers (linear)"
                                 + (f", {groups} one-hot group(s) (Gumbel-softmax)" if groups else "")))
    return rows


def output_layout(prepared) -> dict:
    """Where each raw column lives in the encoded row and how to turn it back (JSON-able, saved in a bundle)."""
    layout = {"numeric": [], "categorical": [], "columns": list(prepared.feature_columns)}
    raw = prepared.raw_test
    index = 0
    for kind, transformer, columns in prepared.preprocessor.transformers_:
        if kind == "numeric":
            scaler = transformer.named_steps["scale"]
            for k, column in enumerate(columns):
                entry = {"name": column, "index": index, "mean": float(scaler.mean_[k]),
                         "scale": float(scaler.scale_[k]), "column": column if column in raw.columns else None}
                if entry["column"] is not None:
                    values = pd.to_numeric(raw[column], errors="coerce")
                    entry["integer"] = bool(pd.api.types.is_integer_dtype(raw[column]))
                    entry["decimals"] = _decimals(values.dropna().to_numpy())
                layout["numeric"].append(entry)
                index += 1
        elif kind == "categorical":
            encoder = transformer.named_steps["onehot"]
            for column, categories in zip(columns, encoder.categories_):
                layout["categorical"].append({"column": column, "index": index,
                                              "categories": [_plain(c) for c in categories]})
                index += len(categories)
    return layout


def with_ranges(layout: dict, X_train: np.ndarray) -> dict:
    """Adds each numeric feature's training range (encoded units), to clip generated numbers into."""
    for entry in layout["numeric"]:
        column = X_train[:, entry["index"]] if len(X_train) else np.zeros(1)
        entry["low"], entry["high"] = float(column.min()), float(column.max())
    return layout


@torch.no_grad()
def generate_encoded(generator: Generator, n: int, seed: int) -> np.ndarray:
    """(n, features) encoded rows; the same seed gives the same rows."""
    generator.eval()
    device = model_device(generator)
    rng = torch.Generator(device="cpu").manual_seed(int(seed))
    noise = torch.randn(n, generator.noise_dim, generator=rng).to(device)
    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))  # the Gumbel noise of the categorical groups
    try:
        return generator(noise).cpu().numpy()
    finally:
        torch.random.set_rng_state(state)


def decode_rows(encoded: np.ndarray, layout: dict) -> pd.DataFrame:
    """Encoded rows -> a table with the real columns (see the module docstring)."""
    out = {}
    for entry in layout["numeric"]:
        if entry.get("column") is None:
            continue  # a date part: not generated back
        values = np.clip(encoded[:, entry["index"]], entry.get("low", -np.inf), entry.get("high", np.inf))
        values = values * entry["scale"] + entry["mean"]
        out[entry["column"]] = (np.round(values).astype(np.int64) if entry.get("integer")
                                else np.round(values, entry.get("decimals", 6)))
    for group in layout["categorical"]:
        size = len(group["categories"])
        picks = encoded[:, group["index"]:group["index"] + size].argmax(axis=1)
        labels = np.asarray(group["categories"], dtype=object)[picks]
        out[group["column"]] = np.where(labels == MISSING, None, labels)
    columns = [c for c in layout["columns"] if c in out]
    return pd.DataFrame({c: out[c] for c in columns})


def comparable_rows(df: pd.DataFrame, prepared) -> pd.DataFrame:
    """Real rows written like generated ones, for the quality report: numbers as read (inf -> missing) and
    categories as the encoder sees them (e.g. a yes/no column as true/false), in the generated columns."""
    frame, numeric, categorical = build_frame(df, {c.name: c for c in prepared.columns}, prepared.feature_columns)
    out = {c: frame[c] for c in numeric if c in prepared.feature_columns}
    out |= {c: frame[c].where(frame[c] != MISSING, None) for c in categorical}
    return pd.DataFrame({c: out[c] for c in prepared.feature_columns if c in out}).reset_index(drop=True)


def _decimals(values: np.ndarray) -> int:
    """How many decimals the real numbers show (at most 6), so generated ones look alike."""
    for decimals in range(7):
        if len(values) == 0 or np.allclose(values, np.round(values, decimals), atol=1e-9):
            return decimals
    return 6


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
