"""Pages follow the task's record: Train hides the settings a task ignores (with a line saying so), Evaluate
and Predict show the views it lists, for a task registered by a test (tests/tasks/toy_task.py)."""

from __future__ import annotations

import pytest
from test_app_support import open_app, run_ok, texts

from nnbuilder import tasks
from nnbuilder.spec.network import parse_spec
from tests.tasks.toy_task import NAME, examples, registered  # the toy task ignores l1 and momentum
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


def test_evaluate_and_predict_show_the_views_the_record_lists(toy):
    _, table, spec_dict = examples()[0]
    spec = parse_spec(spec_dict)
    trained = tasks.fit(table, spec, tasks.prepare(table, spec.data, seed=0, input=spec.input), device="cpu")
    session = {state.TRAINED: trained, state.TRAINED_JOB: "seeded", state.TRAINED_FRAME: table}
    at = open_app("Evaluate", session=session)
    assert [m.label for m in at.metric][:3] == ["Test R²", "Test RMSE", "Test MAE"]  # its "number_cards"
    assert any(c.startswith("Row mean of **row_mean**") for c in texts(at.caption))
    at = open_app("Predict", session=session)
    assert [s.value for s in at.subheader][:2] == ["One row", "Many rows"]
