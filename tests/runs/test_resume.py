"""An interrupted run, queued again and executed, ends exactly where an uninterrupted run of the same seed
ends: the checkpoint holds the weights, optimizer, schedule, early-stopping and generator states
(nnbuilder.train.resume), so on the CPU the resumed epochs are the same computation on the same numbers.
That is why these tests assert equality, not a tolerance."""

from __future__ import annotations

import json
import threading

import pytest

from nnbuilder.runs.store import RunStore
from nnbuilder.runs.tables import put_table
from nnbuilder.runs.worker import execute

from tests.runs.test_worker import moons

SPEC = {"version": 1, "data": {"target": "label"},
        "layers": [{"type": "dense", "units": 16}, {"type": "dropout", "rate": 0.2}, {"type": "dense", "units": 8}],
        "training": {"epochs": 8, "batch_size": 16, "learning_rate": 0.01, "seed": 5, "optimizer": "adam",
                     "lr_schedule": "cosine"}}


class StopAfter(RunStore):
    """A store that tells the worker to stop once epoch `k`'s row is written: the stop then lands at the
    start of epoch k+1, deterministically (a timed stop would land anywhere)."""

    def __init__(self, url, k: int, stopping: threading.Event):
        super().__init__(url)
        self.k, self.stopping = k, stopping

    def append_epoch(self, run_id, record):
        super().append_epoch(run_id, record)
        if record["epoch"] == self.k:
            self.stopping.set()


def _queued(store, home, spec=SPEC) -> str:
    return store.create_run("ada", "moons", json.dumps(spec), "moons.csv", put_table(moons(), home)).id


def _without_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def _uninterrupted(tmp_path, spec):
    with RunStore(f"sqlite:///{tmp_path / 'plain.db'}") as store:
        run = execute(store, _queued(store, tmp_path, spec), "test:1", home=tmp_path, device="cpu", views=())
        return run, store.history(run.id)


@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("variant", ["cosine", "plateau_early_stop"])
def test_an_interrupted_run_resumes_to_the_same_final_metric(tmp_path, k, variant):
    spec = json.loads(json.dumps(SPEC))
    if variant == "plateau_early_stop":
        spec["training"] |= {"epochs": 40, "lr_schedule": "reduce_on_plateau", "early_stopping_patience": 4,
                             "learning_rate": 0.05}
    expected, expected_history = _uninterrupted(tmp_path, spec)

    stopping = threading.Event()
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with StopAfter(url, k, stopping) as store:
        run_id = _queued(store, tmp_path, spec)
        first = execute(store, run_id, "test:1", home=tmp_path, device="cpu", views=(), stopping=stopping)
    assert first.status == "interrupted" and first.checkpoint_epoch == k and first.last_epoch == k

    with RunStore(url) as store:
        store.requeue(run_id)
        run = execute(store, run_id, "test:2", home=tmp_path, device="cpu", views=())
        history = store.history(run_id)
    assert run.status == "finished"
    assert [row["epoch"] for row in history] == list(range(1, len(expected_history) + 1))  # continuous, no repeats
    assert _without_time(history) == _without_time(expected_history)
    assert run.metrics["best_epoch"] == expected.metrics["best_epoch"]
    assert run.metrics["stop_reason"] == expected.metrics["stop_reason"]
    assert run.metrics["metrics"] == expected.metrics["metrics"]  # the test metrics of the returned model


def test_a_run_interrupted_after_its_last_improvement_keeps_its_best_model(tmp_path):
    """The best epoch is before the interrupt, with stale epochs counted after it: the resumed fit keeps
    the checkpoint's best weights and early-stops when the uninterrupted one did."""
    spec = json.loads(json.dumps(SPEC))
    spec["training"] |= {"epochs": 40, "lr_schedule": "reduce_on_plateau", "early_stopping_patience": 4,
                         "learning_rate": 0.05}
    expected, _ = _uninterrupted(tmp_path, spec)
    k = expected.metrics["best_epoch"] + 2  # the premise: two stale epochs, then the interrupt
    assert expected.metrics["stop_reason"] == "early_stopped" and k < expected.metrics["epochs"]
    stopping = threading.Event()
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with StopAfter(url, k, stopping) as store:
        run_id = _queued(store, tmp_path, spec)
        execute(store, run_id, "test:1", home=tmp_path, device="cpu", views=(), stopping=stopping)
        store.requeue(run_id)
    with RunStore(url) as store:
        run = execute(store, run_id, "test:2", home=tmp_path, device="cpu", views=())
    assert run.metrics["best_epoch"] == expected.metrics["best_epoch"]
    assert run.metrics["epochs"] == expected.metrics["epochs"]
    assert run.metrics["metrics"] == expected.metrics["metrics"]


def test_a_resumed_run_whose_checkpoint_is_gone_fails_with_one_line(tmp_path):
    stopping = threading.Event()
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with StopAfter(url, 2, stopping) as store:
        run_id = _queued(store, tmp_path)
        run = execute(store, run_id, "test:1", home=tmp_path, device="cpu", views=(), stopping=stopping)
        store.requeue(run_id)
        __import__("os").remove(run.checkpoint_path)
        run = execute(store, run_id, "test:2", home=tmp_path, device="cpu", views=())
    assert run.status == "failed" and "checkpoint file" in run.error and "missing" in run.error
    assert "\n" not in run.error


def test_a_gan_run_resumes_exactly_too(tmp_path):
    """The GAN's step keeps no best weights and draws its noise from torch's generator: both come back."""
    spec = {"version": 1, "data": {"task": "gan"}, "layers": [{"type": "dense", "units": 16}],
            "training": {"epochs": 6, "batch_size": 32, "learning_rate": 0.001, "seed": 2}}
    expected, expected_history = _uninterrupted(tmp_path, spec)
    stopping = threading.Event()
    with StopAfter(f"sqlite:///{tmp_path / 'runs.db'}", 3, stopping) as store:
        run_id = _queued(store, tmp_path, spec)
        assert execute(store, run_id, "test:1", home=tmp_path, device="cpu", views=(),
                       stopping=stopping).status == "interrupted"
        store.requeue(run_id)
        run = execute(store, run_id, "test:2", home=tmp_path, device="cpu", views=())
        assert _without_time(store.history(run_id)) == _without_time(expected_history)
    assert run.status == "finished" and run.metrics["metrics"] == expected.metrics["metrics"]
