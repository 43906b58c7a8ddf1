"""Store URLs for the run store's tests: a SQLite file per test, and a database per test on a throwaway
PostgreSQL cluster started once per session from Debian's binaries.

Without those binaries the PostgreSQL half skips with the reason, unless NNBUILDER_REQUIRE_POSTGRES=1
(`.ci/run` sets it): then it fails, so CI never passes on SQLite alone.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("NNBUILDER_PG_BIN", "/usr/lib/postgresql/15/bin"))
REQUIRE_ENV = "NNBUILDER_REQUIRE_POSTGRES"
PG_USER = "postgres"  # the system user the server runs as when the tests run as root (initdb refuses root)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1; install Debian's postgresql package)")
    pytest.skip(reason)


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str], log: Path | None = None) -> None:
    done = subprocess.run(_as_server_user(args), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        pytest.fail(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    return free_port()


@pytest.fixture(scope="session")
def postgres_server():
    """Base URL (``postgresql+psycopg://postgres@127.0.0.1:PORT``) of a cluster that lives for the session."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        _unavailable(f"PostgreSQL's initdb and pg_ctl are not in {PG_BIN}")
    if os.geteuid() == 0:
        if subprocess.run(["id", "-u", PG_USER], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", PG_USER], check=True)
    root = Path(tempfile.mkdtemp(prefix="nnbuilder-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, PG_USER, PG_USER)
    data, log, port = root / "data", root / "server.log", free_port()
    _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
    # fsync off: a throwaway cluster need not survive a power cut, and the tests run faster without it.
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"], log)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's cluster, dropped after the test."""
    import psycopg

    name = f"runs_{uuid.uuid4().hex[:12]}"
    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield f"{postgres_server}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """The URL of an empty run store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    return request.getfixturevalue("postgres_url")
