"""Built-in datasets by name: scikit-learn's bundled tables, 2-D classroom sets, a messy demo CSV.

Nothing here touches the network: the scikit-learn tables ship inside the
package (`load_*`, never `fetch_*`) and the 2-D sets are generated, the same
rows for the same `seed`. Each entry says which column to predict.

    load_dataset("moons", noise=0.3)       # a DataFrame
    load_sample("moons?noise=0.3&seed=2")  # what `sample:moons?...` means to load_table
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl

import numpy as np
import pandas as pd
from sklearn import datasets as skdata

from nnbuilder.errors import DataError
from nnbuilder.spec.messages import did_you_mean

ASSETS = Path(__file__).resolve().parents[2] / "assets"
# Options every generated 2-D set accepts, with their defaults; extras are added per set.
_COMMON = {"n_samples": 500, "noise": 0.1, "seed": 0}
_LIMITS = {"n_samples": (10, 1_000_000), "noise": (0.0, 10.0), "seed": (0, 2**31 - 1), "arms": (2, 10),
           "centers": (2, 20), "days": (60, 100_000)}


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    target: str
    task_hint: str  # "binary" | "multiclass" | "regression", with the default options
    loader: Callable[..., pd.DataFrame] = field(repr=False)
    options: dict = field(default_factory=dict)  # accepted options and their defaults


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def _sklearn(load, target: str, labels: list[str] | None = None, **kwargs) -> pd.DataFrame:
    bunch = load(as_frame=True, **kwargs)
    frame = bunch.data.rename(columns=_snake)
    values = bunch.target.to_numpy()
    frame[target] = np.asarray(labels, dtype=object)[values] if labels else values
    if labels:
        frame[target] = frame[target].astype(str)
    return frame


def _iris() -> pd.DataFrame:
    return _sklearn(skdata.load_iris, "species", ["setosa", "versicolor", "virginica"])


def _wine() -> pd.DataFrame:
    return _sklearn(skdata.load_wine, "cultivar", ["cultivar_1", "cultivar_2", "cultivar_3"])


def _breast_cancer() -> pd.DataFrame:
    return _sklearn(skdata.load_breast_cancer, "diagnosis", ["malignant", "benign"])


def _digits() -> pd.DataFrame:
    bunch = skdata.load_digits()
    frame = pd.DataFrame(bunch.data.astype(np.int64), columns=[f"pixel{i}" for i in range(64)])
    frame["digit"] = bunch.target.astype(np.int64)
    return frame


def _diabetes() -> pd.DataFrame:
    return _sklearn(skdata.load_diabetes, "progression", scaled=False)


def _points(x: np.ndarray, label: np.ndarray, seed: int) -> pd.DataFrame:
    order = np.random.default_rng(seed).permutation(len(label))  # classes interleaved, not in blocks
    return pd.DataFrame({"x1": x[order, 0], "x2": x[order, 1], "label": label[order].astype(np.int64)})


def _moons(n_samples: int, noise: float, seed: int) -> pd.DataFrame:
    x, y = skdata.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return _points(x, y, seed)


def _circles(n_samples: int, noise: float, seed: int) -> pd.DataFrame:
    x, y = skdata.make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)
    return _points(x, y, seed)


def _spiral(n_samples: int, noise: float, seed: int, arms: int) -> pd.DataFrame:
    """Interleaved arms, 1.75 turns each, radius 0..1; noise is the std of the jitter."""
    rng = np.random.default_rng(seed)
    label = np.arange(n_samples) % arms
    t = rng.uniform(0.05, 1.0, n_samples)
    angle = 2 * np.pi * (1.75 * t + label / arms)
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) + rng.normal(0, noise, (n_samples, 2))
    return _points(x, label, seed)


def _xor(n_samples: int, noise: float, seed: int) -> pd.DataFrame:
    """Label 1 where x1 and x2 have different signs; noise jitters the points after labelling."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n_samples, 2))
    label = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    return _points(x + rng.normal(0, noise, x.shape), label, seed)


def _blobs(n_samples: int, noise: float, seed: int, centers: int) -> pd.DataFrame:
    x, y = skdata.make_blobs(n_samples=n_samples, centers=centers, cluster_std=noise, random_state=seed)
    return _points(x, y, seed)


