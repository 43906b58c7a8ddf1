"""Raw columns -> the float32 matrix the network reads, identically at train and predict time.

Two steps. `build_frame` is plain pandas and needs no fitting: numbers become
float64 (inf -> missing), dates are split into numeric parts (year, month, day,
weekday, hour), yes/no and categories become stripped text. Then a scikit-learn
`ColumnTransformer` made only of standard classes (so skops can save it and
skl2onnx can convert it) imputes, scales and one-hot encodes; it is fitted on
the training rows only. `Preprocessing` bundles the fitted transformer with the
column roles, which is all a saved model needs to encode new rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from nnbuilder.data.records import ColumnInfo
from nnbuilder.data.roles import parse_dates
from nnbuilder.errors import DataError

DATE_PARTS = ("year", "month", "day", "dayofweek", "hour")
DATE_ACCESSORS = {"dayofweek": "day_of_week"}  # part name -> pandas .dt attribute
MISSING = "missing"  # the category a missing text value becomes
# yes/no columns may arrive as True/False, Yes/No, y/n or t/f: all mean the same.
BOOLEAN_WORDS = {"yes": "true", "y": "true", "t": "true", "1": "true", "1.0": "true",
                  "no": "false", "n": "false", "f": "false", "0": "false", "0.0": "false"}


def part_name(column: str, part: str, feature_columns) -> str:
    """Name of a date part; bracketed when the plain name is already a column of the table."""
    name = f"{column}_{part}"
    return f"{column}[{part}]" if name in feature_columns else name


def build_frame(df: pd.DataFrame, columns: dict[str, ColumnInfo], feature_columns: list[str]):
    """(frame, numeric names, categorical names): the table the ColumnTransformer sees."""
    parts: dict[str, Any] = {}
    numeric, categorical = [], []
    for name in feature_columns:
        info, values = columns[name], df[name]
        if info.role == "numeric":
            parts[name] = _numbers(values, info)
            numeric.append(name)
        elif info.role == "datetime":
            dates = parse_dates(values, info.date_format)
            for part in DATE_PARTS:
                key = part_name(name, part, feature_columns)
                parts[key] = getattr(dates.dt, DATE_ACCESSORS.get(part, part)).to_numpy(dtype=np.float64, na_value=np.nan)
                numeric.append(key)
        else:  # boolean and categorical both become one-hot text
            parts[name] = _text(values, boolean=info.role == "boolean")
            categorical.append(name)
    return pd.DataFrame(parts, index=df.index), numeric, categorical


def _numbers(values: pd.Series, info: ColumnInfo) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        parsed = pd.to_numeric(values, errors="coerce")
        bad = parsed.isna() & values.notna()
        if bad.any() and _numeric_dtype(info.dtype):
            row = bad.to_numpy().argmax()
            raise DataError(f"column '{info.name}' must hold numbers; got {values[bad].iloc[0]!r} in row {row + 1}",
                            column=info.name)
        out = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isinf(out), np.nan, out)


def _numeric_dtype(dtype: str) -> bool:
    try:
        return np.dtype(dtype).kind in "iuf"
    except TypeError:
        return dtype.lower().startswith(("int", "uint", "float"))


def _text(values: pd.Series, boolean: bool) -> np.ndarray:
    text = values.astype(str).str.strip()
    present = (values.notna() & (text != "")).to_numpy()  # a blank cell is a missing one
    if boolean:
        text = text.str.lower().replace(BOOLEAN_WORDS)
    return np.where(present, text.to_numpy(dtype=object), np.nan)


def make_preprocessor(numeric: list[str], categorical: list[str], embedded: list[str] = ()) -> ColumnTransformer:
    """Median-impute + standardise numbers; fill missing text with 'missing' + one-hot (unseen -> all zero).

    `embedded` text columns (nnbuilder.data.embedding) become one integer code each instead, unseen -> -1;
    their branch comes last so the codes are the matrix's last columns.
    """
    steps = []
    if numeric:
        steps.append(("numeric", Pipeline([
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]), numeric))
    if categorical:
        steps.append(("categorical", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING, keep_empty_features=True)),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]), categorical))
    if embedded:
        steps.append(("embedded", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING, keep_empty_features=True)),
            ("ordinal", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float32)),
        ]), list(embedded)))
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)


def feature_names(preprocessor: ColumnTransformer) -> list[str]:
    """Readable output names: numbers keep their name, one-hot columns read 'plan=basic'."""
    names: list[str] = []
    for kind, transformer, columns in preprocessor.transformers_:
        if kind == "numeric":
            names += list(columns)
        elif kind == "categorical":
            encoder = transformer.named_steps["onehot"]
            for column, categories in zip(columns, encoder.categories_):
                names += [f"{column}={category}" for category in categories]
        elif kind == "embedded":
            names += [f"{column} (code)" for column in columns]
    return names


def fitted_parameters(preprocessor: ColumnTransformer) -> dict:
    """The fitted transformer as plain numbers, per branch in matrix order: the numbers' medians, means and
    scales, the categories of the one-hot and embedded columns (MISSING is the category a gap becomes).

    This is the one place that reads scikit-learn's fitted attributes; everything else (exports, the
    prediction API, views, explanations) reads this. A branch this function does not know yet still appears,
    with its columns only, so a reader can refuse it in words instead of silently leaving it out."""
    steps = {}
    for name, pipeline, columns in preprocessor.transformers_:
        if isinstance(pipeline, str):  # "drop" / "passthrough" of unused columns: nothing in the matrix
            continue
        if name == "numeric":
            imputer, scaler = pipeline.named_steps["impute"], pipeline.named_steps["scale"]
            steps["numeric"] = {"columns": list(columns), "median": _floats(imputer.statistics_),
                                "mean": _floats(scaler.mean_), "scale": _floats(scaler.scale_)}
        elif name in ("categorical", "embedded"):
            encoder = pipeline.named_steps["onehot" if name == "categorical" else "ordinal"]
            steps[name] = {"columns": list(columns), "missing_as": MISSING,
                           "categories": [[str(c) for c in cats] for cats in encoder.categories_]}
        else:
            steps[name] = {"columns": list(columns)}
    return steps


def input_names(preprocessor: ColumnTransformer) -> list[str]:
    """The columns the fitted transformer reads, in the order it was fitted on (numbers, date parts, text)."""
    return [str(name) for name in preprocessor.feature_names_in_]


def known_categories(fitted: dict) -> dict[str, list[str]]:
    """{text column: its training categories, without the MISSING marker} from `fitted_parameters`."""
    return {column: [value for value in categories if value != MISSING]
            for branch in ("categorical", "embedded") if branch in fitted
            for column, categories in zip(fitted[branch]["columns"], fitted[branch]["categories"])}


def _floats(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64)]


@dataclass(frozen=True)
class Preprocessing:
    """Everything needed to encode new raw rows: the fitted transformer and the column roles.

    `columns` may be `ColumnInfo`s or their `to_dict()` form (as a bundle stores them).
    """

    preprocessor: ColumnTransformer
    feature_columns: list[str]
    columns: list[ColumnInfo]

    def __post_init__(self):
        infos = [c if isinstance(c, ColumnInfo) else ColumnInfo.from_dict(c) for c in self.columns]
        object.__setattr__(self, "columns", infos)
        object.__setattr__(self, "feature_columns", [str(c) for c in self.feature_columns])

    @property
    def feature_names(self) -> list[str]:
        return feature_names(self.preprocessor)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Raw rows -> (rows, features) float32. Extra columns are ignored, unseen categories encode as zeros."""
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        missing = [c for c in self.feature_columns if c not in df.columns]
        if missing:
            listed = ", ".join(f"'{c}'" for c in missing)
            raise DataError(f"the data lacks {len(missing)} column(s) the model needs: {listed}; expected columns: "
                            f"{', '.join(self.feature_columns)}", column=missing[0])
        if len(df) == 0:
            return np.zeros((0, len(self.feature_names)), dtype=np.float32)
        by_name = {c.name: c for c in self.columns}
        frame, _, _ = build_frame(df, by_name, self.feature_columns)
        used = list(self.preprocessor.feature_names_in_)  # e.g. without an hour part that was always 0
        return as_float32(self.preprocessor.transform(frame[used]), self.feature_names)  # (rows, features)

    def state(self) -> dict:
        """The JSON-able part; the fitted transformer is saved separately (skops)."""
        return {"feature_columns": list(self.feature_columns), "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_state(cls, preprocessor: ColumnTransformer, state: dict) -> "Preprocessing":
        return cls(preprocessor, list(state["feature_columns"]), list(state["columns"]))


def as_float32(matrix, names: list[str]) -> np.ndarray:
    """The encoded matrix in float32; a value too large for it (beyond ±3.4e38) is named instead of becoming inf."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(matrix, dtype=np.float32)
    if not np.isfinite(out).all():
        column = int(np.argwhere(~np.isfinite(out))[0][1])
        name = names[column] if column < len(names) else f"feature {column + 1}"
        raise DataError(f"column '{name}' holds a value too large to compute with (beyond 3.4e38 once scaled); "
                        "check its largest values, or rescale the column", column=name.split("=")[0])
    return out


def transform_features(prepared_or_preprocessing, df: pd.DataFrame) -> np.ndarray:
    """Raw new rows -> float32 matrix, from a `PreparedData` or a (saved) `Preprocessing`."""
    preprocessing = getattr(prepared_or_preprocessing, "preprocessing", prepared_or_preprocessing)
    return preprocessing.transform(df)
