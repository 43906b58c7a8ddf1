"""Pure edits of layer stacks (lists of layer dicts), stack paths, presets and problem lists.

A stack is addressed by a dotted path into the spec dict: `layers`,
`autoencoder.decoder`, `gan.discriminator`, or a block's inner list such as
`layers.3.layers` (integers index lists). The engine's problems carry their spec
path as a tuple (`("layers", 3, "layers", 0, "units")`); `problem_owner` maps one
to the (stack path, index) whose card shows it, and `problem_text` words it with
the card's 1-based number ("Layer 4.1: units ..."). Presets are read from
assets/presets (index.json lists them; each file is a whole spec the CLI reads
too), so the stacks live in one place. Nothing here validates (the engine does)
or touches Streamlit, so it is unit-tested directly.
"""

from __future__ import annotations

import copy
import json
import typing
from collections import defaultdict
from pathlib import Path

from nnbuilder.model.compile import mirror
from nnbuilder.errors import SpecError, SpecPath, SpecProblem, spec_path_text
from nnbuilder.layers import LAYERS
from nnbuilder.tasks import registered_tasks

PRESET_DIR = Path(__file__).resolve().parents[1] / "assets" / "presets"


def _load_presets() -> list[dict]:
    """index.json's entries ({name, file, dataset}), each with its spec file read in as `spec`."""
    entries = json.loads((PRESET_DIR / "index.json").read_text(encoding="utf-8"))
    return [{**entry, "spec": json.loads((PRESET_DIR / entry["file"]).read_text(encoding="utf-8"))}
            for entry in entries]


PRESET_ENTRIES: list[dict] = _load_presets()
PRESETS: dict[str, list[dict]] = {e["name"]: e["spec"].get("layers", []) for e in PRESET_ENTRIES}
# The task a preset is made for (Data page); the others suit any task.
PRESET_TASKS: dict[str, str] = {e["name"]: e["spec"]["data"]["task"] for e in PRESET_ENTRIES
                                if e["spec"].get("data", {}).get("task", "auto") not in ("auto", None)}
# The input kind a preset is made for (Data page); the others are for tables.
PRESET_INPUT_KINDS: dict[str, str] = {e["name"]: e["spec"]["input"]["kind"] for e in PRESET_ENTRIES
                                      if e["spec"].get("input", {}).get("kind", "tabular") != "tabular"}
# The built-in dataset each preset was made and tested on.
PRESET_DATASETS: dict[str, str] = {e["name"]: e["dataset"] for e in PRESET_ENTRIES}
# The task sections a preset brings along with its layers (the GAN's discriminator, the autoencoder's decoder).
TASK_SECTIONS = tuple(task.spec_section for task in registered_tasks() if task.spec_section)

STACK_NAMES = {"layers": "", "autoencoder.decoder": "decoder", "gan.discriminator": "discriminator"}


# ---------------------------------------------------------------- paths

