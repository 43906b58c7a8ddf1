"""The local worker pool with real worker processes on SQLite in a temporary data folder. Each pool spawns
processes that import torch (seconds each), so the process tests are few and each checks several things."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from nnbuilder.errors import NNBuilderError
from nnbuilder.runs.pool import WORKERS_ENV, LocalWorkerPool, how_it_ended, interrupt_orphans, pool_size
from nnbuilder.runs.store import RunStore
from nnbuilder.spec.network import parse_spec
from tests.runs.test_worker import moons, spec_json

DEADLINE_S = 120.0  # generous: spawning workers imports torch; only reached when something is broken
LONG = 50_000  # epochs: a run that lasts until the test stops it


def spec(epochs: int):
    return parse_spec(json.loads(spec_json(epochs)))


def wait_for(condition, what: str):
    deadline = time.monotonic() + DEADLINE_S
    while not (value := condition()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)
    return value


def status_is(pool: LocalWorkerPool, run_id: str, *statuses: str):
    return lambda: pool.store.get(run_id).status in statuses


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NNBUILDER_HOME", str(tmp_path))
    monkeypatch.delenv("NNBUILDER_DB_URL", raising=False)
    return tmp_path


def test_runs_finish_and_a_killed_worker_fails_its_run_and_is_replaced(home):
    with LocalWorkerPool(size=2, device="cpu", views=()) as pool:
        assert pool.threads == max(1, (os.cpu_count() or 1) // 2)
        long = pool.submit("ada", "long", spec(LONG), moons(), "moons.csv")
        short = pool.submit("bob", "short", spec(5), moons(), "moons.csv")
        assert len(list((home / "tables").iterdir())) == 1  # one table for both runs

        victim = wait_for(lambda: pool.store.get(long).last_epoch and pool.store.get(long).worker, "the long run")
        pid = int(victim.rpartition(":")[2])
        assert pid in pool.pids()
        os.kill(pid, signal.SIGKILL)

        wait_for(status_is(pool, long, "failed"), "the killed worker's run to be failed")
        error = pool.store.get(long).error
        assert error.startswith("the worker process running it died (killed by signal 9 (SIGKILL")
        assert "nothing after epoch" in error and "\n" not in error
        wait_for(status_is(pool, short, "finished"), "the other run to finish")

        wait_for(lambda: pid not in pool.pids() and len(pool.pids()) == 2, "a replacement worker")
        again = pool.submit("ada", "again", spec(3), moons(), "moons.csv")
        wait_for(status_is(pool, again, "finished", "failed"), "a run on the replacement worker")
        assert pool.store.get(again).status == "finished"
        assert pool.store.history(short) and pool.store.get(short).bundle_path


def test_stopping_the_pool_leaves_a_running_run_interrupted_and_resumable(home):
    pool = LocalWorkerPool(size=1, device="cpu", views=())
    try:
        run_id = pool.submit("ada", "long", spec(LONG), moons(), "moons.csv")
        wait_for(lambda: pool.store.get(run_id).checkpoint_epoch, "a checkpoint")
        pids = pool.pids()
    finally:
        pool.stop()
    assert all(not _alive(pid) for pid in pids)
    with RunStore.from_env() as store:
        run = store.get(run_id)
        assert run.status == "interrupted" and run.checkpoint_path and os.path.exists(run.checkpoint_path)
        assert "stopped (server shutdown); its checkpoint after epoch" in run.error  # the worker said it itself
        assert store.requeue(run_id).status == "queued"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_runs_left_running_by_dead_processes_of_this_host_are_marked_interrupted(home):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with RunStore.from_env() as store:
        dead, elsewhere, alive = (store.create_run("ada", name, spec_json(), "moons.csv", "k").id
                                  for name in ("dead", "elsewhere", "alive"))
        host = socket.gethostname()
        store.claim(dead, f"{host}:{gone.pid}")
        store.claim(elsewhere, "another-machine:1")
        store.claim(alive, f"{host}:{os.getpid()}")
        assert interrupt_orphans(store) == [dead]
        assert [store.get(r).status for r in (dead, elsewhere, alive)] == ["interrupted", "running", "running"]
        assert "resume" in store.get(dead).error


def test_the_pool_size_comes_from_the_argument_the_environment_or_the_cores(monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert pool_size() == (os.cpu_count() or 1) and pool_size(3) == 3
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert pool_size() == 2
    monkeypatch.setenv(WORKERS_ENV, "many")
    with pytest.raises(NNBuilderError, match="NNBUILDER_WORKERS must be a whole number of at least 1; got 'many'"):
        pool_size()
    with pytest.raises(NNBuilderError, match="at least 1; got 0"):
        pool_size(0)


def test_a_process_exit_is_told_in_words():
    assert how_it_ended(-9) == "killed by signal 9 (SIGKILL: out of memory, or killed by hand)"
    assert how_it_ended(-15) == "killed by signal 15 (SIGTERM)"
    assert how_it_ended(1) == "exited with code 1"
