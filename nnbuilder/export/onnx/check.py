"""The ONNX file's contract (inputs and outputs, as clients see them) and its check against Bundle.predict.

Inputs of a tabular model, one per raw feature column, each (N, 1):
    numeric      float32; NaN (or +-inf) = missing
    datetime     one float32 input per date part the model uses, named like the app's features
                 (`signup_date_year`, `_month` 1-12, `_day` 1-31, `_dayofweek` 0 = Monday, `_hour` 0-23);
                 NaN = missing date. The client splits the date: ONNX has no date parsing.
    categorical  string, the text as in the table without surrounding spaces (the app strips them); "" = missing
    boolean      string: true/false, yes/no, y/n, t/f, 1/0 in any letter case (normalised inside the graph);
                 "" = missing
An image model has one input `pixels` (N, pixel columns): raw pixel values in the table's column order.
Names are the column names; one that cannot be a graph input (empty, equal to an output's name, or starting
with `nnb_`, the graph's own prefix) gets the prefix `input_`; each entry's `column` says which column it is.

Outputs: classifiers `prediction` (N,) (the label, typed like the classes) and `probabilities` (N, classes);
regression `prediction` (N,) or (N, targets) in original units; autoencoders `anomaly_score` and `anomaly`.
`metadata_props` publishes all of this as JSON (nnbuilder_inputs, nnbuilder_outputs, nnbuilder_classes ...).

`check_export` runs the graph with ONNX Runtime on the caller's rows and on probe rows made from the fitted
preprocessing (numbers around the scaler's mean, NaN and inf; every known category, an unseen one, blanks
and missing values; yes/no spellings) and refuses the export when the results differ from Bundle.predict.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from nnbuilder import __version__
from nnbuilder.data.features import (DATE_ACCESSORS, BOOLEAN_WORDS, DATE_PARTS, fitted_parameters, input_names,
                                      known_categories, part_name)
from nnbuilder.data.roles import parse_dates
from nnbuilder.errors import ExportError, NNBuilderError
from nnbuilder.model.heads import get_head

BOOLEAN_SPELLINGS = {**BOOLEAN_WORDS, "true": "true", "false": "false"}  # what the app reads as yes/no
UNKNOWN_SPELLING = "\x00unknown"  # a yes/no spelling the app does not know: no encoder knows it either
PROBE_ROWS = 36
UNSEEN_CATEGORY = "nnbuilder-unseen-category"
PROBABILITY_TOLERANCE = 1e-4  # absolute, on probabilities
VALUE_TOLERANCE = 1e-4  # regression: relative to the target's std; anomaly scores: relative to max(1, score)
_PART_MEANING = {"year": "the year, e.g. 2024", "month": "the month, 1-12", "day": "the day of the month, 1-31",
                 "dayofweek": "the weekday, 0 = Monday ... 6 = Sunday", "hour": "the hour, 0-23"}


# ---- contract ----

def input_contract(bundle) -> list[dict]:
    """One dict per ONNX input: name, column, role, type, shape, missing, meaning (+ part, categories);
    `feeds` is the preprocessor's column it feeds (not published)."""
    if bundle.meta.get("input_kind") == "image":
        prep = bundle.preprocessing
        return [{"name": "pixels", "column": list(prep.pixel_columns), "role": "pixels", "type": "float",
                 "shape": ["N", len(prep.pixel_columns)], "missing": "not allowed",
                 "meaning": f"raw pixel values in the listed column order (channels, then rows); the model divides "
                            f"by {prep.pixel_max:g} and reads them as {list(prep.image_shape)} (C, H, W)"}]
    prep = bundle.preprocessing
    by_name = {c.name: c for c in prep.columns}
    parts = {part_name(c, p, prep.feature_columns): (c, p) for c in prep.feature_columns
             if by_name[c].role == "datetime" for p in DATE_PARTS}
    taken = {item["name"] for item in output_contract(bundle)} | {""}
    contract = []
    known = known_categories(fitted_parameters(prep.preprocessor))
    for feeds in input_names(prep.preprocessor):
        column, part = parts.get(feeds, (feeds, None))
        role, name = by_name[column].role, f"input_{feeds}" if feeds in taken or feeds.startswith("nnb_") else feeds
        item = {"name": name, "column": column, "role": role,
                "type": "string" if role in ("categorical", "boolean") else "float", "shape": ["N", 1]}
        if part:
            item.update(part=part, missing="NaN", meaning=f"{_PART_MEANING[part]} of '{column}'")
        elif item["type"] == "float":
            item.update(missing="NaN", meaning="a number (inf counts as missing)")
        else:
            item.update(missing='""', categories=known.get(feeds, []),
                        meaning=("yes/no: true/false, yes/no, y/n, t/f or 1/0 in any letter case" if role == "boolean"
                                 else "text as in the table, without surrounding spaces; unknown text is "
                                      "treated as none of the known categories"))
        item["feeds"] = feeds
        contract.append(item)
    return contract


