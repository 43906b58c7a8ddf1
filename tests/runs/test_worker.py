"""One run through `execute` in this process: the store gets its history, views, checkpoint, bundle and
end, whether it finishes, is cancelled from another store object, fails on its data, crashes, or its worker
is told to stop. The first test runs on SQLite and PostgreSQL; the rest on SQLite (the store's own suite
covers both databases)."""

from __future__ import annotations

import json
import logging
import threading
import time

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file
from sklearn.datasets import make_moons

from nnbuilder.bundle.bundle import load_bundle
from nnbuilder.errors import RunStoreError
from nnbuilder.runs import worker as worker_module
from nnbuilder.runs.store import RunStore
from nnbuilder.runs.tables import get_table, put_table, tables_folder
from nnbuilder.runs.worker import execute
from nnbuilder.runs.workflow import train_from_spec
from nnbuilder.spec.network import parse_spec
from nnbuilder.train.resume import ResumeState, read_checkpoint, write_checkpoint

DEADLINE_S = 60.0  # generous: only reached when something is broken


def moons(rows: int = 200) -> pd.DataFrame:
    X, y = make_moons(n_samples=rows, noise=0.2, random_state=0)
    return pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "label": np.where(y == 1, "b", "a")})


def spec_json(epochs: int = 6, target: str = "label", patience: int = 0) -> str:
    return json.dumps({"version": 1, "data": {"target": target},
                       "layers": [{"type": "dense", "units": 16}, {"type": "dense", "units": 8}],
                       "training": {"epochs": epochs, "batch_size": 16, "learning_rate": 0.01, "seed": 3,
                                    "early_stopping_patience": patience}})


def queued(store: RunStore, home, epochs: int = 6, target: str = "label", df: pd.DataFrame | None = None) -> str:
    key = put_table(moons() if df is None else df, home)
    return store.create_run("ada", "moons", spec_json(epochs, target), "moons.csv", key).id


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def sqlite_store(tmp_path):
    with RunStore(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        yield store


def test_a_run_finishes_with_its_history_metrics_views_checkpoint_and_a_bundle(store_url, tmp_path):
    with RunStore(store_url) as store:
        run_id = queued(store, tmp_path)
        run = execute(store, run_id, "test:1", home=tmp_path, device="cpu")
        assert run.status == "finished" and run.error is None and run.worker == "test:1"
        history = store.history(run_id)
        assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5, 6]
        assert run.last_epoch == 6 and store.views(run_id) is not None
        assert run.metrics["epochs"] == 6 and 0.5 < run.metrics["metrics"]["test"]["accuracy"] <= 1.0

        # The bundle predicts as the same spec trained here does (same seed, same data).
        trained = train_from_spec(moons(), parse_spec(json.loads(spec_json())), device="cpu", views=("all",))
        bundle = load_bundle(run.bundle_path)
        assert bundle.predict(moons()).equals(_predictions(trained, bundle))
        losses = [row["train_loss"] for row in trained.fit.history]
        assert [row["train_loss"] for row in history] == pytest.approx(losses)

        # The checkpoint holds the best epoch's weights: loaded into the network, the bundle's outputs.
        assert run.checkpoint_epoch == run.metrics["best_epoch"]
        weights = read_checkpoint(run.checkpoint_path).weights("best")
        bundle.model.load_state_dict(weights)
        assert bundle.predict(moons()).equals(load_bundle(run.bundle_path).predict(moons()))


def _predictions(trained, bundle) -> pd.DataFrame:
    bundle.model.load_state_dict(trained.model.state_dict())
    return bundle.predict(moons())


def test_a_cancel_from_another_store_object_stops_the_run_and_keeps_its_best_weights(sqlite_store, tmp_path):
    run_id = queued(sqlite_store, tmp_path, epochs=5000)
    with RunStore(f"sqlite:///{tmp_path / 'runs.db'}") as other:
        def cancel_after_an_epoch():
            wait_for(lambda: other.get(run_id).last_epoch, "the first epoch")
            other.request_cancel(run_id)

        thread = threading.Thread(target=cancel_after_an_epoch)
        thread.start()
        run = execute(sqlite_store, run_id, "test:1", home=tmp_path, device="cpu", views=())
        thread.join()
    assert run.status == "cancelled" and run.cancel_requested
    assert 1 <= len(sqlite_store.history(run_id)) < 5000
    assert run.metrics["stop_reason"] == "cancelled"
    assert load_bundle(run.bundle_path).predict(moons()).shape[0] == 200