def _sales(seed: int, days: int) -> pd.DataFrame:
    """Daily sales of one shop from 2022-01-01: trend + weekly and yearly seasons + holidays + weather + noise.

    Weekends sell about 45% more than Tuesdays, summer about 15% more than winter, the days around
    Christmas and New Year twice the usual; warm days add a little. The noise is autocorrelated (AR(1)),
    as real demand is, so yesterday says something about today beyond the season.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    dates = pd.date_range("2022-01-01", periods=days, freq="D")
    weekday = np.asarray(dates.day_of_week)
    year_phase = 2 * np.pi * (np.asarray(dates.day_of_year) - 1) / 365.25
    temperature = 11 - 9 * np.cos(year_phase) + rng.normal(0, 2.5, days)
    weekly = np.array([0.0, -4.0, 2.0, 8.0, 22.0, 48.0, 38.0])[weekday]  # Mon..Sun
    month, day = np.asarray(dates.month), np.asarray(dates.day)
    holiday = ((month == 12) & (day >= 20)) | ((month == 1) & (day <= 2)) | ((month == 5) & (day == 1))
    noise = np.zeros(days)
    shocks = rng.normal(0, 6.0, days)
    for i in range(1, days):  # AR(1) demand noise; a Python loop over a few thousand days is fine
        noise[i] = 0.6 * noise[i - 1] + shocks[i]
    sales = 120 + 0.04 * t + weekly - 15 * np.cos(year_phase) + 0.8 * (temperature - 11) + 90 * holiday + noise
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sales": np.round(np.maximum(sales, 0), 1),
                         "temperature": np.round(temperature, 1), "holiday": holiday.astype(np.int64)})


def _transactions(seed: int, n_samples: int) -> pd.DataFrame:
    """Card payments: normal rows follow two hidden factors (spend level, distance from home); ~4% are anomalies.

    In a normal row the amount, the number of items, the price per item and the merchant rise together with the
    spend level, and the distance and the hour of day with the distance factor. An anomaly draws every column
    from its own factor (and a wider spread), so each value can look ordinary alone while the combination
    breaks the pattern: the kind of row an autoencoder rebuilds badly. `is_anomaly` says which rows were
    injected (yes/no); it is a label for checking the scores, not an input.
    """
    rng = np.random.default_rng(seed)
    n_anomalies = max(1, round(0.04 * n_samples))
    anomaly = np.zeros(n_samples, dtype=bool)
    anomaly[rng.choice(n_samples, n_anomalies, replace=False)] = True
    spend, distance = rng.normal(0, 1, n_samples), rng.normal(0, 1, n_samples)

    def factor(base: np.ndarray) -> np.ndarray:  # the shared factor for normal rows, a fresh wider one for anomalies
        return np.where(anomaly, rng.normal(0, 1.6, n_samples), base)

    amount = np.maximum(60 + 25 * factor(spend) + rng.normal(0, 2.5, n_samples), 1.0)
    items = np.maximum(np.round(4 + 1.5 * factor(spend) + rng.normal(0, 0.3, n_samples)), 1)
    distance_km = np.maximum(8 + 4 * factor(distance) + rng.normal(0, 0.4, n_samples), 0.1)
    hour = np.clip(np.round(14 + 3 * factor(distance) + rng.normal(0, 0.4, n_samples)), 0, 23)
    merchants = np.array(["grocery", "pharmacy", "clothing", "electronics"], dtype=object)
    level = np.digitize(factor(spend), [-0.8, 0.0, 0.8])
    return pd.DataFrame({
        "amount": np.round(amount, 2), "items": items.astype(np.int64), "distance_km": np.round(distance_km, 1),
        "hour": hour.astype(np.int64), "merchant": merchants[level],
        "is_anomaly": np.where(anomaly, "yes", "no"),
    })


def _customers() -> pd.DataFrame:
    from nnbuilder.data.io import read_csv

    frame, _ = read_csv(ASSETS / "messy_customers.csv")
    return frame


def _people(seed: int, n_samples: int) -> pd.DataFrame:
    """Adults whose numbers move together (age, height, weight, income) plus a sex column that shifts them:
    a table for the GAN task, where sampling each column on its own would lose the correlations."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n_samples)
    male = (sex == "male").astype(float)
    age = rng.uniform(20, 65, n_samples)
    height = 163 + 13 * male + rng.normal(0, 6, n_samples)
    weight = 0.9 * (height - 100) + 0.15 * (age - 40) + rng.normal(0, 4, n_samples)
    income = 1500 + 70 * (age - 20) + 8 * (height - 160) + rng.normal(0, 300, n_samples)
    return pd.DataFrame({"age": age.round(1), "height": height.round(1), "weight": weight.round(1),
                         "income": income.round(0), "sex": sex})


def _rentals(seed: int, n_samples: int) -> pd.DataFrame:
    """Flats to rent in 150 neighbourhoods, each with its own price level: too many categories for one-hot,
    the case categorical embeddings are for (the rent depends mostly on the neighbourhood and the size)."""
    rng = np.random.default_rng(seed)
    places = np.array([f"{a}{b}" for a in ("North", "South", "East", "West", "Old", "New") for b in
                       ("field", "haven", "bridge", "wood", "gate", "ford", "moor", "dale", "port", "wick", "ham",
                        "ton", "by", "stead", "worth", "mouth", "ley", "hurst", "brook", "cliff", "cross", "well",
                        "side", "view", "park")], dtype=object)  # 150 names
    level = rng.lognormal(0, 0.35, len(places))  # each neighbourhood's price per m² relative to the city's
    where = rng.integers(0, len(places), n_samples)
    size = np.clip(rng.normal(70, 22, n_samples), 18, 200)
    rooms = np.clip(np.round(size / 25 + rng.normal(0, 0.6, n_samples)), 1, 8)
    floor = rng.integers(0, 12, n_samples)
    rent = 14 * size * level[where] * (1 + 0.01 * floor) + 40 * rooms + rng.normal(0, 60, n_samples)
    return pd.DataFrame({"neighbourhood": places[where], "size_m2": size.round(0), "rooms": rooms.astype(np.int64),
                         "floor": floor, "rent": rent.round(0)})


