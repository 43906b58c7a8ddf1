"""Guided lessons: a dataset, a network and settings that show one idea, with one-click changes to try.

Each lesson is data (`assets/lessons/<order>_<id>.json`): a story, a built-in dataset reference with its
options (`sample:moons?n_samples=60&noise=0.35&seed=0`), a full NetworkSpec dict with a fixed seed (so a
whole class sees the same curves), "what to try" steps and "what to watch". A step is a spec patch,
deep-merged into the current spec by `apply_patch` (dicts merge, lists and values replace), so the same
patch format serves the diagnostics' one-click suggestions (nnbuilder.teach.diagnostics).

The effect each lesson teaches is measured in tests/test_lessons.py with the lesson's own spec and seed;
the texts state those measured numbers.

    lesson = get_lesson("xor")
    df, _ = lesson_data(lesson)
    spec = apply_patch(lesson.spec, lesson.steps[0].patch)
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pandas as pd

from nnbuilder.data.pipeline import DataWarning, load_table
from nnbuilder.data.datasets import DATASETS
from nnbuilder.errors import NNBuilderError
from nnbuilder.spec.network import parse_spec
from nnbuilder.spec.messages import did_you_mean

LESSONS_DIR = Path(__file__).resolve().parents[2] / "assets" / "lessons"
FIELDS = ("id", "order", "title", "summary", "story", "dataset", "spec", "steps", "watch")
SHORT_NAMES = {  # how a changed training setting reads in a run's label: "lr 0.05", "batch 8"
    "learning_rate": "lr", "batch_size": "batch", "epochs": "epochs", "weight_decay": "L2", "l1": "L1",
    "optimizer": "optimizer", "momentum": "momentum", "early_stopping_patience": "patience",
    "lr_schedule": "schedule", "seed": "seed",
}


class LessonError(NNBuilderError):
    """A lesson is unknown, or its file is not a valid lesson."""


@dataclass(frozen=True)
class Step:
    label: str  # "learning rate 5": the button reads "Apply: learning rate 5"
    text: str  # one sentence on what the change does
    patch: dict  # deep-merged into the spec


@dataclass(frozen=True)
class Lesson:
    id: str
    order: int
    title: str
    summary: str  # one sentence for the lesson's card
    story: str
    dataset: str  # a load_table reference: sample:NAME?option=value&...
    spec: dict  # the full NetworkSpec dict, seed included
    steps: tuple[Step, ...]
    watch: tuple[str, ...]

    @property
    def dataset_name(self) -> str:
        """'moons' for 'sample:moons?noise=0.35'."""
        return self.dataset.removeprefix("sample:").partition("?")[0]


def apply_patch(spec: dict, patch: dict | None) -> dict:
    """A copy of `spec` with `patch` merged in: nested dicts merge key by key, anything else replaces."""
    merged = copy.deepcopy(spec)
    for key, value in (patch or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = apply_patch(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read(path: Path) -> Lesson:
    """One lesson file, checked: every field present, the spec and every patched spec valid."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LessonError(f"lesson file {path.name} cannot be read as JSON ({exc}); fix or remove the file") from None
    missing = [name for name in FIELDS if name not in raw]
    if missing:
        raise LessonError(f"lesson file {path.name} lacks {', '.join(missing)}; every lesson needs {', '.join(FIELDS)}")
    if not str(raw["dataset"]).startswith("sample:"):
        raise LessonError(f"lesson file {path.name}: dataset must be a built-in 'sample:NAME?...'; "
                          f"got {raw['dataset']!r}")
    steps = tuple(Step(str(s["label"]), str(s.get("text", "")), dict(s["patch"])) for s in raw["steps"])
    try:
        parse_spec(raw["spec"])
        for step in steps:
            parse_spec(apply_patch(raw["spec"], step.patch))
    except NNBuilderError as exc:
        raise LessonError(f"lesson file {path.name} has an invalid spec: {exc}") from None
    return Lesson(str(raw["id"]), int(raw["order"]), str(raw["title"]), str(raw["summary"]), str(raw["story"]),
                  str(raw["dataset"]),
                  raw["spec"], steps, tuple(str(w) for w in raw["watch"]))


