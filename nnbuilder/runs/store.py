"""The durable run store: every run as a row, its history and latest views beside it (DESIGN rule 5).

Workers write a run's progress here and pages read it, so a refresh, a second browser or a restarted
server sees the same truth. Files (bundles, checkpoints) stay on disk; the store keeps their paths.

A run moves queued -> running -> finished | failed | cancelled | interrupted, and an interrupted run may
be queued again to resume. Each change is one conditional UPDATE (``... WHERE status IN (allowed)``), so
two workers claiming one run, or a cancel racing a finish, cannot both win; a change from the wrong state
raises `RunStoreError` naming the run and both states.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, Row, delete, select
from sqlalchemy.engine import URL

from nnbuilder.errors import RunStoreError
from nnbuilder.runs.config import parse_url, store_url
from nnbuilder.runs.database import BUSY_TIMEOUT_S, CONNECT_TIMEOUT_S, Database
from nnbuilder.runs.schema import STATUSES, ensure_schema, epochs, runs
from nnbuilder.runs.schema import views as views_table  # RunStore.views is the reading method

ENDED = frozenset({"finished", "failed", "cancelled", "interrupted"})


@dataclass(frozen=True)
class Run:
    """One run as the store holds it; a copy, so reading it never races a worker's write."""

    id: str  # uuid4 hex: unguessable
    owner: str
    label: str
    spec: str  # the NetworkSpec's JSON text
    data_name: str
    data_fingerprint: str
    status: str  # one of schema.STATUSES
    cancel_requested: bool
    created_at: datetime  # UTC, like every timestamp here
    started_at: datetime | None
    ended_at: datetime | None
    device: str | None
    metrics: dict[str, Any] | None
    error: str | None
    bundle_path: str | None
    checkpoint_path: str | None
    checkpoint_epoch: int | None
    last_epoch: int | None
    worker: str | None  # "host:pid" of the process that claimed it


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their zone; every one we write is UTC.
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def _finite(value: Any) -> Any:
    """`value` with NaN and infinities as None: JSON has no NaN, and a diverged epoch's loss reads as missing."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_finite(value), allow_nan=False)


def _run(row: Row) -> Run:
    values = row._asdict()
    for key in ("created_at", "started_at", "ended_at"):
        values[key] = _utc(values[key])
    values["metrics"] = None if values["metrics"] is None else json.loads(values["metrics"])
    values["cancel_requested"] = bool(values["cancel_requested"])
    return Run(**values)


class RunStore:
    """Runs in a database: SQLite in the data folder by default, PostgreSQL by URL.

    Safe to share between threads; every process (web server, worker) opens its own. `clock` gives the
    timestamps (tests pass a fixed sequence instead of sleeping).
    """

    def __init__(self, url: str | URL, *, busy_timeout_s: float = BUSY_TIMEOUT_S,
                 connect_timeout_s: int = CONNECT_TIMEOUT_S, clock: Callable[[], datetime] = _utc_now):
        self._db = Database(parse_url(url) if isinstance(url, str) else url, busy_timeout_s, connect_timeout_s)
        self._now = clock
        try:
            with self._db.write(schema=True) as conn:
                # None for a new store, else the version it had before any upgrade.
                self.opened_at_version = ensure_schema(conn, self._db.where)
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def from_env(cls, **options: Any) -> "RunStore":
        """The store `NNBUILDER_DB_URL` names, else ``runs.db`` in `NNBUILDER_HOME` (default ``~/.nnbuilder``)."""
        return cls(store_url(), **options)

    @property
    def where(self) -> str:
        """The store as messages name it: the SQLite file, or the server URL without its password."""
        return self._db.where

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- status changes ----------------------------------------------------------------------------------

    def create_run(self, owner: str, label: str, spec_json: str, data_name: str, data_fingerprint: str) -> Run:
        """A new queued run; its id is the handle every other call takes."""
        run_id = uuid.uuid4().hex
        with self._db.write() as conn:
            conn.execute(runs.insert().values(
                id=run_id, owner=owner, label=label, spec=spec_json, data_name=data_name,
                data_fingerprint=data_fingerprint, status="queued", cancel_requested=False, created_at=self._now()))
        return self.get(run_id)

    def claim(self, run_id: str, worker: str, device: str | None = None) -> Run | None:
        """Take a queued run for `worker` ("host:pid"): the running run, or None when it is no longer queued
        (another worker took it, or it was cancelled). Of any number of claimers exactly one wins."""
        with self._db.write() as conn:
            if self._move(conn, run_id, ("queued",), "running",
                          worker=worker, device=device, started_at=self._now(), ended_at=None) is not None:
                return None
        return self.get(run_id)

    def oldest_queued(self) -> str | None:
        """The id of the run that has waited longest, or None when nothing is queued (what an idle worker
        asks before it tries to `claim` it; losing that race to another worker just means asking again)."""
        with self._db.read() as conn:
            return conn.execute(select(runs.c.id).where(runs.c.status == "queued")
                                .order_by(runs.c.created_at, runs.c.id).limit(1)).scalar()

    def finish(self, run_id: str, metrics: dict[str, Any], bundle_path: str | None) -> Run:
        """A running run ended well: its final metrics and the bundle it saved."""
        return self._change(run_id, ("running",), "finished", "finish",
                            metrics=_dumps(metrics), bundle_path=bundle_path, ended_at=self._now())

    def fail(self, run_id: str, reason: str) -> Run:
        """A queued or running run cannot go on; `reason` is the one line the user sees."""
        return self._change(run_id, ("queued", "running"), "failed", "fail", error=reason, ended_at=self._now())

    def mark_cancelled(self, run_id: str, metrics: dict[str, Any] | None = None,
                       bundle_path: str | None = None) -> Run:
        """The worker stopped the run because its cancel flag was set (or it never started). A run stopped
        after some epochs may keep the bundle of its best weights so far, as the app's Stop does."""
        values: dict[str, Any] = {"ended_at": self._now()}
        if metrics is not None:
            values.update(metrics=_dumps(metrics), bundle_path=bundle_path)
        return self._change(run_id, ("queued", "running"), "cancelled", "be cancelled", **values)

    def requeue(self, run_id: str) -> Run:
        """Queue an interrupted run again, so a worker resumes it from its checkpoint."""
        return self._change(run_id, ("interrupted",), "queued", "be queued again",
                            cancel_requested=False, worker=None, ended_at=None, error=None)

    def request_cancel(self, run_id: str) -> Run:
        """Ask for a run to stop: a queued run is cancelled at once (no worker has it); a running one gets
        the flag its worker checks. A run that has already ended is left as it is."""
        with self._db.write() as conn:
            if self._move(conn, run_id, ("queued",), "cancelled", cancel_requested=True,
                          ended_at=self._now()) is not None:
                conn.execute(runs.update().where(runs.c.id == run_id, runs.c.status == "running")
                             .values(cancel_requested=True))
        return self.get(run_id)

    def cancel_requested(self, run_id: str) -> bool:
        """Whether someone asked this run to stop (what a worker checks between batches)."""
        return self.get(run_id).cancel_requested

    def mark_interrupted(self, run_ids: Iterable[str] | None = None, *, worker: str | None = None,
                         reason: str = "the process training it stopped") -> list[str]:
        """Mark running runs as interrupted: the ones in `run_ids`, or every run `worker` holds (a worker
        that died or a server that shut down). Runs no longer running are left alone; the ids marked."""
        if (run_ids is None) == (worker is None):
            raise ValueError("mark_interrupted takes run_ids or worker, not both or neither")
        chosen = runs.c.worker == worker if worker is not None else runs.c.id.in_(list(run_ids or ()))
        marked = []
        with self._db.write() as conn:
            for run_id in conn.execute(select(runs.c.id).where(chosen, runs.c.status == "running")).scalars():
                if self._move(conn, run_id, ("running",), "interrupted", error=reason, ended_at=self._now()) is None:
                    marked.append(run_id)
        return marked

    # ---- progress ----------------------------------------------------------------------------------------

    def append_epoch(self, run_id: str, record: dict[str, Any]) -> None:
        """Store one history row (the trainer's dict with its 1-based "epoch") of a running run.

        A row for an epoch already stored replaces it: a resumed run repeats the epochs after its checkpoint.
        """
        epoch = record.get("epoch")
        if not isinstance(epoch, int) or isinstance(epoch, bool):
            raise RunStoreError(f"run {run_id}: a history row needs an integer 'epoch'; got {epoch!r}")
        with self._db.write() as conn:
            current = self._move(conn, run_id, ("running",), "running", last_epoch=epoch)
            if current is not None:
                self._refuse(run_id, current, "running", ("running",), "record an epoch")
            conn.execute(delete(epochs).where(epochs.c.run_id == run_id, epochs.c.epoch == epoch))
            conn.execute(epochs.insert().values(run_id=run_id, epoch=epoch, record=_dumps(record)))

    def set_views(self, run_id: str, epoch: int, payload: dict[str, Any]) -> None:
        """Keep `payload` as the run's latest views (the epoch they show); older ones are dropped."""
        with self._db.write() as conn:
            self._require(conn, run_id)
            conn.execute(delete(views_table).where(views_table.c.run_id == run_id))
            conn.execute(views_table.insert().values(run_id=run_id, epoch=epoch, payload=_dumps(payload)))

    def set_checkpoint(self, run_id: str, path: str, epoch: int) -> None:
        """Record the running run's newest checkpoint file (written atomically by the caller)."""
        self._change(run_id, ("running",), "running", "record a checkpoint", checkpoint_path=path,
                     checkpoint_epoch=epoch)

    # ---- reading -----------------------------------------------------------------------------------------

    def get(self, run_id: str) -> Run:
        with self._db.read() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).one_or_none()
        if row is None:
            raise self._missing(run_id)
        return _run(row)

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """The run's history rows in epoch order."""
        with self._db.read() as conn:
            self._require(conn, run_id)
            rows = conn.execute(select(epochs.c.record).where(epochs.c.run_id == run_id)
                                .order_by(epochs.c.epoch)).scalars()
            return [json.loads(record) for record in rows]

    def views(self, run_id: str) -> tuple[int, dict[str, Any]] | None:
        """(epoch, payload) of the run's latest views, or None before the first."""
        with self._db.read() as conn:
            self._require(conn, run_id)
            row = conn.execute(select(views_table.c.epoch, views_table.c.payload)
                               .where(views_table.c.run_id == run_id)).one_or_none()
        return None if row is None else (row.epoch, json.loads(row.payload))

    def list_runs(self, owner: str | None = None, status: str | None = None, limit: int = 100) -> list[Run]:
        """Runs newest first, optionally one owner's or those in one status."""
        if status is not None and status not in STATUSES:
            raise RunStoreError(f"unknown run status {status!r}; expected one of {', '.join(STATUSES)}")
        query = select(runs).order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
        if owner is not None:
            query = query.where(runs.c.owner == owner)
        if status is not None:
            query = query.where(runs.c.status == status)
        with self._db.read() as conn:
            return [_run(row) for row in conn.execute(query)]

    def delete_run(self, run_id: str) -> list[str]:
        """Remove the run's rows (its history and views go with it); the file paths it referenced, for the
        caller to remove. A running run must be cancelled first: its worker is still writing files."""
        with self._db.write() as conn:
            row = conn.execute(select(runs.c.status, runs.c.bundle_path, runs.c.checkpoint_path)
                               .where(runs.c.id == run_id)).one_or_none()
            if row is None:
                raise self._missing(run_id)
            if row.status == "running":
                raise RunStoreError(f"run {run_id} is running; cancel it and delete it once it has stopped")
            conn.execute(delete(runs).where(runs.c.id == run_id))
        return [path for path in (row.bundle_path, row.checkpoint_path) if path]

    # ---- helpers -----------------------------------------------------------------------------------------

    def _change(self, run_id: str, allowed: tuple[str, ...], to: str, action: str, **values: Any) -> Run:
        with self._db.write() as conn:
            current = self._move(conn, run_id, allowed, to, **values)
        if current is not None:
            self._refuse(run_id, current, to, allowed, action)
        return self.get(run_id)

    def _move(self, conn: Connection, run_id: str, allowed: tuple[str, ...], to: str, **values: Any) -> str | None:
        """Set status `to` (and `values`) if the run is in `allowed`, in one statement; None when it moved,
        else the status it has. An unknown run raises."""
        moved = conn.execute(runs.update().where(runs.c.id == run_id, runs.c.status.in_(allowed))
                             .values(status=to, **values)).rowcount
        if moved == 1:
            return None
        current = conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar()
        if current is None:
            raise self._missing(run_id)
        return current

    def _refuse(self, run_id: str, current: str, to: str, allowed: tuple[str, ...], action: str) -> None:
        change = "" if to in allowed else f" ({current} -> {to} is not a valid change)"
        article = "an" if allowed[0][0] in "aeiou" else "a"
        raise RunStoreError(f"run {run_id} cannot {action}: it is {current}, and only {article} "
                            f"{' or '.join(allowed)} run can{change}")

    def _require(self, conn: Connection, run_id: str) -> None:
        if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).scalar() is None:
            raise self._missing(run_id)

    def _missing(self, run_id: str) -> RunStoreError:
        return RunStoreError(f"no run {run_id} in the run store at {self.where}; it was deleted, or the link "
                             "points at another server")
