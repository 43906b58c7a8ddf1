"""A task registered from the tests only (tests/tasks/toy_task.py) passes the same conformance check as the
built-in tasks, with no engine module edited: the proof that a task is one record (and one head)."""

from __future__ import annotations

import pytest

from nnbuilder.errors import SpecError
from nnbuilder.spec.network import parse_spec
from nnbuilder.spec.task_names import TASK_CHOICES
from nnbuilder.tasks import get_task, register_task, task_names, unregister_task
from tests.tasks.conformance import cases, check_task
from tests.tasks.toy_task import NAME, TOY, registered


@pytest.fixture
def toy():
    with registered() as task:
        yield task


def test_the_toy_task_passes_the_conformance_check(toy, tmp_path, seed):
    for _, table, spec in cases(toy):
        check_task(toy, table, spec, tmp_path)


def test_registering_makes_it_a_choice_and_removing_takes_it_away(toy):
    assert NAME in task_names() and NAME in TASK_CHOICES and get_task(NAME) is toy
    assert parse_spec({"data": {"task": NAME}}).data.task == NAME
    unregister_task(NAME)
    assert NAME not in TASK_CHOICES
    with pytest.raises(SpecError, match=NAME):
        parse_spec({"data": {"task": NAME}})


def test_a_task_needs_its_heads_registered_first():
    with pytest.raises(ValueError, match="register the head first"):
        register_task(TOY)  # the fixture is not used: no row_mean head
