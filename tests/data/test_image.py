"""Image input: pixel columns -> (rows, C, H, W) in [0, 1], size inference, scaling fitted on train rows only."""

import numpy as np
import pandas as pd
import pytest

from nnbuilder.data.pipeline import detect_input_kind, load_table, prepare
from nnbuilder.data.image import image_shape
from nnbuilder.errors import DataError
from nnbuilder.spec.network import parse_spec


def pixel_frame(n_pixels: int, rows: int = 60, prefix: str = "pixel", high: int = 255, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.integers(0, high + 1, (rows, n_pixels)), columns=[f"{prefix}{i}" for i in range(n_pixels)])
    frame["label"] = np.arange(rows) % 3
    return frame


def prepared(df, target="label", **image):
    spec = parse_spec({"data": {"target": target}, "input": {"kind": "image", **image}})
    return prepare(df, spec.data, seed=0, input=spec.input)


@pytest.mark.parametrize("n, given, expected", [
    (64, {}, (1, 8, 8)),
    (784, {}, (1, 28, 28)),
    (3 * 32 * 32, {}, (3, 32, 32)),
    (48, {}, (3, 4, 4)),
    (60, {"height": 6, "width": 10}, (1, 6, 10)),
    (180, {"height": 6, "width": 10}, (3, 6, 10)),
    (60, {"height": 5}, (1, 5, 12)),
    (60, {"width": 5}, (1, 12, 5)),
    (75, {"channels": 3}, (3, 5, 5)),
    (36, {"channels": 1}, (1, 6, 6)),
])
def test_image_size_is_inferred_from_the_column_count(n, given, expected):
    assert image_shape(n, given.get("channels"), given.get("height"), given.get("width")) == expected


@pytest.mark.parametrize("n, given, message", [
    (50, {}, "cannot tell the image size from 50 pixel columns: without height and width the count must be a square"),
    (50, {}, "set input.height and input.width"),
    (64, {"height": 6, "width": 6}, "64 pixel columns do not make whole channel(s) of 6x6 images"),
    (128, {"height": 8, "width": 8}, "only 1 (greyscale) or 3 (RGB) channels work"),
])
def test_impossible_sizes_say_what_works(n, given, message):
    with pytest.raises(DataError) as info:
        image_shape(n, given.get("channels"), given.get("height"), given.get("width"))
    assert message in str(info.value)


def test_digits_become_scaled_8x8_images():
    df, _ = load_table("sample:digits")
    p = prepared(df, target="digit")
    assert p.input_kind == "image" and p.input_shape == (1, 8, 8)
    assert p.X_train.shape[1:] == (1, 8, 8) and p.X_train.dtype == np.float32
    assert p.image.pixel_max == 16.0 and p.X_train.max() == 1.0 and p.X_train.min() == 0.0
    assert len(p.feature_columns) == 64 and p.feature_columns[0] == "pixel0"
    # the always-black corner stays an input: it is part of the image
    assert {c.role for c in p.columns if c.name.startswith("pixel")} == {"numeric"}
    np.testing.assert_array_equal(p.preprocessing.transform(p.raw_test), p.X_test)
    # stratified like tabular data: every class in every split
    assert all(len(np.unique(y)) == 10 for y in (p.y_train, p.y_val, p.y_test))


def test_scaling_is_fitted_on_train_rows_only():
    df = pixel_frame(16, rows=100, high=99)
    df["pixel15"] = np.arange(100)  # a row id, to find the test rows again
    base = prepared(df)
    bright = df.copy()
    bright.loc[base.raw_test["pixel15"].to_numpy(), "pixel0"] = 1000  # only the test rows get brighter
    again = prepared(bright)
    assert again.image.pixel_max == base.image.pixel_max <= 99
    assert again.X_train.max() <= 1.0 and again.X_test.max() > 1.0


def test_given_pixel_max_and_pixel_columns_are_used():
    df = pixel_frame(16, high=100)
    df["extra"] = 1.5
    p = prepared(df, pixel_max=255, pixel_columns=[f"pixel{i}" for i in range(16)])
    assert p.image.pixel_max == 255 and p.input_shape == (1, 4, 4) and "extra" not in p.feature_columns
    assert p.X_train.max() <= 100 / 255 + 1e-6


def test_rgb_columns_are_channel_first():
    rows = 30
    values = np.tile(np.concatenate([np.full(4, 10), np.full(4, 20), np.full(4, 30)]), (rows, 1))
    df = pd.DataFrame(values, columns=[f"p{i}" for i in range(12)])
    df["label"] = np.arange(rows) % 2
    p = prepared(df, pixel_max=30)
    assert p.input_shape == (3, 2, 2)
    np.testing.assert_allclose(p.X_train[0, :, 0, 0], [1 / 3, 2 / 3, 1.0], rtol=1e-6)


def test_missing_pixel_columns_are_named_at_predict_time():
    p = prepared(pixel_frame(16))
    with pytest.raises(DataError, match="lacks 1 pixel column.*'pixel3'"):
        p.preprocessing.transform(pixel_frame(16).drop(columns=["pixel3"]))
    assert p.preprocessing.transform(pixel_frame(16, rows=5)).shape == (5, 1, 4, 4)


@pytest.mark.parametrize("change, message", [
    (lambda df: df.assign(pixel2=np.nan), "pixel column 'pixel2' has a missing or infinite value in row 1"),
    (lambda df: df.assign(pixel2="dark"), "pixel column 'pixel2' must hold numbers; got"),
    (lambda df: df.drop(columns=["pixel0"]), "cannot tell the image size from 15 pixel columns"),
])
def test_bad_pixel_tables_are_explained(change, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(")):
        df = change(pixel_frame(16))
        prepared(df, pixel_columns=[c for c in df.columns if c != "label"] if "numbers" in message else None)


def test_unknown_pixel_columns_are_named():
    with pytest.raises(DataError, match="input.pixel_columns names 1 column.*'nope'"):
        prepared(pixel_frame(16), pixel_columns=["pixel0", "nope"])


def test_input_kind_detection():
    digits, _ = load_table("sample:digits")
    assert detect_input_kind(digits, "digit") == "image"
    assert detect_input_kind(pixel_frame(784, rows=5, prefix="px_"), "label") == "image"
    assert detect_input_kind(pixel_frame(48, rows=5), "label") == "image"  # 3 x 4 x 4
    assert detect_input_kind(pixel_frame(15, rows=5), "label") == "tabular"  # too few for an image
    assert detect_input_kind(pixel_frame(20, rows=5), "label") == "tabular"  # not a square
    for name in ("iris", "customers", "diabetes", "wine"):
        df, _ = load_table(f"sample:{name}")
        assert detect_input_kind(df, None) == "tabular", name


def test_tabular_input_is_unchanged_by_default(class_frame):
    spec = parse_spec({"data": {"target": "label"}})
    plain, explicit = prepare(class_frame, spec.data), prepare(class_frame, spec.data, input=spec.input)
    assert plain.input_kind == explicit.input_kind == "tabular" and plain.image is None
    np.testing.assert_array_equal(plain.X_train, explicit.X_train)
    assert plain.input_shape == (plain.X_train.shape[1],)
