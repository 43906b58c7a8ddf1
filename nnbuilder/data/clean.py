"""Tidy a freshly parsed table: unique names, no empty columns, no infinities, compact decimals.

All of it is column-at-a-time NumPy work, so it costs little next to parsing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnbuilder.data.records import DataWarning
from nnbuilder.errors import DataError

_DECIMAL_COMMA = r"^\s*[-+]?\d+(,\d+)?\s*$"


def tidy(df: pd.DataFrame, label: str, header: list[str], found: list[DataWarning]):
    """(table, warnings) after the fixes above; `header` is the raw header row, for naming duplicates."""
    if df.shape[1] == 0 or len(df) == 0:
        raise DataError(f"{label} has no data rows: there is nothing below the header")
    names, duplicates = dedupe_names(list(df.columns))
    _, header_duplicates = dedupe_names(header)  # pandas renames duplicates itself; still say so
    for original, copies in (duplicates or header_duplicates).items():
        found.append(DataWarning(
            "duplicate_columns",
            f"column name '{original}' appears {len(copies) + 1} times; the copies were renamed to "
            f"{', '.join(repr(c) for c in copies)} so every column has its own name.", original))
    df.columns = names
    empty = [c for c in df.columns if df[c].isna().all()]
    for column in empty:
        found.append(DataWarning("empty_column", f"column '{column}' is completely empty, so it was left out.", column))
    if empty:
        df = df.drop(columns=empty)
    for column in df.columns:
        values = df[column].to_numpy()
        if values.dtype.kind != "f":
            continue
        infinite = np.isinf(values)
        count = int(infinite.sum())
        if count:
            values = np.where(infinite, np.nan, values)
            df[column] = values
            found.append(DataWarning("inf_values", f"column '{column}' has {count} infinite value(s) (inf); "
                                     "they are treated as missing.", column))
        if values.dtype == np.float64 and not whole_numbers(values) and np.nanmax(np.abs(values)) < 3e38:
            df[column] = values.astype(np.float32)  # decimals as float32 on every read path
    if len(df.columns) == 0:
        raise DataError(f"{label} has no data rows: every column is empty")
    return df, found


def whole_numbers(values: np.ndarray) -> bool:
    """True when every finite value is a whole number (and there is at least one)."""
    finite = values[np.isfinite(values)]
    return bool(finite.size) and bool(np.all(finite == np.round(finite)))


def decimal_commas(df: pd.DataFrame) -> pd.DataFrame:
    """Semicolon files usually come from locales that write 2,5 for 2.5: read those as numbers."""
    for column in df.columns:
        values = df[column]
        if not pd.api.types.is_string_dtype(values) or values.isna().all():
            continue
        present = values.dropna().astype(str)
        if present.str.match(_DECIMAL_COMMA).all() and present.str.contains(",", regex=False).any():
            df[column] = pd.to_numeric(values.str.replace(",", ".", regex=False)).astype(np.float32)
    return df


def dedupe_names(names: list) -> tuple[list[str], dict[str, list[str]]]:
    """Strip names, name blank ones 'Unnamed: i' and rename repeats 'a.1', 'a.2' (as pandas does)."""
    cleaned = [str(n).strip() or f"Unnamed: {i}" for i, n in enumerate(names)]
    taken, out, copies = set(cleaned), [], {}
    seen: set[str] = set()
    for name in cleaned:
        if name in seen:
            k = 1
            while f"{name}.{k}" in taken:
                k += 1
            new = f"{name}.{k}"
            taken.add(new)
            copies.setdefault(name, []).append(new)
            name = new
        seen.add(name)
        out.append(name)
    return out, copies