def output_contract(bundle) -> list[dict]:
    task, meta = bundle.task, bundle.meta
    head = get_head(task)
    if head.is_classification:
        labels = label_array(bundle.classes)
        kind = {"b": "bool", "i": "int64", "f": "double"}.get(labels.dtype.kind, "string")
        return [{"name": "prediction", "type": kind, "shape": ["N"], "meaning": "the predicted class label"},
                {"name": "probabilities", "type": "float", "shape": ["N", len(bundle.classes)],
                 "meaning": "class probabilities; column k is nnbuilder_classes[k]"}]
    if head.rebuilds_input:
        return [{"name": "anomaly_score", "type": "float", "shape": ["N"],
                 "meaning": "mean squared reconstruction error in standardised units"},
                {"name": "anomaly", "type": "bool", "shape": ["N"],
                 "meaning": "anomaly_score above nnbuilder_anomaly_threshold"}]
    targets = meta["target"]
    shape = ["N"] if len(targets) == 1 else ["N", len(targets)]
    return [{"name": "prediction", "type": "float", "shape": shape,
             "meaning": "the predicted value(s) in the target's original units; columns follow nnbuilder_targets"}]


def _scaling(fitted: dict, column: str) -> tuple[float, float]:
    """(centre, spread) of a numeric feature from the fitted scaler, for probe values."""
    numeric = fitted.get("numeric", {"columns": []})
    if column not in numeric["columns"]:
        return 0.0, 1.0
    k = numeric["columns"].index(column)
    return numeric["mean"][k], numeric["scale"][k]


def boolean_table(categories: list[str]) -> tuple[list[str], list[str]]:
    """Every letter-case variant of the app's yes/no spellings and of the column's known values, and what
    each becomes (the app lower-cases before mapping). Spellings up to 5 letters get all case variants."""
    table = {"": ""}
    for word, meaning in {**BOOLEAN_SPELLINGS, **{c.lower(): c.lower() for c in categories}}.items():
        variants = {word, word.upper(), word.title()}
        if len(word) <= 5:
            variants = {"".join(c.upper() if (bits >> k) & 1 else c for k, c in enumerate(word))
                        for bits in range(2 ** len(word))}
        table.update({v: meaning for v in variants})
    return list(table), list(table.values())


def label_array(classes: list) -> np.ndarray:
    """The class labels as the `prediction` output carries them: text -> string, whole numbers -> int64,
    true/false -> bool, other numbers -> double; mixed kinds as text."""
    if all(isinstance(c, bool) for c in classes):
        return np.array(classes, dtype=bool)
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return np.array(classes, dtype=np.int64)
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes):
        return np.array(classes, dtype=np.float64)
    return np.array([str(c) for c in classes], dtype=object)  # text (or mixed kinds, as text)


def metadata_props(bundle, contract: list[dict]) -> dict[str, str]:
    """What the .onnx file tells its clients (metadata_props, all text; lists and dicts as JSON)."""
    meta = bundle.meta
    props = {
        "nnbuilder_version": __version__,
        "nnbuilder_task": bundle.task,
        "nnbuilder_input_kind": meta.get("input_kind", "tabular"),
        "nnbuilder_targets": json.dumps(meta.get("target", [])),
        "nnbuilder_inputs": json.dumps([{k: v for k, v in item.items() if k != "feeds"} for item in contract]),
        "nnbuilder_outputs": json.dumps(output_contract(bundle)),
    }
    if bundle.classes is not None:
        props["nnbuilder_classes"] = json.dumps(bundle.classes)
    if get_head(bundle.task).rebuilds_input:
        props["nnbuilder_anomaly_threshold"] = json.dumps(meta.get("anomaly_threshold"))
    return props


