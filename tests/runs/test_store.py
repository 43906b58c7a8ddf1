"""The durable run store, every test on SQLite and on a real PostgreSQL server (tests/runs/conftest.py)."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select, text

from nnbuilder.errors import NNBuilderError, RunStoreError
from nnbuilder.runs.config import DB_URL_ENV, HOME_ENV, parse_url, store_url as env_store_url
from nnbuilder.runs.schema import SCHEMA_VERSION, epochs, views
from nnbuilder.runs.store import RunStore

SPEC = json.dumps({"version": 1, "layers": [{"type": "dense", "units": 8}]})
START = datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)


def ticking_clock():
    """Timestamps one second apart, so 'newest first' is decided without sleeping."""
    ticks = itertools.count()
    return lambda: START + timedelta(seconds=next(ticks))


@pytest.fixture
def store(store_url):
    with RunStore(store_url, clock=ticking_clock()) as opened:
        yield opened


def new_run(store: RunStore, owner: str = "ada", label: str = "churn"):
    return store.create_run(owner, label, SPEC, "churn.csv", "sha256:abc")


def running_run(store: RunStore, worker: str = "host:1"):
    return store.claim(new_run(store).id, worker, device="cpu")


def count_rows(url: str, table, run_id: str) -> int:
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(table.c.run_id == run_id)).scalar()
    finally:
        engine.dispose()


# ---- a run's life -----------------------------------------------------------------------------------------

def test_a_run_goes_from_queued_through_running_to_finished_with_its_history(store):
    run = new_run(store)
    assert (run.status, run.owner, run.label, run.spec, run.data_name, run.data_fingerprint) == (
        "queued", "ada", "churn", SPEC, "churn.csv", "sha256:abc")
    assert run.created_at == START and run.started_at is None and not run.cancel_requested

    claimed = store.claim(run.id, "host:42", device="cuda:0")
    assert (claimed.status, claimed.worker, claimed.device) == ("running", "host:42", "cuda:0")
    assert claimed.started_at == START + timedelta(seconds=1)

    rows = [{"epoch": e, "train_loss": 1.0 / e, "val_accuracy": 0.5 + e / 10} for e in (1, 2, 3)]
    for row in rows:
        store.append_epoch(run.id, row)
    done = store.finish(run.id, {"accuracy": 0.8, "confusion": [[3, 1], [0, 4]]}, "/data/bundles/churn")
    assert (done.status, done.last_epoch, done.bundle_path) == ("finished", 3, "/data/bundles/churn")
    assert done.metrics == {"accuracy": 0.8, "confusion": [[3, 1], [0, 4]]}
    assert done.ended_at > done.started_at and done.ended_at.tzinfo is not None
    assert store.history(run.id) == rows
    assert store.get(run.id) == done


def test_history_comes_back_in_epoch_order_and_a_repeated_epoch_replaces_its_row(store):
    run = running_run(store)
    for epoch in (3, 1, 2):
        store.append_epoch(run.id, {"epoch": epoch, "loss": float(epoch)})
    store.append_epoch(run.id, {"epoch": 2, "loss": 0.25})  # a resumed run repeats the epochs after its checkpoint
    assert store.history(run.id) == [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.25}, {"epoch": 3, "loss": 3.0}]


def test_json_values_round_trip_exactly_and_nan_reads_as_missing(store):
    metrics = {"accuracy": 0.1 + 0.2, "tiny": 1e-300, "big": 2**53 + 1, "negative": -0.0, "name": "naïve 東京",
               "per_class": {"yes": {"f1": 0.75}}, "curve": [0.5, 0.25, 0.125], "ok": True, "none": None}
    run = running_run(store)
    store.append_epoch(run.id, {"epoch": 1, "train_loss": float("nan"), "lr": float("inf")})
    assert store.finish(run.id, metrics, None).metrics == metrics
    assert store.get(run.id).metrics == metrics
    assert store.history(run.id) == [{"epoch": 1, "train_loss": None, "lr": None}]


def test_views_keep_only_the_latest_payload(store):
    run = running_run(store)
    assert store.views(run.id) is None
    store.set_views(run.id, 1, {"boundary": {"grid": [[0.1, 0.9]]}})
    store.set_views(run.id, 2, {"boundary": {"grid": [[0.2, 0.8]]}})
    assert store.views(run.id) == (2, {"boundary": {"grid": [[0.2, 0.8]]}})


def test_a_checkpoint_is_recorded_with_its_epoch(store):
    run = running_run(store)
    store.set_checkpoint(run.id, "/data/checkpoints/a.safetensors", 4)
    got = store.get(run.id)
    assert (got.checkpoint_path, got.checkpoint_epoch) == ("/data/checkpoints/a.safetensors", 4)


def test_runs_are_listed_newest_first_by_owner_and_status(store):
    first, second, third = new_run(store, "ada"), new_run(store, "bob"), new_run(store, "ada", "second try")
    store.claim(third.id, "host:1")
    assert [r.id for r in store.list_runs()] == [third.id, second.id, first.id]
    assert [r.id for r in store.list_runs(owner="ada")] == [third.id, first.id]
    assert [r.id for r in store.list_runs(owner="ada", status="queued")] == [first.id]
    assert [r.id for r in store.list_runs(limit=1)] == [third.id]
    with pytest.raises(RunStoreError, match="unknown run status 'done'"):
        store.list_runs(status="done")


# ---- workers, cancel and interruption -----------------------------------------------------------------------

def _claim_all(url: str, run_ids: list[str], worker: str, barrier, results) -> None:
    """One worker process: its own store, claiming every run in turn once both workers are ready."""
    with RunStore(url) as own:
        barrier.wait()
        results.put((worker, [run_id for run_id in run_ids if own.claim(run_id, worker) is not None]))


def test_two_worker_processes_never_both_claim_a_run(store, store_url):
    run_ids = [new_run(store).id for _ in range(20)]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_claim_all, args=(store_url, run_ids, name, barrier, results))
               for name in ("host:1", "host:2")]
    for process in workers:
        process.start()
    won = dict(results.get(timeout=120) for _ in workers)
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert set(won["host:1"]).isdisjoint(won["host:2"])
    assert sorted(won["host:1"] + won["host:2"]) == sorted(run_ids)
    for run_id in run_ids:
        assert store.get(run_id).worker == ("host:1" if run_id in won["host:1"] else "host:2")


def test_the_oldest_queued_run_is_offered_first(store):
    assert store.oldest_queued() is None
    first, second = new_run(store).id, new_run(store).id
    assert store.oldest_queued() == first
    store.claim(first, "host:1")
    assert store.oldest_queued() == second


def test_a_cancelled_run_may_keep_the_bundle_of_its_best_weights(store):
    run = running_run(store)
    cancelled = store.mark_cancelled(run.id, {"epochs": 3}, "/data/bundles/x")
    assert (cancelled.status, cancelled.metrics, cancelled.bundle_path) == ("cancelled", {"epochs": 3},
                                                                            "/data/bundles/x")
    assert store.mark_cancelled(running_run(store).id).bundle_path is None


def test_claiming_a_run_that_is_no_longer_queued_gets_nothing(store):
    run = running_run(store)
    assert store.claim(run.id, "host:2") is None
    assert store.get(run.id).worker == "host:1"


def test_a_cancel_request_reaches_the_worker_through_another_store_object(store, store_url):
    run = running_run(store)
    with RunStore(store_url) as worker_side:
        assert not worker_side.cancel_requested(run.id)
        assert store.request_cancel(run.id).cancel_requested
        assert worker_side.cancel_requested(run.id)
        stopped = worker_side.mark_cancelled(run.id)
    assert (stopped.status, store.get(run.id).status) == ("cancelled", "cancelled")


def test_cancelling_a_queued_run_ends_it_at_once_and_no_worker_can_take_it(store):
    run = new_run(store)
    assert store.request_cancel(run.id).status == "cancelled"
    assert store.claim(run.id, "host:1") is None
    assert store.request_cancel(run.id).status == "cancelled"  # asking again changes nothing


def test_a_dead_workers_runs_are_marked_interrupted_and_can_be_queued_again(store):
    a1, a2, b1 = running_run(store, "host:1"), running_run(store, "host:1"), running_run(store, "host:2")
    store.append_epoch(a1.id, {"epoch": 1, "loss": 0.5})
    finished = running_run(store, "host:1")
    store.finish(finished.id, {"accuracy": 1.0}, "/b")
    assert sorted(store.mark_interrupted(worker="host:1")) == sorted([a1.id, a2.id])
    assert [store.get(r.id).status for r in (a1, a2, b1, finished)] == ["interrupted", "interrupted", "running",
                                                                        "finished"]
    assert store.get(a1.id).last_epoch == 1
    assert store.mark_interrupted([b1.id, finished.id]) == [b1.id]
    again = store.requeue(a1.id)
    assert (again.status, again.worker, again.error) == ("queued", None, None)
    assert store.claim(a1.id, "host:3").status == "running"
    assert store.history(a1.id) == [{"epoch": 1, "loss": 0.5}]


def test_deleting_a_run_removes_its_history_and_views_and_returns_its_files(store, store_url):
    run = running_run(store)
    store.append_epoch(run.id, {"epoch": 1})
    store.set_views(run.id, 1, {"neurons": []})
    store.set_checkpoint(run.id, "/c/best.safetensors", 1)
    with pytest.raises(RunStoreError, match=f"run {run.id} is running; cancel it"):
        store.delete_run(run.id)
    store.finish(run.id, {}, "/b/run")
    assert store.delete_run(run.id) == ["/b/run", "/c/best.safetensors"]
    assert (count_rows(store_url, epochs, run.id), count_rows(store_url, views, run.id)) == (0, 0)
    with pytest.raises(RunStoreError, match=f"no run {run.id} in the run store"):
        store.get(run.id)


# ---- refusals ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("setup, act, expected", [
    ("queued", lambda s, r: s.finish(r, {}, None), "cannot finish: it is queued, and only a running run can "
                                                   r"\(queued -> finished is not a valid change\)"),
    ("finished", lambda s, r: s.fail(r, "boom"), "cannot fail: it is finished, and only a queued or running run"),
    ("finished", lambda s, r: s.append_epoch(r, {"epoch": 9}), "cannot record an epoch: it is finished"),
    ("queued", lambda s, r: s.set_checkpoint(r, "/c", 1), "cannot record a checkpoint: it is queued"),
    ("running", lambda s, r: s.requeue(r), "cannot be queued again: it is running, and only an interrupted run can "
                                           r"\(running -> queued is not a valid change\)"),
    ("finished", lambda s, r: s.mark_cancelled(r), r"cannot be cancelled: .*\(finished -> cancelled is not"),
])
def test_an_illegal_status_change_is_refused_naming_the_run_and_both_states(store, setup, act, expected):
    run = new_run(store)
    if setup in ("running", "finished"):
        store.claim(run.id, "host:1")
    if setup == "finished":
        store.finish(run.id, {"accuracy": 1.0}, None)
    with pytest.raises(RunStoreError, match=f"run {run.id} {expected}") as caught:
        act(store, run.id)
    assert isinstance(caught.value, NNBuilderError)
    assert store.get(run.id).status == setup  # the refused change left the run as it was


@pytest.mark.parametrize("act", [lambda s: s.get("nope"), lambda s: s.claim("nope", "h:1"), lambda s: s.history("nope"),
                                 lambda s: s.set_views("nope", 1, {}), lambda s: s.request_cancel("nope"),
                                 lambda s: s.delete_run("nope"), lambda s: s.append_epoch("nope", {"epoch": 1})])
def test_an_unknown_run_is_named(store, act):
    with pytest.raises(RunStoreError, match=re.escape(f"no run nope in the run store at {store.where};")):
        act(store)


def test_a_history_row_without_an_integer_epoch_is_refused(store):
    run = running_run(store)
    with pytest.raises(RunStoreError, match="needs an integer 'epoch'; got '2'"):
        store.append_epoch(run.id, {"epoch": "2"})


# ---- schema versions --------------------------------------------------------------------------------------

VERSION_0 = [  # the shape before checkpoints and views (tests the upgrade path; no such store was shipped)
    "CREATE TABLE runs (id VARCHAR(64) PRIMARY KEY, owner VARCHAR(200) NOT NULL, label TEXT NOT NULL, "
    "spec TEXT NOT NULL, data_name TEXT NOT NULL, data_fingerprint VARCHAR(128) NOT NULL, "
    "status VARCHAR(16) NOT NULL, cancel_requested BOOLEAN NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL, "
    "started_at TIMESTAMP WITH TIME ZONE, ended_at TIMESTAMP WITH TIME ZONE, device VARCHAR(64), metrics TEXT, "
    "error TEXT, bundle_path TEXT, worker VARCHAR(200))",
    "CREATE TABLE epochs (run_id VARCHAR(64) REFERENCES runs (id) ON DELETE CASCADE, epoch INTEGER, "
    "record TEXT NOT NULL, PRIMARY KEY (run_id, epoch))",
    "CREATE TABLE store_meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO store_meta (key, value) VALUES ('schema_version', '0')",
    "INSERT INTO runs (id, owner, label, spec, data_name, data_fingerprint, status, cancel_requested, created_at, "
    "metrics, bundle_path) VALUES ('old', 'ada', 'first', '{}', 'iris', 'sha256:1', 'finished', FALSE, "
    "'2026-01-02 03:04:05', '{\"accuracy\": 0.9}', '/b/old')",
    "INSERT INTO epochs (run_id, epoch, record) VALUES ('old', 1, '{\"epoch\": 1, \"loss\": 0.5}')",
]


def execute(url: str, *statements: str) -> None:
    engine = create_engine(parse_url(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_a_new_store_is_created_at_the_current_version(store_url):
    with RunStore(store_url) as first:
        assert first.opened_at_version is None
    with RunStore(store_url) as again:
        assert again.opened_at_version == SCHEMA_VERSION


def test_a_version_0_store_is_upgraded_and_its_runs_kept(store_url):
    execute(store_url, *VERSION_0)
    with RunStore(store_url) as store:
        assert store.opened_at_version == 0
        old = store.get("old")
        assert (old.status, old.metrics, old.bundle_path, old.checkpoint_path) == (
            "finished", {"accuracy": 0.9}, "/b/old", None)
        assert store.history("old") == [{"epoch": 1, "loss": 0.5}]
        run = running_run(store)
        store.set_checkpoint(run.id, "/c/new", 2)
        store.set_views(run.id, 2, {"neurons": [1]})
        assert store.views(run.id) == (2, {"neurons": [1]})
    with RunStore(store_url) as reopened:
        assert reopened.opened_at_version == SCHEMA_VERSION


def test_a_newer_store_is_refused_in_one_line_and_left_untouched(store_url):
    RunStore(store_url).close()
    execute(store_url, "UPDATE store_meta SET value = '7' WHERE key = 'schema_version'")
    with pytest.raises(RunStoreError) as caught:
        RunStore(store_url)
    where = parse_url(store_url)
    where = where.database if where.get_backend_name() == "sqlite" else where.render_as_string(hide_password=True)
    assert str(caught.value) == (f"the run store at {where} has schema version 7, newer than this nnbuilder "
                                 f"({SCHEMA_VERSION}); upgrade nnbuilder or point NNBUILDER_HOME elsewhere")
    with pytest.raises(RunStoreError, match="schema version 7"):
        RunStore(store_url)  # still 7: refusing wrote nothing


@pytest.mark.parametrize("statements, expected", [
    (["UPDATE store_meta SET value = 'two' WHERE key = 'schema_version'"], "unknown schema version \\('two'\\)"),
    (["DROP TABLE store_meta"], "has run tables but no store_meta"),
])
def test_a_store_of_unknown_version_is_refused(store_url, statements, expected):
    RunStore(store_url).close()
    execute(store_url, *statements)
    with pytest.raises(RunStoreError, match=expected):
        RunStore(store_url)


# ---- broken stores, in words ------------------------------------------------------------------------------

def test_sqlite_runs_in_wal_mode(tmp_path):
    with RunStore(f"sqlite:///{tmp_path / 'runs.db'}"):
        with sqlite3.connect(tmp_path / "runs.db") as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_corrupt_sqlite_file_is_refused_in_one_line(tmp_path):
    path = tmp_path / "runs.db"
    path.write_bytes(b"this is a spreadsheet, not a database\n" * 200)
    with pytest.raises(RunStoreError) as caught:
        RunStore(f"sqlite:///{path}")
    assert str(caught.value) == (
        f"the run store at {path} is not a readable database (corrupt, or another kind of file); move it aside "
        "(a new empty store is then created) or point NNBUILDER_HOME elsewhere")


def test_a_locked_sqlite_store_fails_in_words_after_its_busy_timeout(tmp_path):
    path = tmp_path / "runs.db"
    with RunStore(f"sqlite:///{path}", busy_timeout_s=0.05) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            with pytest.raises(RunStoreError) as caught:
                new_run(store)
        finally:
            other.rollback()
            other.close()
        assert str(caught.value) == (f"the run store at {path} is locked by another process (waited 0.05 s); "
                                     "try again, or stop the other program using it")
        assert new_run(store).status == "queued"  # the lock gone, the store works again


def test_an_unreachable_postgresql_server_fails_in_words(closed_port):
    url = f"postgresql://nnbuilder:secret@127.0.0.1:{closed_port}/runs"
    with pytest.raises(RunStoreError) as caught:
        RunStore(url, connect_timeout_s=2)
    message = str(caught.value)
    assert message.startswith(f"cannot reach the PostgreSQL run store at "
                              f"postgresql+psycopg://nnbuilder:***@127.0.0.1:{closed_port}/runs (")
    assert message.endswith("); start the server or fix NNBUILDER_DB_URL")
    assert "secret" not in message and "\n" not in message


def test_a_missing_postgresql_database_is_named_with_the_fix(postgres_server):
    with pytest.raises(RunStoreError) as caught:
        RunStore(f"{postgres_server}/no_such_db")
    assert str(caught.value) == (f"the PostgreSQL server refused the run store at {postgres_server}/no_such_db "
                                 '(database "no_such_db" does not exist); fix the user, password or database name '
                                 "in NNBUILDER_DB_URL")


# ---- where the store lives --------------------------------------------------------------------------------

def test_the_store_lives_in_nnbuilder_home_unless_a_url_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    with RunStore.from_env() as store:
        assert store.where == str(tmp_path / "home" / "runs.db")
    assert (tmp_path / "home" / "runs.db").exists()
    monkeypatch.setenv(DB_URL_ENV, "postgresql://ada:pw@db.example:5432/nnbuilder")
    assert env_store_url().render_as_string(hide_password=False) == (
        "postgresql+psycopg://ada:pw@db.example:5432/nnbuilder")


@pytest.mark.parametrize("url, expected", [
    ("mysql://u@h/db", "names a mysql database; the run store runs on sqlite or postgresql"),
    ("sqlite://", "names an in-memory SQLite database; give a file path"),
    ("postgresql+psycopg2://u@h/db", "names the PostgreSQL driver psycopg2; nnbuilder installs psycopg"),
    ("not a url", "is not a database URL: 'not a url'"),
])
def test_a_url_the_store_cannot_use_is_refused(monkeypatch, url, expected):
    monkeypatch.setenv(DB_URL_ENV, url)
    with pytest.raises(RunStoreError, match=f"{DB_URL_ENV} {expected}"):
        RunStore.from_env()
