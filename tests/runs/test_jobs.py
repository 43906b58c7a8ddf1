"""The job registry, driven by fake work gated with threading.Events: no sleep-and-hope.

Every wait is bounded (TIMEOUT) so a bug fails the test instead of hanging it.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import pandas as pd
import pytest

from nnbuilder.errors import DataError, NNBuilderError
from nnbuilder.train.events import BatchProgress, EpochEnded, FitStarted
from nnbuilder.runs.jobs import MAX_JOBS_ENV, JobRegistry
from nnbuilder.runs.workflow import training_work

TIMEOUT = 30.0  # generous: only reached when something is broken


class Gate:
    """A fake `work`: reports that it started, then blocks until released (or cancelled)."""

    def __init__(self, name: str = "", log: list | None = None, result: object = "trained",
                 raises: BaseException | None = None, events: list | None = None):
        self.name, self.log, self.result, self.raises, self.events = name, log, result, raises, events or []
        self.started = threading.Event()
        self.release = threading.Event()
        self.saw_cancel = False

    def __call__(self, observers, cancel):
        if self.log is not None:
            self.log.append(self.name)
        for event in self.events:
            for observer in observers:
                observer(event)
        self.started.set()
        while not self.release.is_set():  # like the trainer: watch the cancel flag while working
            if cancel.wait(0.01):
                self.saw_cancel = True
                break
        if self.raises is not None:
            raise self.raises
        return self.result


def started(gate: Gate) -> None:
    assert gate.started.wait(TIMEOUT), f"work {gate.name!r} never started"


@pytest.fixture
def registry():
    reg = JobRegistry(max_running=2)
    yield reg
    reg.shutdown(wait=True)


def test_concurrency_cap_queues_the_third_job_and_starts_it_when_a_slot_frees(registry):
    a, b, c = Gate("a"), Gate("b"), Gate("c")
    ids = [registry.submit("alice", name, gate) for name, gate in (("a", a), ("b", b), ("c", c))]
    started(a), started(b)
    assert registry.running_count() == 2 and registry.queue_length() == 1
    third = registry.snapshot(ids[2])
    assert third.status == "queued" and third.queue_position == 1
    assert not c.started.is_set()
    assert registry.snapshot(ids[0]).queue_position is None

    a.release.set()
    assert registry.wait(ids[0], TIMEOUT).status == "done"
    started(c)
    assert registry.snapshot(ids[2]).status == "running"
    assert registry.running_count() == 2 and registry.queue_length() == 0
    b.release.set(), c.release.set()
    assert [registry.wait(i, TIMEOUT).status for i in ids] == ["done"] * 3
    assert registry.running_count() == 0


def test_queued_jobs_start_in_submission_order():
    registry = JobRegistry(max_running=1)
    log: list[str] = []
    gates = [Gate(name, log) for name in "abcd"]
    ids = [registry.submit("alice", g.name, g) for g in gates]
    started(gates[0])
    assert [registry.snapshot(i).queue_position for i in ids] == [None, 1, 2, 3]
    for gate in gates:  # release one at a time; each must be the next one started
        started(gate)
        gate.release.set()
    for job_id in ids:
        registry.wait(job_id, TIMEOUT)
    assert log == ["a", "b", "c", "d"]
    registry.shutdown()


def test_cancelling_a_queued_job_finishes_it_at_once_and_it_never_starts():
    registry = JobRegistry(max_running=1)
    first, second, third = Gate("first"), Gate("second"), Gate("third")
    ids = [registry.submit("alice", g.name, g) for g in (first, second, third)]
    started(first)
    assert registry.cancel(ids[1]) is True
    snap = registry.snapshot(ids[1])
    assert snap.status == "cancelled" and snap.queue_position is None and snap.finished_at is not None
    assert registry.snapshot(ids[2]).queue_position == 1  # the queue closed up
    assert registry.cancel(ids[1]) is False  # already finished

    first.release.set()
    started(third)  # the next slot went to the third job, not the cancelled one
    third.release.set()
    registry.wait(ids[2], TIMEOUT)
    assert not second.started.is_set()
    assert registry.snapshot(ids[1]).status == "cancelled"
    registry.shutdown()


def test_cancelling_a_running_job_signals_the_work_and_keeps_its_result(registry):
    gate = Gate("run", result="best weights")
    job_id = registry.submit("alice", "run", gate)
    started(gate)
    assert registry.cancel(job_id) is True
    snap = registry.wait(job_id, TIMEOUT)
    assert gate.saw_cancel
    assert snap.status == "cancelled" and snap.result == "best weights" and snap.error is None


def test_an_nnbuilder_error_fails_the_job_with_its_message(registry):
    message = "column 'price' has text in a numeric column; clean it or drop it"
    gate = Gate("bad data", raises=DataError(message, column="price"))
    gate.release.set()
    snap = registry.wait(registry.submit("alice", "bad data", gate), TIMEOUT)
    assert snap.status == "failed" and snap.error == message and snap.result is None


def test_an_unexpected_exception_fails_the_job_as_a_bug_and_logs_the_traceback(registry, caplog):
    gate = Gate("buggy", raises=ZeroDivisionError("division by zero"))
    gate.release.set()
    with caplog.at_level(logging.ERROR, logger="nnbuilder.runs.jobs"):
        snap = registry.wait(registry.submit("alice", "buggy", gate), TIMEOUT)
    assert snap.status == "failed"
    assert snap.error == "unexpected error: ZeroDivisionError: division by zero (this is a bug in nnbuilder)"
    assert any(record.exc_info and record.exc_info[0] is ZeroDivisionError for record in caplog.records)
    # The slot was freed: the registry still runs work after a crash.
    ok = Gate("ok")
    ok.release.set()
    assert registry.wait(registry.submit("alice", "ok", ok), TIMEOUT).status == "done"


def test_owners_only_see_their_own_jobs(registry):
    gates = [Gate(str(i)) for i in range(3)]
    for gate in gates:
        gate.release.set()
    a1 = registry.submit("alice", "a1", gates[0])
    b1 = registry.submit("bob", "b1", gates[1])
    a2 = registry.submit("alice", "a2", gates[2])
    for job_id in (a1, b1, a2):
        registry.wait(job_id, TIMEOUT)
    assert [s.id for s in registry.jobs_for("alice")] == [a2, a1]  # newest first
    assert [s.id for s in registry.jobs_for("bob")] == [b1]
    assert registry.jobs_for("mallory") == []
    assert registry.snapshot(a1, owner="bob") is None
    assert registry.snapshot(a1, owner="alice").label == "a1"
    assert registry.snapshot(a1).owner == "alice"  # no owner given: the id alone is enough
    assert registry.snapshot("0" * 32) is None
    assert len(a1) == 32 and int(a1, 16) >= 0  # uuid4 hex


def test_cancel_checks_the_owner(registry):
    gate = Gate("mine")
    job_id = registry.submit("alice", "mine", gate)
    started(gate)
    assert registry.cancel(job_id, owner="bob") is False
    assert registry.snapshot(job_id).status == "running" and not gate.saw_cancel
    assert registry.cancel(job_id, owner="alice") is True
    assert registry.wait(job_id, TIMEOUT).status == "cancelled"


def test_an_owner_cannot_have_more_than_max_per_owner_active_jobs():
    registry = JobRegistry(max_running=1, max_per_owner=2)
    gates = [Gate(str(i)) for i in range(4)]
    first = registry.submit("alice", "0", gates[0])
    registry.submit("alice", "1", gates[1])  # queued counts as active too
    with pytest.raises(NNBuilderError, match="already have 2 trainings queued or running"):
        registry.submit("alice", "2", gates[2])
    registry.submit("bob", "3", gates[3])  # other owners are not affected
    gates[0].release.set()
    registry.wait(first, TIMEOUT)
    gates[2].release.set()
    registry.submit("alice", "2 again", gates[2])  # a finished job frees a place
    registry.shutdown()


def test_cleanup_drops_only_finished_jobs_older_than_keep_finished_s():
    registry = JobRegistry(max_running=1, keep_finished_s=100.0)
    done, running = Gate("done"), Gate("running")
    done.release.set()
    old = registry.submit("alice", "done", done)
    finished_at = registry.wait(old, TIMEOUT).finished_at
    active = registry.submit("alice", "running", running)
    started(running)
    assert registry.cleanup(now=finished_at + 99.0) == 0
    assert registry.snapshot(old) is not None
    assert registry.cleanup(now=finished_at + 101.0) == 1
    assert registry.snapshot(old) is None
    assert registry.snapshot(active).status == "running"  # unfinished jobs are never dropped, however old
    registry.shutdown()


def test_snapshots_are_copies_the_caller_cannot_corrupt(registry):
    record = {"epoch": 1, "train_loss": 0.5}
    gate = Gate("progress", events=[
        FitStarted(epochs=4, n_train=100, n_val=20, device="cpu", metric="accuracy", parameters=10),
        EpochEnded(1, 4, record),
        BatchProgress(epoch=2, batch=3, n_batches=10),
    ])
    job_id = registry.submit("alice", "progress", gate)
    started(gate)
    snap = registry.snapshot(job_id)
    assert (snap.epoch, snap.epochs, snap.batch, snap.n_batches) == (1, 4, 3, 10)
    assert snap.metric == "accuracy" and snap.device == "cpu" and snap.eta_s is not None
    assert snap.progress == pytest.approx((1 + 0.3) / 4)
    snap.history[0]["train_loss"] = 99.0
    record["train_loss"] = 42.0  # the trainer's own dict is not shared either
    with pytest.raises(AttributeError):
        snap.status = "done"
    assert registry.snapshot(job_id).history == ({"epoch": 1, "train_loss": 0.5},)
    gate.release.set()
    assert registry.wait(job_id, TIMEOUT).eta_s is None


def test_shutdown_cancels_queued_and_running_jobs():
    registry = JobRegistry(max_running=1)
    running, queued = Gate("running"), Gate("queued")
    ids = [registry.submit("alice", "running", running), registry.submit("alice", "queued", queued)]
    started(running)
    registry.shutdown(wait=True)
    assert [registry.snapshot(i).status for i in ids] == ["cancelled", "cancelled"]
    assert running.saw_cancel and not queued.started.is_set()
    with pytest.raises(NNBuilderError, match="shutting down"):
        registry.submit("alice", "late", Gate())


def test_max_running_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(MAX_JOBS_ENV, "3")
    assert JobRegistry().max_running == 3
    assert JobRegistry(max_running=1).max_running == 1  # an explicit argument wins
    monkeypatch.setenv(MAX_JOBS_ENV, "lots")
    with pytest.raises(NNBuilderError, match="NNBUILDER_MAX_JOBS must be a whole number"):
        JobRegistry()
    monkeypatch.delenv(MAX_JOBS_ENV)
    assert JobRegistry().max_running == 2


def two_blobs(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, rows)
    centres = np.where(label[:, None] == 1, 2.0, -2.0)  # well apart: any working network separates them
    points = centres + rng.normal(size=(rows, 2))
    return pd.DataFrame({"x1": points[:, 0], "x2": points[:, 1], "label": np.where(label == 1, "yes", "no")})


def test_a_real_training_job_runs_end_to_end(registry):
    from nnbuilder.spec.network import parse_spec

    spec = parse_spec({
        "data": {"target": "label"},
        "layers": [{"type": "dense", "units": 8, "activation": "relu"}],
        "training": {"epochs": 5, "batch_size": 16, "learning_rate": 0.01, "early_stopping_patience": 0},
    })
    job_id = registry.submit("alice", "blobs", training_work(two_blobs(), spec, device="cpu"))
    snap = registry.wait(job_id, TIMEOUT * 4)
    assert snap.status == "done", snap.error
    assert len(snap.history) == 5 and snap.epoch == 5 and snap.epochs == 5
    assert snap.metric == "accuracy" and snap.device == "cpu" and snap.progress == 1.0
    assert snap.result.metrics["test"]["accuracy"] >= 0.9


def test_context_travels_with_the_job_read_only(registry):
    table = object()  # stands for the DataFrame: shared, not copied
    job_id = registry.submit("alice", "ctx", lambda observers, cancel: "ok",
                             context={"spec": {"layers": []}, "frame": table})
    snap = registry.wait(job_id, TIMEOUT)
    assert snap.status == "done" and snap.context["frame"] is table and snap.context["spec"] == {"layers": []}
    with pytest.raises(TypeError):
        snap.context["spec"] = {}  # read-only view
    assert registry.snapshot(registry.submit("bob", "plain", lambda o, c: None)).context == {}
