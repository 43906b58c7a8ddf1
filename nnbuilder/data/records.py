"""Plain records the data pipeline hands to front ends: warnings and column roles.

Both are frozen and JSON-able (`to_dict`), so the UI can show them, the CLI can
print them and a bundle can store them next to the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# What a column can be used as. Only "numeric", "categorical", "boolean" and
# "datetime" columns reach the network.
ROLES = ("numeric", "categorical", "boolean", "datetime", "excluded", "target")
INPUT_ROLES = ("numeric", "categorical", "boolean", "datetime")

# Stable machine codes of `DataWarning`, so tests and the UI never match on text.
WARNING_CODES = (
    "dropped_column", "missing_target", "class_imbalance", "duplicate_columns", "inf_values",
    "empty_column", "encoding_fallback", "dropped_rows", "few_rows", "unstratified_split",
    "filled_gaps",
)


@dataclass(frozen=True)
class DataWarning:
    """Something the user should know about their data; training still goes ahead."""

    code: str  # one of WARNING_CODES
    message: str  # one plain sentence: what happened and why
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ColumnInfo:
    """One column of the table and what the pipeline does with it."""

    name: str
    dtype: str  # pandas dtype as text, e.g. "float32", "str", "datetime64[s]"
    missing: int
    unique: int  # distinct non-missing values
    role: str  # one of ROLES
    reason: str  # why this role, in plain words
    date_format: str | None = None  # strptime format of text dates, so new rows parse the same way

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ColumnInfo":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def is_input(self) -> bool:
        return self.role in INPUT_ROLES