# ---- feeds: what a client sends for raw rows ----

def onnx_feeds(bundle, df: pd.DataFrame, contract: list[dict] | None = None) -> dict[str, np.ndarray]:
    """Raw rows -> the ONNX inputs, as the contract asks a client to build them (a reference client)."""
    contract = contract or input_contract(bundle)
    if bundle.meta.get("input_kind") == "image":
        return {"pixels": df[list(bundle.preprocessing.pixel_columns)].to_numpy(dtype=np.float32)}
    by_name = {c.name: c for c in bundle.preprocessing.columns}
    feeds = {}
    for item in contract:
        values = df[item["column"]]
        if "part" in item:
            dates = parse_dates(values, by_name[item["column"]].date_format)
            part = getattr(dates.dt, DATE_ACCESSORS.get(item["part"], item["part"]))
            array = part.to_numpy(dtype=np.float64, na_value=np.nan)
        elif item["type"] == "float":
            array = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            text = values.astype(str).str.strip()
            array = np.where(values.notna().to_numpy(), text.to_numpy(dtype=object), "").astype(object)
        feeds[item["name"]] = array.astype(np.float32 if item["type"] == "float" else object).reshape(-1, 1)
    return feeds


def probe_rows(bundle, n: int = PROBE_ROWS) -> pd.DataFrame:
    """Synthetic raw rows that exercise every input: spread-out numbers, NaN, inf, dates, every category,
    an unseen one, blanks and missing values."""
    rng = np.random.default_rng(0)
    if bundle.meta.get("input_kind") == "image":
        columns = list(bundle.preprocessing.pixel_columns)
        pixels = rng.uniform(0, bundle.preprocessing.pixel_max, (n, len(columns)))
        return pd.DataFrame(pixels, columns=columns)
    prep = bundle.preprocessing
    by_name = {c.name: c for c in prep.columns}
    fitted = fitted_parameters(prep.preprocessor)
    categories = known_categories(fitted)
    frame = {}
    for column in prep.feature_columns:
        info, spread = by_name[column], rng.permutation(np.linspace(-3, 3, n))  # columns vary independently
        if info.role == "numeric":
            centre, scale = _scaling(fitted, column)
            values = centre + scale * spread
            values[::7], values[3] = np.nan, np.inf
            frame[column] = values
        elif info.role == "datetime":
            frame[column] = _probe_dates(fitted, column, prep.feature_columns, info.date_format, spread)
        else:
            known = categories.get(column, [])
            extra = ["yes", "No", "TRUE", "f", "1", "0.0", "Y", "maybe"] if info.role == "boolean" else []
            cycle = known + extra + [UNSEEN_CATEGORY, None, ""]
            frame[column] = [cycle[i % len(cycle)] for i in rng.permutation(n)]
    return pd.DataFrame(frame)


def _probe_dates(fitted, column, feature_columns, fmt, spread) -> list:
    centre, scale = _scaling(fitted, part_name(column, "year", feature_columns))
    years = np.clip(np.round(centre + scale * spread), 1700, 2200).astype(int)
    dates = [pd.Timestamp(year=int(y), month=1 + i % 12, day=1 + (i * 7) % 28, hour=(i * 5) % 24)
             for i, y in enumerate(years)]
    values = [d.strftime(fmt) for d in dates] if fmt else dates
    values[1] = None
    return values


# ---- the check ----

