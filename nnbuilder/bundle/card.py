"""The model card: one Markdown page that says what a bundle's model is, how it was made and where it stops.

Written into every bundle (model_card.md) from the same facts the bundle stores (spec, meta.json,
metrics.json), so the Export page, `nnbuilder export` and anyone unzipping the bundle read the same
text. Sections follow the usual model-card outline: data, task, architecture, training, metrics
with split sizes, warnings, intended use and limits, how to use it.
"""

from __future__ import annotations

from nnbuilder.spec.network import NetworkSpec
from nnbuilder.model.heads import task_label
from nnbuilder.tasks import get_task
from nnbuilder.tasks.card_lines import number as _number

def model_card(spec: NetworkSpec, meta: dict, metrics: dict, history: list[dict], layer_rows: list | None = None) -> str:
    """Markdown text of the card. `metrics` is metrics.json's content; `layer_rows` the compiler's layer table."""
    task = meta["task"]
    section = get_task(task).card  # the task's own lines (nnbuilder.tasks.record.CardSection)
    summary = metrics.get("summary", {})
    per_split = metrics.get("metrics", {})
    target = ", ".join(f"`{t}`" for t in meta.get("target") or []) or "(none)"
    about = "" if not meta.get("target") else section.target_phrase.format(target=target)
    lines = [f"# Model card: {task_label(task)}{about}", "",
             f"Made with nnbuilder {meta.get('nnbuilder_version', '?')} (PyTorch {meta.get('torch_version', '?')})"
             + (f" on {meta['created']}" if meta.get("created") else "") + ".", ""]
    lines += _data(meta, per_split)
    lines += _task(task, meta, section)
    lines += _architecture(spec, meta, layer_rows)
    lines += _training(spec, summary, history)
    lines += _metrics(task, per_split, section)
    lines += _warnings(summary.get("warnings", []))
    lines += _use(per_split, section)
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


def _task(task: str, meta: dict, section) -> list[str]:
    return ["## Task and output", "", f"- {task_label(task)}.", *section.output_lines(meta), ""]


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


def _metrics(task: str, per_split: dict, section) -> list[str]:
    if section.metrics_section is not None:  # e.g. a GAN's quality of the synthetic rows
        return section.metrics_section(per_split)
    names = [n for n in section.headline.get(task, ()) if any(n in per_split.get(s, {}) for s in per_split)]
    if not names:
        return []
    splits = [s for s in ("train", "val", "test") if s in per_split]
    lines = ["## Metrics", "", "| metric | " + " | ".join(splits) + " |", "|---|" + "---:|" * len(splits)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_number(per_split[s].get(name)) for s in splits) + " |")
    lines.append("| rows | " + " | ".join(_number(per_split[s].get("n")) for s in splits) + " |")
    return lines + ["", "The test split was never used for training or early stopping.", ""]


def _warnings(warnings: list[dict]) -> list[str]:
    if not warnings:
        return ["## Warnings", "", "None.", ""]
    return ["## Warnings", "", *[f"- {w.get('message', w)}" for w in warnings], ""]


def _use(per_split: dict, section) -> list[str]:
    rows = per_split.get("train", {}).get("n") or (per_split.get("quality") or {}).get("rows_real")
    lines = ["## Intended use and limits", "",
             f"- Made for rows like the {f'{rows:,} ' if isinstance(rows, int) else ''}training rows: the same "
             "columns, meanings and ranges. Rows from a different population or time can make it wrong without "
             "any warning.",
             f"- {section.limits}",
             "- Not checked for fairness or for decisions about people; a no-code model is a starting point for "
             "learning and exploring, not a validated product.", "",
             "## How to use", "", "```bash"]
    lines += [*section.usage, "nnbuilder export model.zip --format onnx --out model.onnx", "```"]
    return lines
