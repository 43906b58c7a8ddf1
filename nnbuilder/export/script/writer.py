"""Export format `python`: a readable, standalone PyTorch training script generated from a bundle.

The bridge from no-code to code: `export(bundle, out, check_rows)` writes ONE .py file that runs as
`python train_model.py data.csv [--out model_out]` with only torch, pandas, numpy and scikit-learn
(no nnbuilder). It reads the CSV, repeats the app's split and preprocessing (export_script_data),
defines the network as an `nn.Module` written out layer by layer (export_script_layers), trains it
with the spec's optimizer, schedule, loss and early stopping (export_script_train), prints the test
metric (last line: one JSON object) and saves the weights and the fitted preprocessing.

Covered: supervised models on tabular or image input (binary, multiclass, regression, multi-target
regression). Sequence input, autoencoders and GANs raise ExportError pointing to torchscript.
`check_rows` is not used: the script retrains, so there is no output to compare row by row.
"""

from __future__ import annotations

import pprint
from pathlib import Path
from string import Template

from nnbuilder import __version__
from nnbuilder.data.features import BOOLEAN_WORDS, DATE_PARTS, DATE_ACCESSORS, fitted_parameters, part_name
from nnbuilder.errors import ExportError
from nnbuilder.export.files import write_atomic
from nnbuilder.export.script.data import CLASS_TARGET, FEATURES, NUMBER_TARGET, PREPARE, READ, SPLIT
from nnbuilder.export.script.layers import network_source
from nnbuilder.export.script.train import (
    CLASS_EVALUATE, LOSS_CODE, MAIN, NUMBER_EVALUATE, OPTIMIZER_CODE, SCHEDULE_CODE, TRAIN,
)
from nnbuilder.train.optim import OPTIMIZERS
from nnbuilder.model.heads import get_head
from nnbuilder.tasks import get_task

SUPPORTED = "the script export covers supervised tabular and image models (classification and regression)"
WIDTH = 110  # longest line the script may have


def export(bundle, out: Path, check_rows=None) -> Path:
    """Write the training script for `bundle` to `out` (atomically) and return `out`."""
    out = Path(out)
    source = script_source(bundle, out.name or "train_model.py")
    try:
        compile(source, out.name, "exec")  # a script that does not parse is our bug: fail here, not at the user
    except SyntaxError as exc:
        raise ExportError(f"the generated script does not compile (line {exc.lineno}: {exc.msg}); "
                          "please report this, and export with --format torchscript meanwhile") from None
    return write_atomic(out, source.encode("utf-8"))


def script_source(bundle, filename: str = "train_model.py") -> str:
    """The whole script as text; ExportError (one line) for a bundle it cannot cover."""
    meta, spec = bundle.meta, bundle.spec
    task, kind = meta["task"], meta.get("input_kind", "tabular")
    refusal = get_task(task).export_refusal("python")  # the task's record says which exports it supports
    if refusal:
        raise ExportError(refusal)
    if kind not in FEATURES or task not in LOSS_CODE:
        what = get_head(task).label.lower()
        raise ExportError(f"{SUPPORTED}; this bundle is a {what} model on {kind} input: export it with "
                          "--format torchscript instead")
    training = spec.training
    if training.optimizer not in OPTIMIZER_CODE or training.lr_schedule not in SCHEDULE_CODE:
        raise ExportError(f"the script export has no code for optimizer '{training.optimizer}' with schedule "
                          f"'{training.lr_schedule}'; export with --format torchscript instead")
    classification = get_head(task).is_classification
    features, imports, sklearn_imports = FEATURES[kind]
    sklearn_imports = "".join(sorted([*sklearn_imports.splitlines(True),
                                      "from sklearn.model_selection import train_test_split\n"]))
    return "".join([
        _header(bundle, filename, imports, sklearn_imports),
        _settings(bundle),
        READ,
        CLASS_TARGET if classification else NUMBER_TARGET,
        SPLIT,
        Template(features).substitute(N_FEATURES=len(meta["feature_names"])),
        PREPARE,
        "# ---- 5. The network ---------------------------------------------------------------------------\n\n",
        network_source(spec, tuple(meta["input_shape"]), task, meta["n_outputs"], meta.get("embedding_levels") or []),
        "\n\n",
        _training(spec, task),
        CLASS_EVALUATE if classification else NUMBER_EVALUATE,
        MAIN,
    ])


def _header(bundle, filename: str, imports: str, sklearn_imports: str) -> str:
    meta, training, split = bundle.meta, bundle.spec.training, bundle.spec.data.split
    metric = get_head(meta["task"]).headline_metric
    reported = (bundle.metrics.get("metrics", {}).get("test", {}) or {}).get(metric)
    reported_text = f"{reported:.4f}" if isinstance(reported, (int, float)) else "(no test split)"
    targets = ", ".join(meta["target"])
    targets = targets if len(targets) <= 40 else f"{len(meta['target'])} targets"
    return f'''\
"""Train your nnbuilder network in plain PyTorch: {get_head(meta["task"]).label.lower()} of {targets}.

Generated by nnbuilder {__version__} from the model's spec. Run it with

    python {filename} data.csv [--out model_out]

It needs only torch, pandas, numpy and scikit-learn, and does what the app did:
  1. settings copied from your spec (change them and run again)
  2. read the CSV and leave out rows without a target
  3. split the rows {split.train:g} / {split.val:g} / {split.test:g} (train / validation / test), seeded like the app
  4. turn the raw columns into numbers, fitted on the training rows only
  5. the network: {len(bundle.spec.layers)} hidden layer(s) and the output layer, written out as a torch module
  6. train: {training.optimizer}, learning rate {training.learning_rate:g}, batch {training.batch_size}, \
up to {training.epochs} epochs
  7. score the test rows
  8. save the weights and the fitted preprocessing to --out
The app reported test {metric} = {reported_text}. With the same data the same seed gives the same start,
so a run here lands close to it (CSV rounding and other hardware can change the last digits).
"""

import argparse
import copy
import json
import math
{imports}from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn import metrics
{sklearn_imports}from torch import nn

'''