def require_columns(bundle, rows) -> None:
    """ExportError naming what the check rows lack (None passes: the probe rows are checked anyway)."""
    if rows is None:
        return
    if not isinstance(rows, pd.DataFrame):
        raise ExportError(f"check rows must be a table (pandas DataFrame) of raw rows; got {type(rows).__name__}")
    missing = [c for c in bundle.preprocessing.feature_columns if c not in rows.columns]
    if missing:
        listed = ", ".join(f"'{c}'" for c in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise ExportError(f"the check rows lack {len(missing)} column(s) the model needs: {listed}; pass raw rows "
                          "with the model's columns (e.g. the test split), or none")


def check_export(bundle, model, check_rows: pd.DataFrame | None) -> None:
    """ExportError (and so nothing written) when ONNX Runtime and Bundle.predict disagree on any row."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as exc:  # an op ORT cannot run: our graph's fault, told plainly
        raise ExportError(f"ONNX Runtime cannot load the exported graph ({str(exc).splitlines()[0][:200]}); "
                          "nothing was written; use '--format torchscript' instead") from None
    contract = input_contract(bundle)
    batches = [("probe", probe_rows(bundle))]
    if check_rows is not None and len(check_rows):
        batches.insert(0, ("check", check_rows))
    for label, rows in batches:
        try:
            expected = bundle.predict(rows)
            feeds = onnx_feeds(bundle, rows, contract)
        except (NNBuilderError, KeyError) as exc:
            raise ExportError(f"the {label} rows cannot be predicted, so the ONNX file cannot be checked: "
                              f"{exc}; pass rows with the model's columns") from None
        names = [o.name for o in session.get_outputs()]
        got = dict(zip(names, session.run(None, feeds)))
        problem = _difference(bundle, expected, got)
        if problem:
            raise ExportError(f"the ONNX graph disagrees with the bundle on the {label} rows ({problem}); nothing "
                              "was written; this is a bug in nnbuilder's ONNX export: use '--format torchscript'")


def _difference(bundle, expected: pd.DataFrame, got: dict) -> str | None:
    """What differs, in words, or None when every row agrees within tolerance."""
    head = get_head(bundle.task)
    if head.is_classification:
        proba = expected[[f"probability_{c}" for c in bundle.classes]].to_numpy(dtype=np.float64)
        gap = np.abs(proba - got["probabilities"]).max(axis=1)
        if gap.max() > PROBABILITY_TOLERANCE:
            return f"probability differs by {gap.max():.2g} in row {int(gap.argmax()) + 1}"
        ordered = np.sort(proba, axis=1)
        tie = ordered[:, -1] - ordered[:, -2] < 1e-6  # an exact tie may break either way in float32
        shown = str if label_array(bundle.classes).dtype == object else (lambda label: label)  # mixed kinds: text
        differs = (np.array([shown(v) for v in expected["prediction"]], dtype=object) !=
                   np.asarray(got["prediction"].tolist(), dtype=object)) & ~tie
        if differs.any():
            row = int(differs.argmax())
            return (f"it gives class {got['prediction'][row]!r} where the bundle gives "
                    f"{expected['prediction'].iloc[row]!r}, in row {row + 1}")
        return None
    if head.rebuilds_input:
        score, threshold = expected["anomaly_score"].to_numpy(), float(bundle.meta["anomaly_threshold"])
        gap = np.abs(score - got["anomaly_score"]) / np.maximum(1.0, np.abs(score))
        if gap.max() > VALUE_TOLERANCE:
            return f"anomaly score differs by {gap.max():.2g} (relative) in row {int(gap.argmax()) + 1}"
        clear = np.abs(score - threshold) > VALUE_TOLERANCE * max(1.0, abs(threshold))  # not on the threshold
        differs = (expected["anomaly"].to_numpy() != got["anomaly"]) & clear
        return f"anomaly flag differs in row {int(differs.argmax()) + 1}" if differs.any() else None
    targets, std = bundle.meta["target"], np.asarray(bundle.meta["target_std"], dtype=np.float64)
    columns = ["prediction"] if len(targets) == 1 else [f"prediction_{t}" for t in targets]
    values = expected[columns].to_numpy(dtype=np.float64)
    gap = np.abs(values - np.asarray(got["prediction"]).reshape(values.shape)) / std
    row = int(gap.max(axis=1).argmax())
    return (f"prediction differs by {gap.max():.2g} target standard deviations in row {row + 1}"
            if gap.max() > VALUE_TOLERANCE else None)
