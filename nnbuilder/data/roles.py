"""Decide what each column is for: a number, a category, yes/no, a date, or left out.

The rules, first match wins:
1. target columns -> "target"; columns the user dropped -> "excluded" ("dropped by you")
2. no values at all, or only one distinct value -> excluded (empty / constant)
3. bool dtype -> "boolean"
4. numbers -> "numeric", unless they are whole numbers, (nearly) all different, at least
   20 rows, AND look like a key (the name says id/key/index, or the values just count the
   rows 0..n-1 or 1..n) -> excluded as identifier-like. So unique salaries or years stay
   numeric, and decimal numbers are never identifiers.
5. datetime dtype -> "datetime"
6. text: two values such as yes/no, true/false, y/n, t/f -> "boolean"; mostly numbers
   (>= 95%) -> "numeric"; mostly dates (>= 90% parse, checked on a sample first) ->
   "datetime"; (nearly) all different -> excluded (identifier-like, or free text when
   the values are sentences); long strings -> excluded (free text); more than 50
   distinct values -> excluded (too many categories); otherwise "categorical".
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from nnbuilder.data.records import ColumnInfo

MAX_CATEGORIES = 50
UNIQUE_SHARE = 0.95  # "nearly all different"
MIN_ROWS_FOR_ID = 20
FREE_TEXT_LENGTH = 50  # average characters that make a column free text
DATE_SHARE = 0.90
NUMBER_SHARE = 0.95
SAMPLE = 500
_DATE_USE = "used as year, month, day, weekday and, when times vary, hour"
BOOLEAN_PAIRS = [{"yes", "no"}, {"true", "false"}, {"y", "n"}, {"t", "f"}]
_ID_NAME = re.compile(r"(^|[\s_.\-])(id|uuid|guid|key|idx|index)$|^(id|uuid|guid|key|idx|index|row|rownum|"
                      r"row_?number|record|unnamed: ?\d+)$", re.IGNORECASE)
_CAMEL_ID = re.compile(r"[a-z](Id|ID)$")  # customerId, but not "paid"
_DATE_LIKE = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}[ \-][A-Za-z]{3,9}[ \-,]+\d{2,4}"
    r"|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}|\d{8}T?\d*)")


def infer_roles(df: pd.DataFrame, target: str | list[str] | None, drop_columns: Sequence[str] = (),
                max_categories: int = MAX_CATEGORIES) -> list[ColumnInfo]:
    """One `ColumnInfo` per column of `df`, in order; see the module docstring for the rules.

    `max_categories` is higher when the spec embeds categories (nnbuilder.data.embedding).
    """
    targets = set(_as_list(target))
    dropped = set(drop_columns)
    return [_column_info(str(name), df[name], name in targets, name in dropped, max_categories) for name in df.columns]


def _as_list(target) -> list[str]:
    if target is None:
        return []
    return [target] if isinstance(target, str) else list(target)


def _column_info(name: str, column: pd.Series, is_target: bool, is_dropped: bool, max_categories: int) -> ColumnInfo:
    present = column.dropna()
    try:
        unique = int(present.nunique())
    except TypeError:  # unhashable cells (lists, dicts): compare their text
        present = present.astype(str)
        unique = int(present.nunique())
    role, reason, fmt = _role(name, column, present, unique, is_target, is_dropped, max_categories)
    return ColumnInfo(name, str(column.dtype), int(len(column) - len(present)), unique, role, reason, fmt)


def _role(name, column, present, unique, is_target, is_dropped, max_categories):
    if is_target:
        return "target", "the column to predict", None
    if is_dropped:
        return "excluded", "dropped by you", None
    if len(present) == 0:
        return "excluded", "empty: every value is missing", None
    if unique == 1:
        return "excluded", f"constant: only one value ({_show(present.iloc[0])}), so it cannot tell rows apart", None
    if pd.api.types.is_bool_dtype(column):
        return "boolean", "true/false values", None
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column):
        return _numeric_role(name, present.to_numpy(dtype=np.float64), unique)
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime", f"dates ({_DATE_USE})", None
    if pd.api.types.is_timedelta64_dtype(column) or pd.api.types.is_complex_dtype(column):
        return "excluded", f"unsupported type ({column.dtype})", None
    return _text_role(name, present.astype(str).str.strip(), unique, max_categories)


def _numeric_role(name: str, values: np.ndarray, unique: int):
    whole = bool(np.all(values == np.round(values)))
    nearly_unique = len(values) >= MIN_ROWS_FOR_ID and unique >= UNIQUE_SHARE * len(values)
    if whole and nearly_unique:
        counts_rows = unique == len(values) and values.min() in (0, 1) and values.max() - values.min() + 1 == unique
        if _ID_NAME.search(name) or _CAMEL_ID.search(name) or counts_rows:
            return "excluded", _identifier(unique, len(values)), None
    kind = "whole numbers" if whole else "numbers"
    return "numeric", f"{kind} ({unique} distinct values)", None


def _text_role(name: str, text: pd.Series, unique: int, max_categories: int):
    lowered = set(text.str.lower().unique()) if unique <= 8 else set()  # Yes/yes/YES are one value
    if len(lowered) == 2 and any(lowered <= pair for pair in BOOLEAN_PAIRS):
        return "boolean", f"yes/no values ({', '.join(sorted(lowered))})", None
    numbers = pd.to_numeric(text, errors="coerce")
    share = numbers.notna().mean()
    if share >= NUMBER_SHARE:
        parsed = numbers.dropna()
        as_numbers = _numeric_role(name, parsed.to_numpy(dtype=np.float64), int(parsed.nunique()))
        if as_numbers[0] == "excluded":
            return as_numbers
        bad = text[numbers.isna()]
        extra = f"; {len(bad)} other value(s) such as {_show(bad.iloc[0])} are treated as missing" if len(bad) else ""
        return "numeric", f"numbers stored as text{extra}", None
    fmt = date_format(text)
    if fmt is not None:
        return "datetime", f"dates like {_show(text.iloc[0])} ({_DATE_USE})", fmt
    n = len(text)
    mean_length = float(text.str.len().mean())
    if n >= MIN_ROWS_FOR_ID and unique >= UNIQUE_SHARE * n:
        if mean_length > 30 or text.str.contains(" ", regex=False).mean() > 0.5:
            return "excluded", f"free text: almost every value is different ({_count(unique, n)}); " \
                               "a network cannot learn from raw sentences", None
        return "excluded", _identifier(unique, n), None
    if mean_length > FREE_TEXT_LENGTH:
        return "excluded", f"free text: long values (about {mean_length:.0f} characters on average)", None
    if unique > max_categories:
        return "excluded", f"too many categories: {unique} distinct values (at most {max_categories} are used); " \
                           "choose embeddings for categorical columns (Data page), or group rare values into " \
                           "'other' in your data", None
    return "categorical", f"text with {unique} distinct values", None


def date_format(text: pd.Series) -> str | None:
    """The strptime format that parses >= 90% of the values, or None when they are not dates.

    A sample is checked first (regex, then parsing) so non-date text is rejected fast.
    """
    sample = text.iloc[:SAMPLE] if len(text) > SAMPLE else text
    if sample.str.match(_DATE_LIKE).mean() < DATE_SHARE:
        return None
    best, best_share = None, 0.0
    for fmt in _candidate_formats(sample):
        share = parse_dates(sample, fmt).notna().mean()
        if share > best_share:
            best, best_share = fmt, share
    if best is None or best_share < DATE_SHARE:
        return None
    if len(text) > len(sample) and parse_dates(text, best).notna().mean() < DATE_SHARE:
        return None
    return best


def _candidate_formats(sample: pd.Series) -> list[str]:
    formats: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for value in sample.iloc[:5]:
            for dayfirst in (False, True):
                fmt = guess_datetime_format(value, dayfirst=dayfirst)
                if fmt and fmt not in formats:
                    formats.append(fmt)
    return formats


def parse_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    """Parse text (or pass through datetimes) with `fmt`; what does not parse becomes NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(values, format=fmt, errors="coerce")
        except (ValueError, TypeError):  # mixed time zones: compare in UTC
            return pd.to_datetime(values, format=fmt, errors="coerce", utc=True)


def _show(value) -> str:
    text = str(value)
    return repr(text if len(text) <= 30 else text[:27] + "...")


def _identifier(unique: int, n: int) -> str:
    every = "every" if unique == n else "nearly every"
    return (f"identifier-like: {every} value is unique ({_count(unique, n)}), "
            "so it labels rows rather than describing them")


def _count(unique: int, n: int) -> str:
    return f"all {n} different" if unique == n else f"{unique} different in {n} rows"