def _settings(bundle) -> str:
    meta, spec = bundle.meta, bundle.spec
    training, split = spec.training, spec.data.split
    lines = ["# ---- 1. Settings, copied from your spec ------------------------------------------------------\n",
             _constant("TARGET", list(meta["target"]), "the column(s) to predict"),
             _constant("TASK", meta["task"], "binary, multiclass, regression or multi_regression"),
             _constant("SEED", training.seed, "fixes the split, the starting weights, dropout and batch order"),
             _constant("SPLIT", {"train": split.train, "val": split.val, "test": split.test}),
             _constant("EPOCHS", training.epochs, "passes over the training rows"),
             _constant("BATCH_SIZE", training.batch_size, "rows per weight update"),
             _constant("LEARNING_RATE", training.learning_rate),
             _constant("WEIGHT_DECAY", training.weight_decay, "L2 penalty, applied by the optimizer"),
             _constant("L1", training.l1, "L1 penalty on the weights, added to the loss"),
             _constant("MOMENTUM", training.momentum, "used by sgd and rmsprop only"),
             _constant("PATIENCE", training.early_stopping_patience,
                       "stop after this many epochs without a better loss; 0 = never"),
             "\n# What the app learnt about your columns (the script reads them the same way)\n",
             _constant("INPUT_COLUMNS", list(bundle.preprocessing.feature_columns), "the columns the network reads")]
    if meta.get("classes") is not None:
        lines.append(f"# The app found the classes {_short(meta['classes'])}; they are found again from the data.\n")
    if meta.get("input_kind") == "image":
        image = bundle.preprocessing
        lines += [_constant("IMAGE_SHAPE", tuple(image.image_shape), "channels, height, width"),
                  _constant("PIXEL_MAX", spec.input.pixel_max,
                            "None: the brightest training pixel (the app used " f"{image.pixel_max:g})")]
    else:
        lines += _tabular_settings(bundle.preprocessing)
    return "".join(lines) + "\n\n"


def _tabular_settings(preprocessing) -> list[str]:
    roles = {c.name: c.role for c in preprocessing.columns}
    formats = {c.name: c.date_format for c in preprocessing.columns}
    columns = list(preprocessing.feature_columns)
    fitted = fitted_parameters(preprocessing.preprocessor)
    unknown = sorted(set(fitted) - {"numeric", "categorical", "embedded"})  # a branch this exporter does not know yet
    if unknown:
        raise ExportError(f"the script export cannot rebuild the preprocessing step '{unknown[0]}' yet; "
                          "export with --format onnx or torchscript instead")
    numeric, categorical, embedded = ([*fitted.get(branch, {"columns": []})["columns"]]
                                      for branch in ("numeric", "categorical", "embedded"))
    dates = {c: {DATE_ACCESSORS.get(p, p): part_name(c, p, columns) for p in DATE_PARTS}
             for c in columns if roles[c] == "datetime"}
    return [_constant("ROLES", {c: roles[c] for c in columns}, "what the app decided each input column is"),
            _constant("DATE_FORMATS", {c: formats[c] for c in dates}, "how text dates are written (None: guess)"),
            _constant("DATE_PARTS", dates, "the numbers taken from each date column"),
            _constant("NUMERIC_FEATURES", numeric, "scaled numbers; an hour part that was always 0 is left out"),
            _constant("CATEGORY_FEATURES", categorical, "one-hot encoded text"),
            _constant("EMBEDDED_FEATURES", embedded, "many-category text: one code each, embedded by Net"),
            _constant("BOOLEAN_WORDS", dict(BOOLEAN_WORDS), "yes/no spellings, all read as 'true'/'false'")]


def _training(spec, task: str) -> str:
    training = spec.training
    why, schedule = SCHEDULE_CODE[training.lr_schedule]
    schedule = Template(schedule).substitute(STEP=max(1, training.epochs // 3 if training.lr_schedule == "step"
                                                      else training.epochs),
                                             PATIENCE_HALF=max(1, training.early_stopping_patience // 2))
    loss, target, loss_why = LOSS_CODE[task]
    return Template(TRAIN).substitute(
        OPTIMIZER=OPTIMIZER_CODE[training.optimizer], OPTIMIZER_WHY=f"{training.optimizer}: "
        f"{OPTIMIZERS[training.optimizer][1]}.", SCHEDULE=schedule, SCHEDULE_WHY=why.capitalize(),
        LOSS=loss, LOSS_TARGET=target, LOSS_WHY=loss_why)


def _constant(name: str, value, comment: str = "") -> str:
    """`NAME = value  # comment`, the value wrapped to fit WIDTH."""
    text = pprint.pformat(value, width=WIDTH - len(name) - 4, sort_dicts=False, compact=True)
    if "\n" in text:  # a long value: comment above it, continuation lines indented under the bracket
        indent = " " * (len(name) + 3)
        body = text.replace("\n", "\n" + indent)
        return (f"# {comment}\n" if comment else "") + f"{name} = {body}\n"
    line = f"{name} = {text}"
    if comment and len(line) + len(comment) + 4 <= WIDTH:
        return f"{line}  # {comment}\n"
    return (f"# {comment}\n" if comment else "") + line + "\n"


def _short(values: list) -> str:
    shown = ", ".join(repr(v) for v in values[:10])
    return f"[{shown}{', ...' if len(values) > 10 else ''}]"
