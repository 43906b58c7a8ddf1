"""Read a CSV file robustly, and fast enough for a million rows.

One look at a small sample (64 KiB) decides the encoding, the delimiter, the
column types and whether quoted values hold newlines; then pyarrow parses the
whole file once, in parallel. Typing the columns up front matters: without it
pyarrow keeps every parsed block alive in case a later block changes its mind
about a type, which doubles peak memory. Decimal columns come back as float32
(the network computes in float32 anyway, and it halves memory); whole-number
columns stay int64, or float64 when they have gaps, so large IDs stay exact.
Anything pyarrow cannot handle (ragged rows, odd quoting, types that change
halfway) falls back to pandas' C parser, which also reports line numbers.
Encodings are tried in order: UTF-8 (with or without BOM), Windows-1252, Latin-1;
a UTF-16 BOM (Excel's "Unicode text") is honoured.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from nnbuilder.data.clean import decimal_commas, tidy, whole_numbers
from nnbuilder.data.records import DataWarning
from nnbuilder.errors import DataError

SAMPLE_BYTES = 64 * 1024
SNIFF_LINES = 50
DELIMITERS = ",;\t|"
ENCODINGS = ("utf-8", "cp1252", "latin-1")  # latin-1 decodes any bytes, so the chain always ends
# pandas' default missing-value markers, so both parsers agree on what is missing.
NA_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]
_SIGNATURES = {
    b"PK\x03\x04": "a zip archive or an Excel workbook (.xlsx)",
    b"\xd0\xcf\x11\xe0": "an old Excel or Office file (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "a gzip archive",
    b"PAR1": "a Parquet file",
}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_TEXT_BYTES = bytes(range(32, 256)) + b"\t\n\r\f\v\x1b"
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class _Undecodable(Exception):
    """The file is not in this encoding after all: try the next one."""


class _ArrowCannot(Exception):
    """pyarrow cannot parse this file: let pandas try (and explain)."""


@dataclass(frozen=True)
class _Layout:
    delimiter: str
    skip: int  # 1 when Excel's "sep=;" hint line comes first
    rows: list  # the first two rows as parsed from the sample: header and first data row
    multiline: bool  # a quoted value in the sample spans lines


def read_csv(
    source: str | os.PathLike | bytes | BinaryIO, *, name: str | None = None,
) -> tuple[pd.DataFrame, list[DataWarning]]:
    """Read a CSV from a path, raw bytes or a binary file object (e.g. an upload).

    Returns the table and the warnings about what was fixed on the way
    (encoding, duplicate names, infinite values, empty columns). Raises
    `DataError` with one readable line when the input is not a usable CSV.
    """
    data, path, label = _open(source, name)
    raw = data[:SAMPLE_BYTES] if data is not None else _head(path, label)
    _refuse_binary(raw, label)
    sample = _trim(raw, complete=len(raw) < SAMPLE_BYTES)
    chain = ["utf-16"] if raw.startswith(_UTF16_BOMS) else [e for e in ENCODINGS if _decodes(sample, e)]
    layout, text = _layout(sample.decode(chain[0], errors="ignore").lstrip("\ufeff"))
    if not text.strip():
        raise DataError(f"{label} is empty: it has no data rows")
    src = data if data is not None else str(path)
    for encoding in chain:
        try:
            df = _read(src, sample, encoding, layout, label)
            break
        except _Undecodable:
            continue
    found = [] if encoding in ("utf-8", "utf-16") else [DataWarning(
        "encoding_fallback", f"{label} is not UTF-8 text, so it was read as {_ENCODING_NAMES[encoding]}; "
        "if accented letters look wrong, save the file as UTF-8.")]
    df, found = tidy(df, label, layout.rows[0] if layout.rows else [], found)
    if layout.delimiter == ";":
        df = decimal_commas(df)
    return df, found


_ENCODING_NAMES = {"cp1252": "Windows-1252 (Latin-1 with Windows extras like € and curly quotes)",
                   "latin-1": "Latin-1 (Western European)"}


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that makes the first lines most regular."""
    lines = text.splitlines()[:SNIFF_LINES]
    first = lines[0] if lines else ""
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    if delimiter not in first:  # the sniffer guessed from the data; the header has the last word
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        delimiter = best if counts[best] else ","
    return delimiter