@functools.lru_cache(maxsize=None)
def _load_all(folder: str) -> tuple[Lesson, ...]:
    lessons = sorted((_read(path) for path in Path(folder).glob("*.json")), key=lambda lesson: lesson.order)
    ids = [lesson.id for lesson in lessons]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise LessonError(f"lesson id {duplicated[0]!r} is used by two files in {folder}; give each lesson its own id")
    return tuple(lessons)


def list_lessons(folder: Path | str = LESSONS_DIR) -> list[Lesson]:
    """Every lesson, in teaching order (read once per folder)."""
    return list(_load_all(str(folder)))


def get_lesson(lesson_id: str, folder: Path | str = LESSONS_DIR) -> Lesson:
    lessons = {lesson.id: lesson for lesson in list_lessons(folder)}
    if lesson_id not in lessons:
        raise LessonError(f"unknown lesson {lesson_id!r}{did_you_mean(lesson_id, list(lessons))}; "
                          f"lessons: {', '.join(lessons)}")
    return lessons[lesson_id]


def lesson_spec(lesson: Lesson, *steps: int) -> dict:
    """The lesson's spec with the given steps (by index) applied in order; a fresh copy each time."""
    spec = copy.deepcopy(lesson.spec)
    for index in steps:
        if not 0 <= index < len(lesson.steps):
            raise LessonError(f"lesson {lesson.id!r} has steps 0..{len(lesson.steps) - 1}; got step {index}")
        spec = apply_patch(spec, lesson.steps[index].patch)
    return spec


def lesson_data(lesson: Lesson) -> tuple[pd.DataFrame, list[DataWarning]]:
    """The lesson's table: the same rows for everyone (the dataset's seed is in the reference)."""
    return load_table(lesson.dataset)


def short_reference(reference: str) -> str:
    """The dataset reference without the options left at their defaults: 'sample:xor?noise=0.1&seed=0' is
    'sample:xor' (the same rows), so the app names the table as the Data page does."""
    name, _, query = reference.removeprefix("sample:").partition("?")
    info = DATASETS.get(name)
    if info is None or not query:
        return reference
    kept = [(key, value) for key, value in parse_qsl(query) if not _is_default(info.options, key, value)]
    return f"sample:{name}" + (f"?{urlencode(kept)}" if kept else "")


def _is_default(options: dict, key: str, value: str) -> bool:
    try:
        return key in options and type(options[key])(float(value)) == options[key]
    except ValueError:  # not a number: load_table will say so
        return False


def _layers_text(layers: list) -> str:
    dense = [layer for layer in layers if isinstance(layer, dict) and layer.get("type") == "dense"]
    if not layers:
        return "no hidden layer"
    if dense and len(dense) == len([layer for layer in layers if layer.get("type") != "dropout"]):
        sizes = {(layer.get("units"), layer.get("activation", "relu")) for layer in dense}
        if len(sizes) == 1:
            units, activation = sizes.pop()
            text = f"{len(dense)}×{units} {activation}" if len(dense) > 1 else f"{units} {activation}"
            return text + (" + dropout" if len(dense) < len(layers) else "")
    return f"{len(layers)} layers"


def spec_difference(previous: dict | None, current: dict | None) -> str:
    """What `previous` had where it differs from `current`, in a few words ("lr 0.1", "8 tanh, batch 256"):
    the label of a previous run's curves. Empty when nothing the learner sets differs."""
    if not previous or not current:
        return ""
    parts = []
    if previous.get("layers") != current.get("layers"):
        parts.append(_layers_text(previous.get("layers") or []))
    old, new = previous.get("training") or {}, current.get("training") or {}
    for name, short in SHORT_NAMES.items():
        if name in old and old.get(name) != new.get(name):
            value = old[name]
            parts.append(f"{short} {value:g}" if isinstance(value, (int, float)) else f"{short} {value}")
    if (previous.get("data") or {}).get("target") != (current.get("data") or {}).get("target"):
        parts.append(f"target {(previous.get('data') or {}).get('target')}")
    return ", ".join(parts)
