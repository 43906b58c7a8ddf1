"""The table store: every uploaded or built-in table kept once on disk, named by its content.

A run refers to its table by fingerprint (the run store's `data_fingerprint`), so a worker process reads
the table from disk instead of receiving it from the web process, and thirty students uploading the same
file store it once. Tables are parquet files under ``$NNBUILDER_HOME/tables/<fingerprint>.parquet``: typed
(a CSV would lose the dtypes the spec was checked against) and compact.

The fingerprint is the sha256 of the parquet bytes the frame serialises to; the same frame always gives
the same bytes, so the same frame is stored once. Files are written to a temporary name and renamed into
place, so a reader never sees half a table and two writers of the same table cannot corrupt it.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa

from nnbuilder.errors import RunStoreError
from nnbuilder.runs.config import data_home

TABLES_FOLDER = "tables"


def tables_folder(home: Path | None = None) -> Path:
    """Where tables live: ``tables/`` in the data folder (`NNBUILDER_HOME`)."""
    return (home or data_home()) / TABLES_FOLDER


def table_bytes(df: pd.DataFrame) -> bytes:
    """The frame as parquet bytes: one serialisation, used for both the file and its fingerprint."""
    if not all(isinstance(column, str) for column in df.columns):
        # Parquet names columns by strings; a spec names them by strings too, so nothing is lost.
        df = df.rename(columns=str)
    buffer = io.BytesIO()
    try:
        df.to_parquet(buffer, engine="pyarrow", index=True, compression="zstd")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as err:
        raise RunStoreError(f"cannot store the table for a worker: {str(err).splitlines()[0]}; give each column "
                            "one type (numbers or text) and upload it again") from None
    return buffer.getvalue()


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_table(df: pd.DataFrame, home: Path | None = None) -> str:
    """Store `df` (once: an identical table is already there) and return its fingerprint."""
    data = table_bytes(df)
    key = fingerprint(data)
    folder = tables_folder(home)
    path = folder / f"{key}.parquet"
    if path.exists():
        return key
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())  # the bytes are on disk before the name says the table is there
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise RunStoreError(f"cannot write the table to {folder} ({err.strerror}); free some disk space or set "
                            "NNBUILDER_HOME to a writable folder") from err
    return key


def get_table(key: str, home: Path | None = None) -> pd.DataFrame:
    """The table stored under fingerprint `key`."""
    if not key or not all(c in "0123456789abcdef" for c in key):
        raise RunStoreError(f"{key!r} is not a table fingerprint (64 hex digits)")
    path = tables_folder(home) / f"{key}.parquet"
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except FileNotFoundError:
        raise RunStoreError(f"the table {key[:12]}... is missing from {path.parent}; it was deleted behind the "
                            "run store's back; upload the data again and start a new run") from None
    except (OSError, pa.ArrowException) as err:
        raise RunStoreError(f"the table file {path} cannot be read ({str(err).splitlines()[0]}); delete it, "
                            "upload the data again and start a new run") from None
