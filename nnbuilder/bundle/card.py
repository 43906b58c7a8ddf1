"""The model card: one Markdown page that says what a bundle's model is, how it was made and where it stops.

Written into every bundle (model_card.md) from the same facts the bundle stores (spec, meta.json,
metrics.json), so the Export page, `nnbuilder export` and anyone unzipping the bundle read the same
text. Sections follow the usual model-card outline: data, task, architecture, training, metrics
with split sizes, warnings, intended use and limits, how to use it.
"""

from __future__ import annotations

import math

from nnbuilder.spec.network import NetworkSpec
from nnbuilder.model.heads import TASK_KINDS, task_label

# The metrics each task's card leads with, in order (others stay in metrics.json).
HEADLINE = {
    "binary": ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc"),
    "multiclass": ("accuracy", "balanced_accuracy", "f1_macro"),
    "regression": ("r2", "rmse", "mae"),
    "multi_regression": ("r2", "rmse", "mae"),
    "forecast": ("rmse", "mae", "baseline_rmse", "r2"),
    "autoencoder": ("reconstruction_error_mean", "reconstruction_error_p95", "flagged_share", "roc_auc", "precision",
                    "recall"),
}

LIMITS = {
    "classification": "Probabilities are the network's confidence, not guaranteed frequencies; check them on your "
                      "own rows before acting on a threshold.",
    "regression": "Predictions far outside the range of the training target are extrapolations and can be badly off.",
    "forecast": "Forecasts assume the future behaves like the training period; compare with the naive last-value "
                "baseline above before trusting them.",
    "autoencoder": "A row is flagged when its reconstruction error is above the threshold set on the training rows; "
                   "it finds rows unlike the training data, not necessarily fraud or faults.",
    "gan": "Synthetic rows imitate the training table's columns and correlations; they may repeat rare real rows, so "
           "do not share them as anonymous data without checking.",
}


def model_card(spec: NetworkSpec, meta: dict, metrics: dict, history: list[dict], layer_rows: list | None = None) -> str:
    """Markdown text of the card. `metrics` is metrics.json's content; `layer_rows` the compiler's layer table."""
    task = meta["task"]
    summary = metrics.get("summary", {})
    per_split = metrics.get("metrics", {})
    target = ", ".join(f"`{t}`" for t in meta.get("target") or []) or "(none)"
    about = "" if not meta.get("target") else f" (label {target})" if task == "autoencoder" else f" of {target}"
    lines = [f"# Model card: {task_label(task)}{about}", "",
             f"Made with nnbuilder {meta.get('nnbuilder_version', '?')} (PyTorch {meta.get('torch_version', '?')})"
             + (f" on {meta['created']}" if meta.get("created") else "") + ".", ""]
    lines += _data(meta, per_split)
    lines += _task(task, meta)
    lines += _architecture(spec, meta, layer_rows)
    lines += _training(spec, summary, history)
    lines += _metrics(task, per_split)
    lines += _warnings(summary.get("warnings", []))
    lines += _use(task, meta, per_split)
    return "\n".join(lines).rstrip() + "\n"


def _data(meta: dict, per_split: dict) -> list[str]:
    if "quality" in per_split:  # a GAN learns from every row
        per_split = {"train": {"n": per_split["quality"].get("rows_real")}}
    sizes = ", ".join(f"{split} {per_split[split].get('n', '?'):,}" if isinstance(per_split[split].get("n"), int)
                      else f"{split} ?" for split in ("train", "val", "test") if split in per_split)
    lines = ["## Data", "", f"- Input: {meta.get('input_kind', 'tabular')}; rows per split: {sizes or 'unknown'}."]
    columns = meta.get("columns", [])
    used = [c for c in columns if c.get("role") not in ("excluded", "target")]
    left = [c for c in columns if c.get("role") == "excluded"]
    if meta.get("input_kind") == "image":
        lines.append(f"- {len(meta.get('feature_columns', []))} pixel columns read as an image of shape "
                     f"{tuple(meta.get('input_shape', []))} (channels, height, width).")
    elif used:
        lines += ["", "| column | role | why |", "|---|---|---|"]
        lines += [f"| {c['name']} | {c['role']} | {c.get('reason', '')} |" for c in used[:60]]
        if len(used) > 60:
            lines.append(f"| ... | | {len(used) - 60} more input columns |")
    if left:
        lines += ["", "Left out: " + "; ".join(f"`{c['name']}` ({c.get('reason', '')})" for c in left[:20])
                  + (f"; and {len(left) - 20} more" if len(left) > 20 else "") + "."]
    return lines + [""]


def _task(task: str, meta: dict) -> list[str]:
    lines = ["## Task and output", "", f"- {task_label(task)}."]
    if meta.get("classes") and task == "autoencoder":
        lines.append(f"- The label's values (never an input; they check the scores): {', '.join(map(str, meta['classes']))}.")
    elif meta.get("classes"):
        lines.append(f"- Classes (probability columns in this order): {', '.join(map(str, meta['classes']))}.")
    elif task in ("regression", "multi_regression", "forecast") and meta.get("target_mean") is not None:
        spread = ", ".join(f"{t}: mean {m:.4g}, sd {s:.4g}" for t, m, s in
                           zip(meta["target"], meta["target_mean"], meta["target_std"]))
        lines.append(f"- Predictions are in the target's own units (training {spread}).")
    if task == "autoencoder" and meta.get("anomaly_threshold") is not None:
        lines.append(f"- A row is an anomaly when its reconstruction error exceeds {meta['anomaly_threshold']:.4g}.")
    return lines + [""]


