"""The run store's tables, its schema version, and the ordered steps that upgrade an older store.

A store records its version in `store_meta`. Opening a store creates it at `SCHEMA_VERSION` when it is
empty, walks an older one up through `MIGRATIONS` in one transaction, and refuses a newer or unknown
one in words: misreading a store that a later nnbuilder wrote could lose a class's runs.

JSON values (spec, metrics, history rows, views) are stored as text so SQLite and PostgreSQL hold the
same bytes and no dialect's JSON type decides how numbers round-trip.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import (Boolean, Column, Connection, DateTime, ForeignKey, Integer, MetaData, String, Table,
                        Text, inspect, select, text)

from nnbuilder.errors import RunStoreError

SCHEMA_VERSION = 1
STATUSES = ("queued", "running", "finished", "failed", "cancelled", "interrupted")

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(200), nullable=False, index=True),
    Column("label", Text, nullable=False),
    Column("spec", Text, nullable=False),  # the NetworkSpec's JSON, as the CLI reads it
    Column("data_name", Text, nullable=False),
    Column("data_fingerprint", String(128), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("device", String(64)),
    Column("metrics", Text),  # JSON object once finished
    Column("error", Text),
    Column("bundle_path", Text),
    Column("checkpoint_path", Text),  # best weights so far, so an interrupted run can resume from them
    Column("checkpoint_epoch", Integer),  # the epoch those weights are from
    Column("last_epoch", Integer),  # the last epoch whose history row is stored
    Column("worker", String(200), index=True),  # "host:pid" of the process that claimed the run
)

epochs = Table(
    "epochs", metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("epoch", Integer, primary_key=True),
    Column("record", Text, nullable=False),  # the trainer's history row as JSON
)

views = Table(
    "views", metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("epoch", Integer, nullable=False),
    Column("payload", Text, nullable=False),  # the latest views payload as JSON; only the newest is kept
)

store_meta = Table(
    "store_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

OUR_TABLES = frozenset(metadata.tables)


def _add_checkpoints(conn: Connection) -> None:
    """0 -> 1: checkpoint path and epoch and the last epoch on runs (resume), and the views table.

    No store at version 0 was ever shipped; this step exists so the upgrade path is exercised by a test
    before the first real one is needed.
    """
    conn.execute(text("ALTER TABLE runs ADD COLUMN checkpoint_path TEXT"))
    conn.execute(text("ALTER TABLE runs ADD COLUMN checkpoint_epoch INTEGER"))
    conn.execute(text("ALTER TABLE runs ADD COLUMN last_epoch INTEGER"))
    views.create(conn, checkfirst=True)


# MIGRATIONS[v] turns a version-v store into a version-(v + 1) one; their count ends at SCHEMA_VERSION.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {0: _add_checkpoints}


def stored_version(conn: Connection, where: str) -> int | None:
    """The store's recorded version; None for an empty database (no tables of ours yet)."""
    tables = set(inspect(conn).get_table_names())
    if "store_meta" not in tables:
        if tables & OUR_TABLES:
            raise RunStoreError(f"the run store at {where} has run tables but no store_meta (not a store "
                                "nnbuilder wrote); move it aside or point NNBUILDER_HOME elsewhere")
        return None
    value = conn.execute(select(store_meta.c.value).where(store_meta.c.key == "schema_version")).scalar()
    if value is None or not value.strip().isdigit():
        raise RunStoreError(f"the run store at {where} has an unknown schema version ({value!r}); "
                            "move it aside or point NNBUILDER_HOME elsewhere")
    return int(value)


def ensure_schema(conn: Connection, where: str) -> int | None:
    """Create, upgrade or refuse the store inside the caller's (locked) transaction; the version found
    (None for a new store). `where` names the store in messages."""
    version = stored_version(conn, where)
    if version is None:
        metadata.create_all(conn)
        conn.execute(store_meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return None
    if version > SCHEMA_VERSION:
        raise RunStoreError(f"the run store at {where} has schema version {version}, newer than this nnbuilder "
                            f"({SCHEMA_VERSION}); upgrade nnbuilder or point NNBUILDER_HOME elsewhere")
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](conn)
    if version != SCHEMA_VERSION:
        conn.execute(store_meta.update().where(store_meta.c.key == "schema_version")
                     .values(value=str(SCHEMA_VERSION)))
    return version
