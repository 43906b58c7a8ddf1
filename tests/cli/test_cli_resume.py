"""`nnbuilder resume RUN` end to end on a tmp NNBUILDER_HOME: an interrupted run goes on from its checkpoint,
prints the same JSON summary `train` prints plus the bundle path; the refusals are one line, exit 2."""

from __future__ import annotations

import json
import os
import threading

import pytest

from nnbuilder.cli.main import main
from nnbuilder.runs.config import data_home, store_url
from nnbuilder.runs.store import RunStore
from nnbuilder.runs.worker import execute

from tests.cli.test_cli import fail, run
from tests.runs.test_resume import SPEC, StopAfter, _queued, _uninterrupted


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NNBUILDER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NNBUILDER_DB_URL", raising=False)
    return tmp_path / "home"


def interrupted(k: int = 3) -> str:
    """A run of SPEC in the environment's store, stopped by its worker after epoch `k`."""
    stopping = threading.Event()
    data_home().mkdir(parents=True, exist_ok=True)
    with StopAfter(store_url(), k, stopping) as store:
        run_id = _queued(store, data_home())
        assert execute(store, run_id, "test:1", home=data_home(), device="cpu", views=(),
                       stopping=stopping).status == "interrupted"
    return run_id


def test_resume_finishes_the_run_as_an_uninterrupted_one_would(home, tmp_path, capsys):
    run_id = interrupted()
    code, out, err = run(["resume", run_id, "--device", "cpu"], capsys)
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    expected, _ = _uninterrupted(tmp_path, SPEC)
    assert summary["metrics"] == expected.metrics["metrics"] and summary["epochs"] == SPEC["training"]["epochs"]
    assert os.path.isdir(summary["bundle"])
    with RunStore(store_url()) as store:
        assert store.get(run_id).status == "finished"
        assert [row["epoch"] for row in store.history(run_id)] == list(range(1, SPEC["training"]["epochs"] + 1))
    assert "epoch" in err  # the progress output


def test_resume_of_an_unknown_run_says_so(home, capsys):
    fail(["resume", "nosuchrun"], capsys, "no run nosuchrun")


def test_resume_of_a_finished_run_has_nothing_to_do(home, capsys):
    run_id = interrupted()
    assert main(["resume", run_id, "--device", "cpu"]) == 0
    capsys.readouterr()
    fail(["resume", run_id], capsys, f"run {run_id} is finished; nothing to resume")


def test_resume_without_its_checkpoint_file_leaves_the_run_interrupted(home, capsys):
    run_id = interrupted()
    with RunStore(store_url()) as store:
        os.remove(store.get(run_id).checkpoint_path)
    fail(["resume", run_id], capsys, "checkpoint file", "is missing")
    with RunStore(store_url()) as store:
        assert store.get(run_id).status == "interrupted"