def _architecture(spec: NetworkSpec, meta: dict, layer_rows: list | None) -> list[str]:
    lines = ["## Architecture", ""]
    if layer_rows:
        lines += ["| layer | output shape | parameters | details |", "|---|---|---:|---|"]
        lines += [f"| {r.name} | {tuple(r.output_shape)} | {r.parameters:,} | {r.detail} |" for r in layer_rows]
        total = sum(r.parameters for r in layer_rows)
        lines += ["", f"{total:,} trainable parameters."]
    else:
        lines.append("Hidden layers: " + (", ".join(layer.type for layer in spec.layers) or "none (a linear model)") + ".")
    return lines + [""]


def _training(spec: NetworkSpec, summary: dict, history: list[dict]) -> list[str]:
    settings = spec.training.model_dump()
    lines = ["## Training", "", "| setting | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in settings.items()]
    seconds = summary.get("train_seconds")
    lines += ["", f"- Ran {summary.get('epochs', len(history))} epochs"
              + (f", best at epoch {summary['best_epoch']}" if summary.get("best_epoch") else "")
              + (f" (stopped: {summary['stop_reason']})" if summary.get("stop_reason") else "") + "."]
    if seconds is not None:
        lines.append(f"- Training time {seconds:.1f} s on {summary.get('device', '?')}"
                     + (f", {summary['samples_per_second']:,.0f} samples/s." if summary.get("samples_per_second")
                        else "."))
    return lines + [""]


def _metrics(task: str, per_split: dict) -> list[str]:
    if task == "gan":
        return _quality(per_split.get("quality") or {}, per_split.get("train") or {})
    names = [n for n in HEADLINE.get(task, ()) if any(n in per_split.get(s, {}) for s in per_split)]
    if not names:
        return []
    splits = [s for s in ("train", "val", "test") if s in per_split]
    lines = ["## Metrics", "", "| metric | " + " | ".join(splits) + " |", "|---|" + "---:|" * len(splits)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_number(per_split[s].get(name)) for s in splits) + " |")
    lines.append("| rows | " + " | ".join(_number(per_split[s].get("n")) for s in splits) + " |")
    return lines + ["", "The test split was never used for training or early stopping.", ""]


def _quality(quality: dict, train: dict) -> list[str]:
    """A GAN has no test split: its card reports the synthetic rows' quality (nnbuilder.tasks.gan.quality)."""
    auc, corr = quality.get("auc", {}), quality.get("correlation_difference", {})
    lines = ["## Quality of the synthetic rows", "",
             f"{quality.get('rows_generated', '?')} generated rows compared with {quality.get('rows_real', '?')} real "
             "rows; a column-independent sampler (each column drawn on its own) is the baseline.", "",
             "| measure | GAN | column-independent sampler |", "|---|---:|---:|",
             f"| real-vs-synthetic classifier AUC (0.5 = indistinguishable) | {_number(auc.get('gan'))} | "
             f"{_number(auc.get('independent'))} |",
             f"| mean correlation difference | {_number(corr.get('gan'))} | {_number(corr.get('independent'))} |"]
    if train:
        lines += ["", f"Final losses: generator {_number(train.get('generator_loss'))}, discriminator "
                  f"{_number(train.get('discriminator_loss'))}."]
    return lines + [""]


def _number(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def _warnings(warnings: list[dict]) -> list[str]:
    if not warnings:
        return ["## Warnings", "", "None.", ""]
    return ["## Warnings", "", *[f"- {w.get('message', w)}" for w in warnings], ""]


def _use(task: str, meta: dict, per_split: dict) -> list[str]:
    rows = per_split.get("train", {}).get("n") or (per_split.get("quality") or {}).get("rows_real")
    family = ("classification" if task in TASK_KINDS and TASK_KINDS[task].is_classification else
              "regression" if task in ("regression", "multi_regression") else task)
    lines = ["## Intended use and limits", "",
             f"- Made for rows like the {f'{rows:,} ' if isinstance(rows, int) else ''}training rows: the same "
             "columns, meanings and ranges. Rows from a different population or time can make it wrong without "
             "any warning.",
             f"- {LIMITS.get(family, '')}",
             "- Not checked for fairness or for decisions about people; a no-code model is a starting point for "
             "learning and exploring, not a validated product.", "",
             "## How to use", "", "```bash"]
    if task == "gan":
        lines.append("nnbuilder generate model.zip --rows 1000 --out synthetic.csv")
    else:
        lines += ["nnbuilder predict model.zip new_rows.csv --out predictions.csv",
                  "nnbuilder serve model.zip            # HTTP API on 127.0.0.1:8000"]
    lines += ["nnbuilder export model.zip --format onnx --out model.onnx", "```"]
    return lines
