"""Train page: a run to completion with live curves, Stop, a diverging run, and reattaching after a refresh."""

import time

from test_app_support import by_label, charts, open_app, run_ok, texts, wait_for_job

from nnbuilder.data.pipeline import load_table
from nnbuilder.runs import workflow
from nnbuilder.runs.workflow import training_work
from nnbuilder.spec.network import default_spec
from ui import engine, jobs, state


def set_training(at, **values):
    labels = {"epochs": "Epochs", "learning_rate": "Learning rate", "optimizer": "Optimizer",
              "early_stopping_patience": "Early stopping patience (epochs)"}
    for name, value in values.items():
        widgets = [*at.number_input, *at.select_slider, *at.selectbox]
        by_label(widgets, labels[name]).set_value(value)
    return run_ok(at)


def click(at, label):
    by_label(at.button, label).click()
    return run_ok(at)


def test_train_runs_to_completion_with_curves_and_metric():
    at = open_app("Train")
    assert any("Training on: **cpu**" in c.value or "Training on: **cuda**" in c.value for c in at.caption)
    set_training(at, epochs=4)
    click(at, "Train")
    assert at.query_params["job"] == at.session_state["job_id"]
    assert by_label(at.button, "Stop").disabled is False and by_label(at.button, "Train").disabled is True
    snap = wait_for_job(at)
    assert snap.status == "done" and len(snap.history) == 4
    assert any(text.startswith("Training finished after 4 epochs: test accuracy") for text in texts(at.success))
    assert [c.key for c in charts(at)][:2] == ["live_loss", "live_metric"]  # loss and accuracy curves
    assert at.session_state[state.TRAINED] is snap.result
    assert by_label(at.button, "Train").disabled is False


def test_a_train_click_prepares_the_data_once_and_the_run_trains_on_it(monkeypatch):
    """The page prepares the data to check it before queueing; the worker must reuse that, not prepare again."""
    calls = []
    for module in (engine, workflow):  # the page's cached call and the worker's own
        real = module.prepare
        monkeypatch.setattr(module, "prepare", lambda *a, _real=real, **k: calls.append(1) or _real(*a, **k))
    at = open_app("Train")
    set_training(at, epochs=2)
    at.session_state[state.PREPARED_CACHE] = None  # whatever the Data page prepared: start from nothing
    calls.clear()
    click(at, "Train")
    snap = wait_for_job(at)
    assert snap.status == "done"
    assert len(calls) == 1
    assert snap.result.prepared is at.session_state[state.PREPARED_CACHE][1]


def test_stop_cancels_the_run():
    at = open_app("Train")
    set_training(at, epochs=100000, early_stopping_patience=0)
    click(at, "Train")
    click(at, "Stop")
    snap = wait_for_job(at, timeout=60)
    assert snap.status == "cancelled"
    assert any("Stopped by you" in text for text in texts(at.warning))


def test_diverging_run_shows_the_engine_message():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("diabetes")
    run_ok(at)
    at.switch_page("pages/3_Train.py")
    run_ok(at)
    set_training(at, optimizer="sgd", learning_rate=10.0, epochs=3)
    click(at, "Train")
    snap = wait_for_job(at)
    assert snap.status == "failed"
    errors = texts(at.error)
    assert len(errors) == 1 and "training diverged at epoch 1" in errors[0] and "lower the learning rate" in errors[0]
    assert at.session_state.get(state.TRAINED) is None


def test_invalid_spec_is_reported_instead_of_training():
    at = open_app("Train")
    at.session_state[state.SPEC]["layers"].append({"type": "dropout", "rate": 3})
    click(at, "Train")
    assert "Layer 4: rate must be in [0, 1); got 3" in texts(at.error)[0]  # numbered like the Build page's cards
    assert at.session_state.get("job_id") is None


def test_a_refreshed_page_reattaches_to_its_run():
    owner = "cd" * 16
    df, _ = load_table("sample:moons")
    spec = default_spec("label").model_copy(update={"training": default_spec().training.model_copy(
        update={"epochs": 3})})
    job_id = jobs.registry().submit(owner, "moons", training_work(df, spec))
    jobs.registry().wait(job_id, 60)
    at = open_app("Train", query={"owner": owner, "job": job_id})
    assert at.session_state["job_id"] == job_id
    assert any("Training finished after 3 epochs" in text for text in texts(at.success))
    assert at.session_state[state.TRAINED] is not None  # Evaluate, Predict and Export work again


def test_someone_elses_job_is_not_attached():
    df, _ = load_table("sample:moons")
    job_id = jobs.registry().submit("ef" * 16, "theirs", training_work(df, default_spec("label")))
    jobs.registry().cancel(job_id)
    jobs.registry().wait(job_id, 60)
    at = open_app("Train", query={"owner": "12" * 16, "job": job_id})
    assert at.session_state.get("job_id") is None and "job" not in at.query_params


def test_dropout_control_sets_every_dropout_layer():
    at = open_app("Train")
    by_label(at.slider, "Dropout (every dropout layer)").set_value(0.3)
    run_ok(at)
    assert [layer["rate"] for layer in at.session_state[state.SPEC]["layers"] if layer["type"] == "dropout"] == [0.3]


def test_a_queued_run_shows_its_place_in_the_queue():
    registry = jobs.registry()
    deadline = time.monotonic() + 60
    while registry.running_count() and time.monotonic() < deadline:  # runs of earlier tests winding down
        time.sleep(0.05)
    blockers = [registry.submit(f"{i:032x}", "blocker", lambda observers, cancel: cancel.wait(60))
                for i in range(registry.max_running)]
    try:
        at = open_app("Train")
        click(at, "Train")
        assert "Waiting in the queue: position 1" in texts(at.info)
        click(at, "Stop")
        assert registry.snapshot(at.session_state["job_id"]).status == "cancelled"
    finally:
        for job_id in blockers:
            registry.cancel(job_id)
