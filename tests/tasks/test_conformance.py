"""Every registered task passes the task contract (tests/tasks/conformance.py) on each of its example cases."""

from __future__ import annotations

import pytest

from nnbuilder.tasks import registered_tasks
from tests.tasks.conformance import cases, check_task

CASES = [pytest.param(task, table, spec, id=f"{task.name}-{name}")
         for task in registered_tasks() for name, table, spec in cases(task)]


@pytest.mark.parametrize("task, table, spec", CASES)
def test_task_conformance(task, table, spec, tmp_path, seed):
    check_task(task, table, spec, tmp_path)


def test_every_built_in_task_is_checked():
    checked = {param.values[0].name for param in CASES}
    assert {"classification", "regression", "forecast", "autoencoder", "gan"} <= checked
