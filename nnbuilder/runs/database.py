"""The run store's connection: one engine per store, SQLite's pragmas, locking transactions, and every
database failure turned into one plain line that names the store and the fix.

SQLite runs in WAL mode so readers (pages) never wait for the writer (a worker). Every write transaction
starts with ``BEGIN IMMEDIATE``: it takes the write lock up front and waits up to the busy timeout for it,
where a deferred transaction that reads first and writes later can fail at once with "database is locked"
when another process wrote in between.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from nnbuilder.errors import RunStoreError
from nnbuilder.runs.config import describe

BUSY_TIMEOUT_S = 10.0  # how long a writer waits for another process's write before giving up in words
CONNECT_TIMEOUT_S = 5  # how long to wait for a PostgreSQL server that does not answer
_IMMEDIATE = "nnbuilder_immediate"  # execution option: this transaction writes, take the lock first
_SCHEMA_LOCK = 7_140_011  # PostgreSQL advisory lock id: one process at a time creates or upgrades tables

logger = logging.getLogger(__name__)


class Database:
    """An engine for one store URL with `read()` and `write()` transactions that fail in words."""

    def __init__(self, url: URL, busy_timeout_s: float = BUSY_TIMEOUT_S,
                 connect_timeout_s: int = CONNECT_TIMEOUT_S):
        self.url = url
        self.where = describe(url)
        self.sqlite = url.get_backend_name() == "sqlite"
        self.busy_timeout_s = busy_timeout_s
        if self.sqlite:
            folder = Path(str(url.database)).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise RunStoreError(f"cannot create the run store's folder {folder} ({err.strerror}); "
                                    "set NNBUILDER_HOME to a writable folder") from err
            self.engine = create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})
            event.listen(self.engine, "connect", self._sqlite_connect)
            event.listen(self.engine, "begin", self._sqlite_begin)
        else:
            self.engine = create_engine(url, connect_args={"connect_timeout": connect_timeout_s},
                                        pool_pre_ping=True)

    def _sqlite_connect(self, dbapi_connection, _record) -> None:
        # Leave transactions to us (the "begin" hook) instead of the driver's own implicit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")  # epochs and views go with their run
            cursor.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode short of a power cut
        finally:
            cursor.close()

    @staticmethod
    def _sqlite_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_IMMEDIATE) else "BEGIN")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: a consistent snapshot that never blocks a writer."""
        with self.translated(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, schema: bool = False) -> Iterator[Connection]:
        """A write transaction that holds the write lock (SQLite) from its start; committed on success.

        `schema` also serialises table creation and upgrades across PostgreSQL clients.
        """
        with self.translated(), self.engine.connect() as conn:
            conn.execution_options(**{_IMMEDIATE: True})
            with conn.begin():
                if schema and not self.sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _SCHEMA_LOCK})
                yield conn

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Database failures as one `RunStoreError` line; our own errors pass through untouched."""
        try:
            yield
        except DBAPIError as err:
            raise RunStoreError(self.explain(err)) from err

    def explain(self, err: DBAPIError) -> str:
        """What went wrong with the store, where, and the fix, from a driver's error."""
        reason = _first_line(str(err.orig))
        low = reason.lower()
        if self.sqlite:
            if "locked" in low or "busy" in low:
                return (f"the run store at {self.where} is locked by another process (waited "
                        f"{self.busy_timeout_s:g} s); try again, or stop the other program using it")
            if "not a database" in low or "malformed" in low or "disk image" in low:
                return (f"the run store at {self.where} is not a readable database (corrupt, or another kind "
                        "of file); move it aside (a new empty store is then created) or point NNBUILDER_HOME "
                        "elsewhere")
            if "unable to open" in low or "readonly" in low or "read-only" in low:
                return (f"cannot open or write the run store at {self.where} ({reason}); "
                        "make the folder writable or point NNBUILDER_HOME elsewhere")
            if "full" in low:
                return f"the disk holding the run store at {self.where} is full; free some space and try again"
        elif "fatal:" in low:  # the server answered but refused us: wrong user, password or database name
            return (f"the PostgreSQL server refused the run store at {self.where} ({_short(reason)}); fix the "
                    "user, password or database name in NNBUILDER_DB_URL")
        elif err.connection_invalidated or _is_connection_failure(low):
            return (f"cannot reach the PostgreSQL run store at {self.where} ({_short(reason)}); start the "
                    "server or fix NNBUILDER_DB_URL")
        return f"the run store at {self.where} failed: {reason}"

    def close(self) -> None:
        self.engine.dispose()


def _first_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def _is_connection_failure(low: str) -> bool:
    return any(word in low for word in ("connection", "could not connect", "timeout expired", "server closed",
                                        "resolve host", "no route", "refused"))


def _short(reason: str) -> str:
    """psycopg's 'connection failed: connection to server at "h", port p failed: Connection refused' -> the cause."""
    parts = [p.strip() for p in re.split(r"failed:|FATAL:", reason) if p.strip()]
    return re.sub(r"\s+", " ", parts[-1]) if parts else reason