def parse_path(path: str) -> list[str | int]:
    """'layers.3.layers' -> ['layers', 3, 'layers']."""
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def get_stack(spec: dict, path: str) -> list[dict]:
    """The list of layer dicts at `path`; [] where the path leads nowhere yet (e.g. no `gan` section)."""
    node = spec
    for part in parse_path(path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return []
        if node is None:
            return []
    return node if isinstance(node, list) else []


def set_stack(spec: dict, path: str, layers: list[dict]) -> None:
    """Put `layers` at `path`, creating missing sections (`gan`, `autoencoder`) on the way."""
    parts = parse_path(path)
    node = spec
    for part in parts[:-1]:
        if isinstance(part, int):
            node = node[part]
        else:
            if not isinstance(node.get(part), dict | list):
                node[part] = {}
            node = node[part]
    node[parts[-1]] = layers


def _stack_name(path: str) -> str:
    """The name of the top-level stack `path` lies in: '' (the main stack), 'decoder' or 'discriminator'."""
    return next((name for root, name in STACK_NAMES.items() if path == root or path.startswith(root + ".")), "")


def stack_label(path: str) -> str:
    """Where a stack sits, for people: '' (the main stack), 'decoder', 'block 3', 'discriminator block 2'."""
    base = _stack_name(path)
    numbers = [str(part + 1) for part in parse_path(path) if isinstance(part, int)]
    if not numbers:
        return base
    return f"{base + ' ' if base else ''}block {'.'.join(numbers)}"


def layer_number(path: str, index: int) -> str:
    """The number on a layer's card: '3' for the third layer of a stack, '3.1' for the first inside block 3."""
    outer = [str(part + 1) for part in parse_path(path) if isinstance(part, int)]
    return ".".join([*outer, str(index + 1)])


def layer_name(path: str, index: int) -> str:
    """A layer as people see it, numbered like its card: 'Layer 3', 'Layer 3.1', 'Discriminator layer 2'."""
    base = _stack_name(path)
    return f"{base.capitalize() + ' layer' if base else 'Layer'} {layer_number(path, index)}"


def problem_owner(path: SpecPath) -> tuple[str, int] | None:
    """The (stack path, layer index) whose card shows a problem at the spec path `path`, or None for a general one.

    The innermost layer of a stack on the path wins: ("layers", 3, "layers", 0, "units") -> ("layers.3.layers", 0)."""
    owner = None
    for depth, key in enumerate(path):
        where = ".".join(map(str, path[:depth]))
        if isinstance(key, int) and depth and _is_stack(where):
            owner = (where, key)
    return owner


def _is_stack(path: str) -> bool:
    parts = parse_path(path)
    if path in STACK_NAMES:
        return True
    # A nested block: <stack>.<index>.<field that holds layers>
    return len(parts) >= 3 and isinstance(parts[-2], int) and _is_stack(".".join(map(str, parts[:-2])))


def problem_text(problem: SpecProblem) -> str:
    """The problem as the Build page words it: its layer numbered like the card, the rest of the path after it
    ('Layer 3: rate must be in [0, 1); got 1.5'); a problem outside the stacks keeps the engine's line."""
    owner = problem_owner(problem.path)
    if owner is None:
        return problem.text
    where, index = owner
    inside = problem.path[len(parse_path(where)) + 1:]  # the setting within the layer, if any
    name = layer_name(where, index)
    return problem.text_at(f"{name}: {spec_path_text(inside)}" if inside else name)


def group_problems(problems: list[SpecProblem]) -> tuple[dict[tuple[str, int], list[str]], list[str]]:
    """The problems' lines (`problem_text`) by the (stack path, index) of the layer they are about; the rest are
    general."""
    by_layer: dict[tuple[str, int], list[str]] = defaultdict(list)
    general: list[str] = []
    for problem in problems:
        owner = problem_owner(problem.path)
        if owner is None:
            general.append(problem_text(problem))
        else:
            by_layer[owner].append(problem_text(problem))
    return dict(by_layer), general


def split_problems(problems: list[SpecProblem], path: str = "layers") -> tuple[dict[int, list[str]], list[str]]:
    """Problems about the layers of one stack by index; the rest (other stacks too) are general."""
    grouped, general = group_problems(problems)
    by_layer = {index: found for (where, index), found in grouped.items() if where == path}
    general += [p for (where, _), found in grouped.items() if where != path for p in found]
    return by_layer, general


# ---------------------------------------------------------------- layers

def nested_fields(layer_type: str) -> list[str]:
    """The fields of a layer type that hold a stack of their own (a residual block's `layers`)."""
    registered = LAYERS.get(layer_type)
    if registered is None:
        return []
    out = []
    for name, info in registered.spec.model_fields.items():
        if typing.get_origin(info.annotation) is list:
            (item,) = typing.get_args(info.annotation) or (None,)
            if item not in (str, int, float, bool, None):  # a list of layers, not of plain values
                out.append(name)
    return out


def _width(layers: list[dict]) -> tuple[str, int]:
    """The kind ('dense' or a conv type) and width of the last layer that sets one, to start a block."""
    for layer in reversed(layers):
        if layer.get("type") == "dense" and layer.get("units"):
            return "dense", int(layer["units"])
        if layer.get("type") in ("conv1d", "conv2d") and layer.get("filters"):
            return layer["type"], int(layer["filters"])
    return "dense", 32


def _residual_block(before: list[dict]) -> dict:
    """Two layers as wide as the one before, so the skip adds without a projection."""
    kind, width = _width(before)
    if kind == "dense":
        inner = [{**new_layer("dense"), "units": width, "activation": "relu"},
                 {**new_layer("dense"), "units": width, "activation": "linear"}]
    else:
        inner = [{**new_layer(kind), "filters": width, "padding": "same"} for _ in range(2)]
    return {"type": "residual", "layers": inner}


# Layer types whose new layer is more than the spec defaults: a function of the layers before it.
STARTERS = {"residual": _residual_block}


def new_layer(layer_type: str, before: list[dict] | None = None) -> dict:
    """A layer dict with every setting at its spec default (or a starter that fits the layers before it)."""
    if layer_type in STARTERS:
        return STARTERS[layer_type](before or [])
    return LAYERS[layer_type].spec().model_dump(mode="json")


def add_layer(layers: list[dict], layer_type: str, context: list[dict] | None = None) -> list[dict]:
    """`layers` plus a new layer at the end; `context` is what comes before this stack (for a block's width)."""
    return [*layers, new_layer(layer_type, [*(context or []), *layers])]


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
    return copy.deepcopy(PRESETS[name])


def preset_sections(name: str) -> dict:
    """The task sections (gan, autoencoder) a preset sets along with its layers; copies."""
    spec = next(e["spec"] for e in PRESET_ENTRIES if e["name"] == name)
    return {key: copy.deepcopy(spec[key]) for key in TASK_SECTIONS if spec.get(key) is not None}


def mirrored_layers(layers: list[dict]) -> list[dict]:
    """The autoencoder decoder that mirrors this encoder, as layer dicts to edit; [] when it cannot be mirrored."""
    try:
        parsed = [(("layers", i), LAYERS[layer["type"]].spec.model_validate(
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
