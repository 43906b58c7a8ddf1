"""The prediction service's request and answer schemas, generated from a bundle's columns and task.

One required field per input column, typed by its role (ROLE_TYPES) and aliased to the real column name, with
an example row from the fitted preprocessing (medians, first known categories); the answer rows mirror the
columns `Bundle.predict` (or `generate`) writes. nnbuilder.serve.app builds its FastAPI app on these.
"""

from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from nnbuilder.data.features import fitted_parameters, known_categories, part_name
from nnbuilder.model.heads import get_head

ROWS_HINT = '{"rows": [{"column": value, ...}]}'


def _not_bool(value):
    if isinstance(value, bool):  # pydantic would read true as 1.0; a yes/no in a number column is a mistake
        raise ValueError("a number, not true/false")
    return value


Number = Annotated[float | None, BeforeValidator(_not_bool)]
# role -> (field type, what a value must be); a new role or encoding adds one entry here.
ROLE_TYPES: dict[str, tuple[Any, str]] = {
    "numeric": (Number, "a number or null"),
    "categorical": (str | None, "text (a category) or null"),
    "boolean": (bool | str | None, "true/false (or text such as yes/no) or null"),
    "datetime": (str | None, "a date as text, e.g. 2024-01-31, or null"),
    "key": (str | int | float | None, "text or a number"),  # a time series' group column
}


def input_columns(bundle) -> list[dict]:
    """[{name, role, date_format}] of what a request row must hold, from the bundle's preprocessing."""
    prep, kind = bundle.preprocessing, bundle.meta.get("input_kind")
    if kind == "tabular":
        infos = {c.name: c for c in prep.columns}
        return [_col(c, infos[c].role, infos[c].date_format) for c in prep.feature_columns]
    if kind != "sequence":  # image: pixel numbers
        return [_col(c, "numeric") for c in prep.feature_columns]
    dtypes = {c["name"]: str(c.get("dtype")) for c in bundle.meta.get("columns", [])}
    numbered = dtypes.get(prep.time_column, "").startswith(("int", "uint", "float"))  # step numbers, else dates
    return ([_col(c, "numeric") for c in prep.value_columns]
            + ([_col(prep.time_column, "numeric" if numbered else "datetime")] if prep.time_column else [])
            + ([_col(prep.group_column, "key")] if prep.group_column else []))


def _col(name: str, role: str, date_format: str | None = None) -> dict:
    return {"name": name, "role": role if role in ROLE_TYPES else "key", "date_format": date_format}  # key: any value


def fitted_stats(bundle) -> tuple[dict, dict]:
    """(median of each numeric feature, known categories of each encoded column: one-hot or embedded)."""
    preprocessor = getattr(bundle.preprocessing, "preprocessor", None)
    if preprocessor is None:  # image and sequence models: no fitted table transformer
        return {}, {}
    fitted = fitted_parameters(preprocessor)
    numeric = fitted.get("numeric", {"columns": [], "median": []})
    medians = {c: v for c, v in zip(numeric["columns"], numeric["median"]) if np.isfinite(v)}  # JSON-able
    return medians, known_categories(fitted)


def example_rows(bundle, columns: list[dict]) -> list[dict]:
    """Rows that make a valid request: medians and first known categories (a window of days for a time series)."""
    medians, categories = fitted_stats(bundle)
    names, row = bundle.meta.get("feature_columns", []), {}
    for name, role in ((c["name"], c["role"]) for c in columns):
        y, m, d = (medians.get(part_name(name, p, names)) for p in ("year", "month", "day"))  # a date's medians
        date = "2024-01-01" if None in (y, m, d) else f"{y:04.0f}-{m:02.0f}-{min(d, 28):02.0f}"
        row[name] = (round(medians.get(name, 0.0), 3) if role == "numeric" else date if role == "datetime"
                     else (categories.get(name) or ["true" if role == "boolean" else "a"])[0])
    prep, time = bundle.preprocessing, getattr(bundle.preprocessing, "time_column", None)
    if getattr(prep, "layout", None) != "time_series":
        return [row]
    days = pd.date_range("2024-01-01", periods=prep.window, freq="D").strftime("%Y-%m-%d")
    return [row | ({time: day if isinstance(row[time], str) else float(k)} if time else {})
            for k, day in enumerate(days)]


def request_model(bundle, columns: list[dict], max_rows: int) -> type[BaseModel]:
    """{"rows": [Row, ...]}: Row has one required field per input column, aliased to the column's real name."""
    _, categories = fitted_stats(bundle)
    examples = example_rows(bundle, columns)
    fields = {}
    for k, col in enumerate(columns):
        known = categories.get(col["name"], [])
        listed = f". Known values: {', '.join(known[:20])}{' ...' if len(known) > 20 else ''} (others read as unseen)"
        fields[f"c{k}"] = (ROLE_TYPES[col["role"]][0], Field(
            ..., alias=col["name"], title=col["name"], examples=[examples[0][col["name"]]],
            description=f"{col['role']} column: {ROLE_TYPES[col['role']][1]}{listed if known else ''}"))
    row = create_model("Row", __config__=ConfigDict(extra="ignore", json_schema_extra={"examples": examples[:1]}),
                       **fields)
    return create_model("PredictRequest", __config__=ConfigDict(json_schema_extra={"examples": [{"rows": examples}]}),
                        rows=(list[row], Field(..., min_length=1, max_length=max_rows,
                                               description=f"1 to {max_rows} rows; null means missing")))


def output_fields(bundle) -> dict[str, Any]:
    """Column -> type of each answer row, in the order Bundle.predict (or generate) writes them."""
    meta, task, prep = bundle.meta, bundle.task, bundle.preprocessing
    if "gan_layout" in meta:  # generated rows: the real table's columns, as the layout decodes them
        numeric = {e["column"] for e in meta["gan_layout"]["numeric"] if e.get("column")}
        return {c: (float | None) if c in numeric else (str | None) for c in meta["gan_layout"]["columns"]}
    if get_head(task).rebuilds_input:  # anomaly score, flag and latent coordinates (tasks.autoencoder.task)
        latent = bundle.spec.autoencoder_settings.latent_dim
        return {"anomaly_score": float, "anomaly": bool} | {f"latent_{k + 1}": float for k in range(latent)}
    out: dict[str, Any] = {}
    if getattr(prep, "layout", None) == "time_series":  # the keys naming each window come first
        out |= ({prep.group_column: str | int | float | None} if prep.group_column else {})
        out |= {"window_end": str | int | float} | ({"steps_ahead": int} if prep.horizon else {})
    if get_head(task).is_classification:
        classes = list(bundle.classes)
        simple = all(isinstance(c, (str, int)) for c in classes)
        out["prediction"] = Literal[tuple(classes)] if simple else str | int | float | bool
        return out | {f"probability_{c}": float for c in classes}
    targets = meta["target"]
    return out | ({"prediction": float} if len(targets) == 1 else {f"prediction_{t}": float for t in targets})


def answer_model(name: str, key: str, fields: dict[str, Any]) -> type[BaseModel]:
    row = create_model(f"{name}Row", **{f"c{k}": (kind, Field(..., alias=col, title=col))
                                        for k, (col, kind) in enumerate(fields.items())})
    return create_model(name, **{key: (list[row], ...)})


