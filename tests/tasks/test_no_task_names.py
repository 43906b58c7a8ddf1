"""Outside nnbuilder/tasks/ nothing asks "is this the GAN?" by name: the task's record or its output head answers.

Scans the engine (outside tasks/), ui/ and pages/ with `ast` for comparisons (==, !=, in, not in) against a
registered task name, user-facing or resolved. ALLOWED lists the places that compare on purpose, with why.
"""

from __future__ import annotations

import ast
from pathlib import Path

from nnbuilder.tasks import resolved_names, task_names

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "nnbuilder", ROOT / "ui", ROOT / "pages", ROOT / "app.py"]

# (file relative to the repository, the name compared) -> why it is not a task dispatch
ALLOWED = {
    # Task detection turns the user's request ("classification", "regression", "forecast") into a head name:
    # it is the data package's reading of the target, which every supervised task's preparation builds on.
    ("nnbuilder/data/task_detection.py", "classification"): "reads the user's request",
    ("nnbuilder/data/task_detection.py", "regression"): "reads the user's request",
    ("nnbuilder/data/sequence.py", "forecast"): "reads the user's request",
    ("nnbuilder/data/sequence.py", "regression"): "reads the user's request",
    # The boundary view's payload says whether it drew classes or a curve (views.boundary), not which task ran.
    ("ui/boundary_view.py", "classification"): "the view's payload kind",
    ("ui/boundary_view.py", "regression"): "the view's payload kind",
}


def _names() -> set[str]:
    return set(task_names()) | set(resolved_names())


def _literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def task_name_comparisons(path: Path, names: set[str]) -> list[tuple[int, str]]:
    """(line, name) of every comparison in `path` against one of `names`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                found += [(node.lineno, name) for name in _literals(operand) if name in names]
    return found


def _files():
    for root in SCANNED:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            if (ROOT / "nnbuilder" / "tasks") not in path.parents:
                yield path


def test_nothing_outside_the_tasks_compares_task_names():
    names = _names()
    problems = []
    for path in _files():
        relative = path.relative_to(ROOT).as_posix()
        problems += [f"{relative}:{line} compares against the task name {name!r}; ask the task's record "
                     "(nnbuilder.tasks.get_task) or its head (nnbuilder.model.heads.get_head) instead"
                     for line, name in task_name_comparisons(path, names) if (relative, name) not in ALLOWED]
    assert not problems, "\n".join(problems)


def test_the_scan_finds_a_comparison(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('if task == "gan" or kind in ("binary", "x"):\n    pass\n', encoding="utf-8")
    assert task_name_comparisons(sample, _names()) == [(1, "gan"), (1, "binary")]