def _open(source, name):
    """(bytes or None, path or None, label for messages)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None, name or "the uploaded file"
    if hasattr(source, "read"):
        if hasattr(source, "seek") and getattr(source, "seekable", lambda: True)():
            source.seek(0)
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return data, None, name or getattr(source, "name", None) or "the uploaded file"
    path = Path(source)
    return None, path, name or str(path)


def _head(path: Path, label: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(SAMPLE_BYTES)
    except FileNotFoundError:
        raise DataError(f"file {label} does not exist; check the path") from None
    except IsADirectoryError:
        raise DataError(f"{label} is a folder, not a CSV file; pick a file inside it") from None
    except PermissionError:
        raise DataError(f"file {label} cannot be read: permission denied") from None


def _refuse_binary(sample: bytes, label: str) -> None:
    if sample.startswith(_UTF16_BOMS):
        return
    for magic, kind in _SIGNATURES.items():
        if sample.startswith(magic):
            raise DataError(f"{label} looks like a binary file, not a CSV (it seems to be {kind}); "
                            "save it as CSV and try again")
    if b"\x00" in sample or len(sample.translate(None, _TEXT_BYTES)) > 0.01 * len(sample):
        raise DataError(f"{label} looks like a binary file, not a CSV (it holds NUL or control bytes); "
                        "save it as CSV and try again")


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _trim(sample: bytes, complete: bool) -> bytes:
    """Cut a partial sample after its last full line, never inside a UTF-8 character."""
    if complete:
        return sample
    end = sample.rfind(b"\n")
    return sample[: end + 1] if end > 0 else sample


def _layout(text: str) -> tuple[_Layout, str]:
    """How the file is laid out, from the sample text; also the text without a 'sep=' hint line."""
    first, _, rest = text.partition("\n")
    hint = re.fullmatch(r"\s*sep=(.)\s*", first)
    if hint:
        text = rest
    delimiter = hint.group(1) if hint else sniff_delimiter(text)
    return _Layout(delimiter, 1 if hint else 0, _first_rows(text, delimiter, 2),
                   _has_multiline_values(text, delimiter)), text


def _first_rows(text: str, delimiter: str, n: int) -> list[list[str]]:
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        return [row for row, _ in zip(reader, range(n))]
    except csv.Error:
        return []


def _has_multiline_values(text: str, delimiter: str) -> bool:
    """True when a quoted value spans lines (pyarrow must then split the file carefully)."""
    if '"' not in text:
        return False
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for rows, _ in enumerate(reader, start=1):
            if reader.line_num != rows:
                return True
    except csv.Error:
        return True
    return False


def _read(src, sample: bytes, encoding: str, layout: _Layout, label: str) -> pd.DataFrame:
    try:
        return _read_fast(src, sample, encoding, layout)
    except _ArrowCannot:
        return _read_pandas(src, encoding, layout, label)


def _read_fast(src, sample: bytes, encoding: str, layout: _Layout) -> pd.DataFrame:
    read_opts = pacsv.ReadOptions(encoding="utf8" if encoding == "utf-8" else encoding, skip_rows=layout.skip)
    parse_opts = pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=layout.multiline)
    types = None if encoding == "utf-16" else _sample_types(sample, read_opts, parse_opts)
    try:
        table = _arrow_table(src, read_opts, parse_opts, types)
    except _ArrowCannot:
        if not types:
            raise
        table = _arrow_table(src, read_opts, parse_opts, None)  # a type changed after the sample
    if any(pa.types.is_null(t) for t in table.schema.types):  # empty columns: float NaN, as pandas does
        table = table.cast(pa.schema([f.with_type(pa.float64()) if pa.types.is_null(f.type) else f
                                      for f in table.schema]))
    # self_destruct frees each arrow column as soon as it is converted: peak memory ~ one copy.
    return table.to_pandas(self_destruct=True, split_blocks=True, date_as_object=False)


def _convert_options(types) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(null_values=NA_VALUES, strings_can_be_null=True, column_types=types or {})


def _arrow_table(src, read_opts, parse_opts, types) -> pa.Table:
    source = pa.BufferReader(src) if isinstance(src, bytes) else src
    try:
        table = pacsv.read_csv(source, read_options=read_opts, parse_options=parse_opts,
                               convert_options=_convert_options(types))
    except UnicodeDecodeError:  # raised by the transcoder for non-UTF-8 encodings
        raise _Undecodable() from None
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "UTF8" in message or "UTF-8" in message:
            raise _Undecodable() from None
        raise _ArrowCannot(message) from None
    if any(pa.types.is_binary(t) for t in table.schema.types):
        raise _Undecodable()  # pyarrow reads undecodable text as raw bytes
    return table


def _sample_types(sample: bytes, read_opts, parse_opts) -> dict[str, pa.DataType] | None:
    """Column types pyarrow infers from the sample, decimals narrowed to float32."""
    try:
        table = pacsv.read_csv(pa.BufferReader(sample), read_options=read_opts, parse_options=parse_opts,
                               convert_options=_convert_options(None))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    names = table.column_names
    if len(set(names)) != len(names):
        return None  # column_types is keyed by name
    types = {}
    for name, column in zip(names, table.columns):
        kind = column.type
        if pa.types.is_null(kind) or pa.types.is_binary(kind):
            continue  # nothing to go on in the sample: let pyarrow infer this one
        if pa.types.is_floating(kind) and not whole_numbers(column.to_numpy()):
            kind = pa.float32()
        types[name] = kind
    return types


def _read_pandas(src, encoding: str, layout: _Layout, label: str) -> pd.DataFrame:
    handle = io.BytesIO(src) if isinstance(src, bytes) else src
    rows = layout.rows
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(handle, sep=layout.delimiter, encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                               engine="c", index_col=False, low_memory=False, skiprows=layout.skip)
    except UnicodeDecodeError:
        raise _Undecodable() from None
    except pd.errors.ParserWarning:  # the first data row is longer than the header
        got = len(rows[1]) if len(rows) > 1 else "more"
        raise DataError(_ragged(label, 2 + layout.skip, len(rows[0]) if rows else "fewer", got,
                                layout.delimiter)) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{label} is empty: it has no data rows") from None
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match:
            expected, line, got = match.groups()
            raise DataError(_ragged(label, line, expected, got, layout.delimiter)) from None
        detail = str(exc).replace("Error tokenizing data. C error: ", "").strip().rstrip(".")
        raise DataError(f"{label} cannot be read as a CSV: {detail}") from None


def _ragged(label, line, expected, got, delimiter) -> str:
    name = _DELIMITER_NAMES.get(delimiter, repr(delimiter))
    return (f"{label}: line {line} has {got} fields but the header has {expected}; "
            f"look for an extra {name} on that line, or put quotes around a value that contains one")
