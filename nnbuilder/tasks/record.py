"""`Task`: one record per task that owns everything task-specific, registered by name.

A task has a user-facing name (what `data.task` says: "classification", "gan" ...) and the resolved names its
preparation may produce (what meta.json stores: "binary" or "multiclass" ...; each is an output head in
nnbuilder.model.heads). The record answers every "is this the GAN?" question the engine, the CLI and the
pages used to ask: how the data is prepared, how the network is built, fitted and evaluated, what predict
returns, what the bundle stores and how it is rebuilt, the model card's lines, which exports work, which
training settings apply, and which Evaluate/Predict views exist.

    register_task(record)          make it a valid `data.task` at once (nnbuilder.spec.task_names)
    get_task(name)                 by user-facing or resolved name ("classification" or "binary")
    task_names()                   the user-facing names, in registration order
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from nnbuilder.model.heads import find_head
from nnbuilder.spec.network import TrainingSpec
from nnbuilder.spec.task_names import TaskChoice, register_task_choice, unregister_task_choice



@dataclass(frozen=True)
class CardSection:
    """The task's part of the model card (nnbuilder.bundle.card)."""

    headline: dict[str, tuple[str, ...]] = field(default_factory=dict)  # resolved name -> metrics the card leads with
    limits: str = ""  # the task's "intended use and limits" line
    target_phrase: str = " of {target}"  # follows the title; {target} is the target column(s)
    output_lines: Callable[[dict], list[str]] = lambda meta: []  # meta.json -> "Task and output" bullet lines
    metrics_section: Callable[[dict], list[str]] | None = None  # per-split metrics -> its own section (else a table)
    usage: tuple[str, ...] = ("nnbuilder predict model.zip new_rows.csv --out predictions.csv",
                              "nnbuilder serve model.zip            # HTTP API on 127.0.0.1:8000")


@dataclass(frozen=True)
class Task:
    name: str  # the user-facing name in `data.task`
    note: str  # one help line for the task choice
    # Resolved names (output heads) its preparation produces; every later step looks the record up by the
    # resolved name, so a preparation may hand over (a regression request on a time series is a forecast).
    resolves_to: tuple[str, ...]
    prepare: Callable  # (df, data spec, seed, input spec) -> PreparedData
    detect: Callable  # (df, data spec, input spec) -> resolved name, without splitting (for the Data page)
    fit: Callable  # (df, spec, prepared, *, device, observers, cancel, views, callbacks) -> TrainedModel
    evaluate: Callable  # (model, spec, prepared) -> (metrics per split, chart details per split)
    describe: Callable  # (spec, prepared) -> the layer table (nnbuilder.model.compile.LayerRow list)
    predict: Callable  # (bundle, raw rows) -> a DataFrame of answers
    rebuild: Callable  # (spec, meta.json) -> the untrained network weights.safetensors fills
    meta_extras: Callable = lambda trained: {}  # TrainedModel -> what meta.json keeps besides the common keys
    generate: Callable | None = None  # (bundle, n, seed) -> n new rows, for a task that generates rows
    card: CardSection = field(default_factory=CardSection)
    # Export format name -> None when supported, else why not in words (ExportError text). A format missing
    # here is refused with a generic reason.
    exports: dict[str, str | None] = field(default_factory=dict)
    ignored_settings: frozenset[str] = frozenset()  # TrainingSpec fields its fit does not use (the Train page hides them)
    # What the Evaluate page shows (pages/4_Evaluate.py): "class_cards" | "number_cards" | "forecast_cards" (the
    # metric cards), "class_charts" (confusion, ROC), "number_charts" (predicted vs actual), "forecast" (the series
    # plot), "importance", "anomaly" (scores, threshold, latent map), "quality" + "generate" (a GAN's own page).
    evaluate_views: tuple[str, ...] = ()
    # What the Predict page offers: "form" (one answer: a row's form, or the input kind's own picker) and "file"
    # (a CSV of many rows); () = nothing to predict, the page says `predict_note` instead.
    predict_views: tuple[str, ...] = ()
    input_kinds: tuple[str, ...] = ()  # input kinds it reads; () = every kind
    predictions_file: str = "predictions.csv"  # the Predict page's download name
    explains_rows: bool = True  # the Predict page explains a single answer by its columns
    predict_note: str = ""  # what the Predict page says instead when there is nothing to predict
    # What data.target means: "required" (the column to predict), "label" (optional, never an input: it only
    # checks the answers, e.g. an autoencoder's is_anomaly), "ignored" (every column is used alike, e.g. a GAN's).
    target: str = "required"
    spec_section: str | None = None  # the NetworkSpec section with the task's own settings ("autoencoder", "gan")
    # Small seeded cases the conformance test runs (tests/tasks/test_conformance.py): () -> [(case name, table,
    # spec dict)], CPU-sized (a few hundred rows, a few epochs). A task without one fails that test.
    examples: Callable[[], list[tuple[str, object, dict]]] | None = None

    def label(self, resolved: str | None = None) -> str:
        """What the pages call it: the resolved head's label ("Binary classification"), else the name."""
        head = find_head(resolved or self.resolves_to[0])
        return head.label if head is not None else (resolved or self.name)

    def export_refusal(self, fmt: str) -> str | None:
        """None when this task exports to `fmt`, else why not in words."""
        if fmt in self.exports:
            return self.exports[fmt]
        return f"the {self.name} task has no {fmt} export"

    def applies(self, setting: str) -> bool:
        """Whether the training setting `setting` (a TrainingSpec field) changes this task's fit."""
        return setting not in self.ignored_settings

    def shows(self, view: str) -> bool:
        """Whether the Evaluate or Predict page has `view` for this task."""
        return view in self.evaluate_views or view in self.predict_views


