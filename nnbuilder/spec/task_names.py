"""The task names a spec accepts in `data.task`, filled by `nnbuilder.tasks.register_task`.

The spec validates against this registry instead of a fixed list, so a task registered at run time (a plugin,
a test's toy task) is a valid choice at once. The spec package keeps only names, help lines and which input
kinds a task reads; everything else about a task lives in its record (nnbuilder.tasks).
"""

from __future__ import annotations

from dataclasses import dataclass

# 'auto' is no task: the data decides (nnbuilder.tasks resolves it); it leads the choice list.
AUTO = "auto"


@dataclass(frozen=True)
class TaskChoice:
    name: str
    note: str  # one help line for the choice widget
    input_kinds: tuple[str, ...] = ()  # the input kinds it reads; () = every kind


# Live objects: the spec's field metadata holds these very list and dict, so a registration shows up in the UI.
TASK_CHOICES: list[str] = [AUTO]
TASK_NOTES: dict[str, str] = {AUTO: "decided from the target column (see above)"}
_CHOICES: dict[str, TaskChoice] = {}


def register_task_choice(choice: TaskChoice) -> None:
    """Make `choice.name` a valid `data.task` (or update its note and input kinds)."""
    if choice.name not in TASK_CHOICES:
        TASK_CHOICES.append(choice.name)
    TASK_NOTES[choice.name] = choice.note
    _CHOICES[choice.name] = choice


def unregister_task_choice(name: str) -> None:
    """`name` is no longer a valid `data.task` (a test's task, removed after the test)."""
    if name != AUTO and name in TASK_CHOICES:
        TASK_CHOICES.remove(name)
        TASK_NOTES.pop(name, None)
        _CHOICES.pop(name, None)


def refused_input(task: str, input_kind: str) -> str | None:
    """Why `task` cannot read `input_kind` (one sentence for a SpecError), or None when it can."""
    choice = _CHOICES.get(task)
    if choice is None or not choice.input_kinds or input_kind in choice.input_kinds:
        return None
    kinds = "tables" if choice.input_kinds == ("tabular",) else " or ".join(choice.input_kinds) + " input"
    return (f"has task {task} with the {input_kind} input; the {task} works on {kinds} only for now: "
            f"choose the {choice.input_kinds[0]} input, or another task")