def test_a_worker_told_to_stop_leaves_the_run_interrupted_with_its_checkpoint(sqlite_store, tmp_path):
    run_id = queued(sqlite_store, tmp_path, epochs=5000)
    stopping = threading.Event()

    def stop_after_an_epoch():
        wait_for(lambda: sqlite_store.get(run_id).checkpoint_epoch, "the first checkpoint")
        stopping.set()

    thread = threading.Thread(target=stop_after_an_epoch)
    thread.start()
    run = execute(sqlite_store, run_id, "test:1", home=tmp_path, device="cpu", views=(), stopping=stopping)
    thread.join()
    assert run.status == "interrupted" and run.bundle_path is None
    assert "stopped" in run.error and f"epoch {run.checkpoint_epoch}" in run.error
    assert read_checkpoint(run.checkpoint_path).epoch == run.checkpoint_epoch  # the state to resume from
    assert sqlite_store.requeue(run_id).status == "queued"


def test_a_spec_that_does_not_fit_the_data_fails_with_the_data_errors_line(sqlite_store, tmp_path):
    run = execute(sqlite_store, queued(sqlite_store, tmp_path, target="nope"), "test:1", home=tmp_path)
    assert run.status == "failed" and "nope" in run.error and "\n" not in run.error
    assert run.bundle_path is None and run.checkpoint_path is None


def test_a_bug_fails_the_run_in_one_line_and_logs_the_traceback(sqlite_store, tmp_path, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(worker_module, "train_from_spec", broken)
    with caplog.at_level(logging.ERROR, logger=worker_module.__name__):
        run = execute(sqlite_store, queued(sqlite_store, tmp_path), "test:1", home=tmp_path)
    assert run.status == "failed" and run.error == "internal error: ValueError: boom"
    assert any(record.exc_info for record in caplog.records)


def test_a_run_whose_table_was_deleted_fails_naming_it(sqlite_store, tmp_path):
    run_id = queued(sqlite_store, tmp_path)
    for file in tables_folder(tmp_path).iterdir():
        file.unlink()
    run = execute(sqlite_store, run_id, "test:1", home=tmp_path)
    assert run.status == "failed" and "missing" in run.error and "upload the data again" in run.error


def test_a_run_someone_else_claimed_is_left_alone(sqlite_store, tmp_path):
    run_id = queued(sqlite_store, tmp_path)
    sqlite_store.claim(run_id, "elsewhere:7")
    assert execute(sqlite_store, run_id, "test:1", home=tmp_path) is None
    assert sqlite_store.get(run_id).worker == "elsewhere:7"


# ---- the table store --------------------------------------------------------------------------------------

def test_the_same_table_is_stored_once_and_read_back_with_its_types(tmp_path):
    df = moons().assign(kind=lambda d: pd.Categorical(d["label"]), n=np.arange(200))
    key = put_table(df, tmp_path)
    assert put_table(df.copy(), tmp_path) == key and len(list(tables_folder(tmp_path).iterdir())) == 1
    assert put_table(df.head(10), tmp_path) != key
    assert get_table(key, tmp_path).equals(df)


def test_a_missing_table_is_named_in_one_line(tmp_path):
    with pytest.raises(RunStoreError, match=r"the table 0123456789ab\.\.\. is missing .*upload the data again"):
        get_table("0123456789ab" * 5 + "cdef", tmp_path)
    with pytest.raises(RunStoreError, match="not a table fingerprint"):
        get_table("../etc/passwd", tmp_path)


def test_weights_files_are_replaced_whole(tmp_path):
    path = tmp_path / "w.safetensors"
    write_checkpoint(ResumeState({"model.weight": torch.zeros(1, 2)}, {"format": 1}), path)
    write_checkpoint(ResumeState({"model.weight": torch.zeros(3, 2)}, {"format": 1}), path)
    assert load_file(str(path))["model.weight"].shape == (3, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temporary left behind