_BY_NAME: dict[str, Task] = {}  # user-facing name -> record
_BY_RESOLVED: dict[str, Task] = {}  # resolved name -> record


def register_task(task: Task) -> Task:
    """Add (or replace) `task` under its name and its resolved names; the spec accepts its name from now on."""
    settings = sorted(set(task.ignored_settings) - set(TrainingSpec.model_fields))
    if settings:
        raise ValueError(f"task {task.name!r} ignores {', '.join(settings)}, which are no training settings; "
                         f"name TrainingSpec fields: {', '.join(TrainingSpec.model_fields)}")
    unknown = [name for name in task.resolves_to if find_head(name) is None]
    if unknown:
        raise ValueError(f"task {task.name!r} resolves to {', '.join(unknown)}, which no output head is registered "
                         "as; register the head first (nnbuilder.model.heads.register_head)")
    _BY_NAME[task.name] = task
    for resolved in task.resolves_to:
        _BY_RESOLVED[resolved] = task
    register_task_choice(TaskChoice(task.name, task.note, task.input_kinds))
    return task


def unregister_task(name: str) -> None:
    """Remove the task registered as `name` (e.g. a test's toy task once the test is done)."""
    task = _BY_NAME.pop(name, None)
    if task is not None:
        for resolved in task.resolves_to:
            if _BY_RESOLVED.get(resolved) is task:
                del _BY_RESOLVED[resolved]
        unregister_task_choice(name)


def get_task(name: str) -> Task:
    """The record for a resolved name (meta.json's "binary") or a user-facing one ("classification")."""
    task = _BY_RESOLVED.get(name) or _BY_NAME.get(name)
    if task is None:
        raise KeyError(f"no task is registered as {name!r}; registered: {', '.join(task_names())}")
    return task


def task_names() -> list[str]:
    """The user-facing task names, in registration order."""
    return list(_BY_NAME)


def registered_tasks() -> list[Task]:
    """Every registered record, in registration order."""
    return list(_BY_NAME.values())


def find_task(name: str | None) -> Task | None:
    """The record for `name`, or None (e.g. for 'auto', which the data resolves)."""
    return _BY_RESOLVED.get(name) or _BY_NAME.get(name)


def resolved_names() -> list[str]:
    """Every resolved task name (what meta.json may store)."""
    return list(_BY_RESOLVED)
