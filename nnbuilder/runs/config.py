"""Where the run store lives: a SQLite file in the data folder, or a PostgreSQL server named by URL.

The data folder (`NNBUILDER_HOME`, default ``~/.nnbuilder``) is shared by everything that must outlive a
server process; the store is its ``runs.db``. Setting `NNBUILDER_DB_URL` moves the store to PostgreSQL so
several web processes and worker machines see one truth.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from nnbuilder.errors import NNBuilderError, RunStoreError

HOME_ENV = "NNBUILDER_HOME"
DB_URL_ENV = "NNBUILDER_DB_URL"
DEFAULT_HOME = Path("~/.nnbuilder")
SQLITE_FILE = "runs.db"


def data_home() -> Path:
    """The data folder: `NNBUILDER_HOME`, or ``~/.nnbuilder`` when it is unset or empty."""
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser()


def store_url() -> URL:
    """The store's URL from the environment: `NNBUILDER_DB_URL` if set, else SQLite in the data folder."""
    text = os.environ.get(DB_URL_ENV, "").strip()
    return parse_url(text, DB_URL_ENV) if text else make_url(f"sqlite:///{data_home() / SQLITE_FILE}")


def parse_url(text: str, source: str = "the run store URL") -> URL:
    """A SQLite or PostgreSQL URL; a bare ``postgresql://`` gets the psycopg 3 driver (the one installed)."""
    try:
        url = make_url(text)
    except ArgumentError:
        raise RunStoreError(f"{source} is not a database URL: {text!r}; write e.g. "
                            "postgresql://user:password@host:5432/nnbuilder or sqlite:////path/to/runs.db") from None
    if url.get_backend_name() == "postgresql":
        driver = url.drivername.partition("+")[2]
        if driver not in ("", "psycopg"):
            raise RunStoreError(f"{source} names the PostgreSQL driver {driver}; nnbuilder installs psycopg, "
                                "so write postgresql://... or postgresql+psycopg://...")
        url = url.set(drivername="postgresql+psycopg")  # named, so messages show which driver is in use
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise RunStoreError(f"{source} names a {url.get_backend_name()} database; the run store runs on "
                            "sqlite or postgresql")
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # Every process must see the same runs; an in-memory database is private to one connection.
        raise RunStoreError(f"{source} names an in-memory SQLite database; give a file path "
                            "(sqlite:////path/to/runs.db)")
    return url


def describe(url: URL) -> str:
    """How messages name the store: the SQLite file's path, or the server URL without its password."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


def count_setting(requested: int | None, env: str, default: int, name: str) -> int:
    """A count of at least 1 (workers, concurrent runs): the argument `name`, else `$env`, else `default`."""
    source = name
    if requested is None:
        raw = os.environ.get(env, "").strip()
        if not raw:
            return default
        source = env
        try:
            requested = int(raw)
        except ValueError:
            raise NNBuilderError(f"{env} must be a whole number of at least 1; got {raw!r}") from None
    if requested < 1:
        raise NNBuilderError(f"{source} must be a whole number of at least 1; got {requested!r}")
    return requested
