"""Image input: each row is one image stored as pixel columns.

Column order is channel first, then row by row: for an RGB 2x2 image the
columns are R(0,0) R(0,1) R(1,0) R(1,1) G(0,0) ... B(1,1), which is what
`array.reshape(rows, -1)` of a (rows, C, H, W) array gives (and what
scikit-learn's digits and most "pixel0..pixelN" CSVs use for greyscale).
When channels/height/width are left out they are inferred from the number of
pixel columns: n = s*s is one greyscale s x s image, n = 3*s*s an RGB one.
Pixels are divided by `pixel_max` (the largest training pixel unless given),
so they lie in [0, 1]; the same number scales new rows at predict time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nnbuilder.errors import DataError

MIN_IMAGE_COLUMNS = 16  # fewer pixel-like columns than a 4x4 image reads as an ordinary table
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


@dataclass(frozen=True)
class ImagePreprocessing:
    """Everything needed to turn new pixel rows into (rows, C, H, W) float32: plain JSON state, no fitted object."""

    pixel_columns: tuple[str, ...] = field(repr=False)
    image_shape: tuple[int, int, int]  # (channels, height, width)
    pixel_max: float

    kind = "image"

    @property
    def feature_columns(self) -> list[str]:
        return list(self.pixel_columns)

    @property
    def feature_names(self) -> list[str]:
        return list(self.pixel_columns)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Raw pixel rows -> (rows, C, H, W) float32 in [0, 1] (brighter than `pixel_max` stays above 1)."""
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        missing = [c for c in self.pixel_columns if c not in df.columns]
        if missing:
            listed = ", ".join(f"'{c}'" for c in missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise DataError(f"the data lacks {len(missing)} pixel column(s) the model needs: {listed}; the model reads "
                            f"{len(self.pixel_columns)} pixel columns from '{self.pixel_columns[0]}' to "
                            f"'{self.pixel_columns[-1]}'", column=missing[0])
        pixels = pixel_matrix(df, list(self.pixel_columns))  # (rows, pixels)
        return (pixels / self.pixel_max).astype(np.float32).reshape(len(df), *self.image_shape)

    def state(self) -> dict:
        return {"kind": "image", "pixel_columns": list(self.pixel_columns), "image_shape": list(self.image_shape),
                "pixel_max": float(self.pixel_max)}

    @classmethod
    def from_state(cls, state: dict) -> "ImagePreprocessing":
        return cls(tuple(state["pixel_columns"]), tuple(int(d) for d in state["image_shape"]), float(state["pixel_max"]))


def pixel_columns(df: pd.DataFrame, targets: list[str], given: list[str] | None, drops: list[str]) -> list[str]:
    """The pixel columns: as given, or every numeric column that is not a target or dropped, in table order."""
    if given:
        absent = [c for c in given if c not in df.columns]
        if absent:
            raise DataError(f"input.pixel_columns names {len(absent)} column(s) not in the data: "
                            f"{', '.join(repr(c) for c in absent[:10])}", column=absent[0])
        clash = [c for c in given if c in targets]
        if clash:
            raise DataError(f"'{clash[0]}' is the target, so it cannot also be a pixel column", column=clash[0])
        return list(given)
    columns = [str(c) for c in df.columns
               if c not in targets and c not in drops and pd.api.types.is_numeric_dtype(df[c])
               and not pd.api.types.is_bool_dtype(df[c])]
    if not columns:
        raise DataError("the image input needs numeric pixel columns, but the table has none besides the target; "
                        "choose the tabular input on the Data page")
    return columns


def image_shape(n_pixels: int, channels: int | None, height: int | None, width: int | None) -> tuple[int, int, int]:
    """(C, H, W) from the number of pixel columns and whatever the spec fixes."""
    if height and width:
        c = channels or (n_pixels // (height * width) if n_pixels % (height * width) == 0 else 0)
        if c * height * width != n_pixels:
            raise DataError(f"{n_pixels} pixel columns do not make {channels or 'whole'} channel(s) of {height}x{width} "
                            f"images ({height * width} pixels each); fix input.channels/height/width or the pixel columns")
        if c not in (1, 3):
            raise DataError(f"{n_pixels} pixel columns are {c} channels of {height}x{width}; only 1 (greyscale) or 3 "
                            "(RGB) channels work: fix input.height/width")
        return (c, height, width)
    for c in ([channels] if channels else [1, 3]):
        side = height or width
        if side:  # one side given: the other follows
            other, rest = divmod(n_pixels, c * side)
            if rest == 0 and other >= 1:
                return (c, side, other) if height else (c, other, side)
            continue
        s = math.isqrt(n_pixels // c) if n_pixels % c == 0 else 0
        if s >= 1 and c * s * s == n_pixels:
            return (c, s, s)
    raise DataError(f"cannot tell the image size from {n_pixels} pixel columns: without height and width the count "
                    "must be a square (e.g. 64 = 8x8, 784 = 28x28 greyscale) or 3 times a square (e.g. 3072 = 3x32x32 "
                    "RGB); set input.height and input.width (and channels) on the Data page")


def pixel_matrix(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """(rows, pixels) float64; a missing or non-numeric pixel is an error naming the column."""
    frame = df[columns]
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(f"pixel column '{bad[0]}' must hold numbers; got {frame[bad[0]].dtype} values", column=bad[0])
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    broken = ~np.isfinite(values)
    if broken.any():
        row, col = np.argwhere(broken)[0]
        raise DataError(f"pixel column '{columns[col]}' has a missing or infinite value in row {row + 1}; "
                        "fill or drop such rows", column=columns[col])
    return values


def fit_image_preprocessing(df: pd.DataFrame, columns: list[str], spec, train_rows: np.ndarray) -> ImagePreprocessing:
    """Shape from the column count and the spec; pixel_max from the TRAIN rows only (unless the spec fixes it)."""
    shape = image_shape(len(columns), spec.channels, spec.height, spec.width)
    pixel_max = spec.pixel_max
    if pixel_max is None:
        train = pixel_matrix(df.iloc[train_rows], columns)
        pixel_max = float(train.max()) if train.size else 1.0
        if pixel_max <= 0:
            pixel_max = 1.0  # an all-black training set: nothing to scale
    return ImagePreprocessing(tuple(columns), shape, float(pixel_max))


def detect_input_kind(df: pd.DataFrame, target: str | list[str] | None) -> str:
    """"image" when the table looks like pixel rows, otherwise "tabular"; for the Data page's default choice.

    Pixel rows: at least 16 numeric columns named by one prefix and a running number
    (pixel0..pixel63, px_1..px_784), in a count that is a square or 3 times a square.
    """
    targets = [] if target is None else [target] if isinstance(target, str) else list(target)
    numbered: dict[str, list[int]] = {}
    for name in df.columns:
        if name in targets or not pd.api.types.is_numeric_dtype(df[name]):
            continue
        match = _NUMBERED.match(str(name))
        if match:
            numbered.setdefault(match.group(1), []).append(int(match.group(2)))
    for numbers in numbered.values():
        n = len(numbers)
        if n < MIN_IMAGE_COLUMNS or sorted(numbers) != list(range(min(numbers), min(numbers) + n)):
            continue
        try:
            image_shape(n, None, None, None)
        except DataError:
            continue
        return "image"
    return "tabular"
