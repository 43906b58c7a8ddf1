"""Train page: the settings a task's record says it ignores are hidden, with a line saying so; the others stay."""

from __future__ import annotations

import pytest
from test_app_support import open_app, run_ok

from tests.tasks.toy_task import NAME, registered  # the toy task ignores l1 and momentum
from ui import state


@pytest.fixture
def toy():
    with registered() as task:
        yield task


def _labels(at) -> set[str]:
    return {w.label for w in [*at.number_input, *at.select_slider, *at.selectbox]}


def _with_task(at, task: str):
    at.session_state[state.SPEC]["data"]["task"] = task
    return run_ok(at)


def test_every_setting_shows_for_a_task_that_uses_them_all(toy):
    at = _with_task(open_app("Train"), "regression")
    assert {"L1 penalty", "Momentum", "Weight decay (L2)", "Optimizer", "Epochs"} <= _labels(at)
    assert not any("does not use" in c.value for c in at.caption)


def test_settings_the_task_ignores_are_hidden(toy):
    at = _with_task(open_app("Train"), NAME)
    labels = _labels(at)
    assert "L1 penalty" not in labels and "Momentum" not in labels
    assert {"Weight decay (L2)", "Optimizer", "Epochs", "Learning-rate schedule"} <= labels
    assert any(f"The {NAME} task does not use L1 penalty, momentum: they are hidden." == c.value for c in at.caption)