DATASETS: dict[str, DatasetInfo] = {info.name: info for info in [
    DatasetInfo("iris", "150 iris flowers: 4 measurements -> species (3 classes)", "species", "multiclass", _iris),
    DatasetInfo("wine", "178 wines: 13 chemical measurements -> cultivar (3 classes)", "cultivar", "multiclass", _wine),
    DatasetInfo("breast_cancer", "569 tumours: 30 cell measurements -> malignant or benign", "diagnosis", "binary",
                _breast_cancer),
    DatasetInfo("digits", "1797 handwritten digits as 8x8 pixels (pixel0..pixel63) -> digit 0-9", "digit",
                "multiclass", _digits),
    DatasetInfo("diabetes", "442 patients: age, sex, BMI, blood pressure, 6 blood values -> disease progression",
                "progression", "regression", _diabetes),
    DatasetInfo("moons", "two interleaving half circles in 2-D (x1, x2 -> label)", "label", "binary", _moons,
                dict(_COMMON, noise=0.2)),
    DatasetInfo("circles", "a small circle inside a big one in 2-D (x1, x2 -> label)", "label", "binary", _circles,
                dict(_COMMON, noise=0.05)),
    DatasetInfo("spiral", "interleaved spiral arms in 2-D (x1, x2 -> label; option arms, default 2)", "label",
                "binary", _spiral, dict(_COMMON, noise=0.03, arms=2)),
    DatasetInfo("xor", "four squares, opposite corners share a class: needs a hidden layer (x1, x2 -> label)", "label",
                "binary", _xor, dict(_COMMON)),
    DatasetInfo("blobs", "round clusters in 2-D, one class each (x1, x2 -> label; option centers, default 3)", "label",
                "multiclass", _blobs, dict(_COMMON, noise=1.0, centers=3)),
    DatasetInfo("sales", "daily sales of a shop over 3 years (date, sales, temperature, holiday): a seasonal time "
                "series to forecast with the sequence input (option days, default 1096)", "sales", "regression",
                _sales, {"seed": 0, "days": 1096}),
    DatasetInfo("transactions", "1500 card payments (amount, items, distance, hour, merchant), about 4% injected "
                "anomalies marked in is_anomaly: for the autoencoder task (option n_samples)", "is_anomaly", "binary",
                _transactions, {"seed": 0, "n_samples": 1500}),
    DatasetInfo("people", "adults with correlated age, height, weight and income and their sex: for the GAN "
                "task's synthetic rows (option n_samples)", "income", "regression", _people,
                {"seed": 0, "n_samples": 1000}),
    DatasetInfo("rentals", "flats to rent: neighbourhood (150 of them), size, rooms, floor -> monthly rent; "
                "choose embeddings for categorical columns to use the neighbourhood (option n_samples)", "rent",
                "regression", _rentals, {"seed": 0, "n_samples": 3000}),
    DatasetInfo("customers", "400 customers in a deliberately messy CSV (ids, gaps, dates, notes) -> churned yes/no",
                "churned", "binary", _customers),
]}


def list_datasets() -> list[DatasetInfo]:
    return list(DATASETS.values())


def load_dataset(name: str, **options) -> pd.DataFrame:
    """The dataset as a DataFrame; options (e.g. noise=0.3) may be given as numbers or text."""
    info = DATASETS.get(name)
    if info is None:
        raise DataError(f"unknown dataset {name!r}{did_you_mean(name, list(DATASETS))}; "
                        f"built-in datasets: {', '.join(DATASETS)}")
    return info.loader(**_options(info, options))


def load_sample(reference: str) -> pd.DataFrame:
    """'moons' or 'moons?noise=0.3&n_samples=1000' -> the dataset."""
    name, _, query = reference.partition("?")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise DataError(f"cannot read the options in 'sample:{reference}'; write them as "
                        "sample:NAME?option=value&option=value") from None
    return load_dataset(name.strip(), **dict(pairs))


def _options(info: DatasetInfo, given: dict) -> dict:
    unknown = [k for k in given if k not in info.options]
    if unknown:
        accepted = ", ".join(info.options) or "none"
        hint = did_you_mean(unknown[0], list(info.options))
        raise DataError(f"dataset '{info.name}' has no option {unknown[0]!r}{hint}; accepted options: {accepted}")
    values = dict(info.options)
    for key, raw in given.items():
        kind = type(info.options[key])
        try:
            value = kind(raw) if kind is float else _whole(raw)
        except (TypeError, ValueError):
            raise DataError(f"option {key} of dataset '{info.name}' must be a "
                            f"{'number' if kind is float else 'whole number'}; got {raw!r}") from None
        low, high = _LIMITS[key]
        if not low <= value <= high:
            raise DataError(f"option {key} of dataset '{info.name}' must be in [{low}, {high}]; got {value}")
        values[key] = value
    return values


def _whole(raw) -> int:
    value = float(raw)
    if value != int(value):
        raise ValueError(raw)
    return int(value)
