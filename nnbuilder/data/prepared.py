"""`PreparedData`: what `data.prepare` hands the compiler, the trainer and evaluation, for every input kind."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer

from nnbuilder.data.embedding import embedding_levels
from nnbuilder.data.features import Preprocessing
from nnbuilder.data.image import ImagePreprocessing
from nnbuilder.data.records import ColumnInfo, DataWarning
from nnbuilder.data.windows import SequencePreprocessing
from nnbuilder.errors import DataError


@dataclass
class PreparedData:
    task: str
    target: list[str]
    feature_columns: list[str]
    columns: list[ColumnInfo]
    classes: list | None
    feature_names: list[str]
    X_train: np.ndarray = field(repr=False)  # (rows, features) float32; images (rows, C, H, W); sequences (rows, T, F)
    X_val: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)  # (rows,) int64 class indices, or (rows, targets) float32 standardised
    y_val: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    target_mean: np.ndarray | None
    target_std: np.ndarray | None
    preprocessor: ColumnTransformer | None = field(repr=False)  # fitted on the train rows only; None for images
    raw_test: pd.DataFrame = field(repr=False)  # test rows as read: feature columns + target(s)
    warnings: list[DataWarning]
    n_rows: int  # rows with a target
    input_kind: str = "tabular"  # the spec's input kind: "tabular", "image" or "sequence"
    image: ImagePreprocessing | None = field(default=None, repr=False)  # pixel columns, (C, H, W), pixel_max
    sequence: SequencePreprocessing | None = field(default=None, repr=False)  # columns, window, horizon, scaling
    # Forecast only, per split: the naive last-value forecast (windows, targets) in original units, and the
    # time (or row number) of each window's target, for the forecast-vs-actual plot.
    baseline: dict[str, np.ndarray] | None = field(default=None, repr=False)
    target_times: dict[str, list] | None = field(default=None, repr=False)
    # Autoencoder only: the optional label column's raw values per split (object arrays, None where missing)
    # and the value that marks an anomaly (the rarer of two; None unless the label has exactly two values).
    labels: dict[str, np.ndarray] | None = field(default=None, repr=False)
    anomaly_class: object = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's shape: (features,) for tables, (C, H, W) for images, (T, F) for sequences."""
        return tuple(int(d) for d in self.X_train.shape[1:])

    @property
    def embedding_levels(self) -> list[int]:
        """Table sizes of the embedded category columns, whose codes end X; [] when nothing is embedded."""
        return embedding_levels(self.preprocessor)

    @property
    def n_outputs(self) -> int:
        """Outputs the network needs, read from the targets' shape: class codes (rows,) need one logit per class,
        or one for two classes; numbers (rows, k) need k: the targets, or every encoded feature when y is X."""
        if self.y_train.ndim == 1:
            return len(self.classes) if len(self.classes) > 2 else 1
        return int(self.y_train.shape[1])

    @property
    def preprocessing(self) -> Preprocessing | ImagePreprocessing | SequencePreprocessing:
        """Encodes new raw rows like the training rows (every kind has `transform(df)` and `state()`)."""
        if self.image is not None:
            return self.image
        if self.sequence is not None:
            return self.sequence
        return Preprocessing(self.preprocessor, list(self.feature_columns), list(self.columns))

    def evaluation_extras(self, split: str) -> dict:
        """Keyword arguments `evaluate` needs beyond X and y: the forecast baseline and times, if any."""
        if self.baseline is None:
            return {}
        return {"baseline": self.baseline[split], "times": (self.target_times or {}).get(split)}

    def untransform_target(self, y_std: np.ndarray) -> np.ndarray:
        """Standardised regression outputs -> original units (same shape as given)."""
        if self.target_mean is None:
            raise DataError(f"only regression targets are standardised; this task is {self.task}")
        return np.asarray(y_std, dtype=np.float64) * self.target_std + self.target_mean
