"""The spec's `input` section: how each row becomes the network's input (tabular, image, sequence).

Kept apart from `spec.py` so each input kind's settings, help texts and checks read in one place;
`prepare` in `nnbuilder.data.pipeline` dispatches on the same `kind` names.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class StrictSpec(BaseModel):
    """Base of every spec section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class TabularInputSpec(StrictSpec):
    """Rows of columns. Other input kinds join this union by `kind`."""

    kind: Literal["tabular"] = Field(
        "tabular",
        description="tabular: each row's columns become one flat list of numbers (numbers scaled, dates split into "
        "parts, categories encoded), the usual input for a table.",
    )
    categorical: Literal["one_hot", "embedding"] = Field(
        "one_hot",
        description="How text categories (a colour, a city, a plan) become numbers. one_hot is simple and exact for a "
        "few categories; embedding keeps columns with hundreds of categories small and lets similar categories "
        "end up close together.",
        json_schema_extra={"ui": {"notes": {
            "one_hot": "one 0/1 input per category: simple, but a column with thousands of values makes thousands "
                       "of inputs",
            "embedding": "a small learned vector per category for columns with at least embedding_min_levels "
                         "values; the other columns stay one-hot",
        }}},
    )
    embedding_min_levels: int = Field(
        10, ge=2, le=10_000,
        description="With embedding: a text column with at least this many distinct values is embedded; columns with "
        "fewer stay one-hot. Lower embeds more columns (fewer inputs, but small ones gain little); higher keeps "
        "more one-hot (simple, but wide).",
    )
    embedding_dim: int | None = Field(
        None, ge=1, le=256,
        description="With embedding: the length of each category's learned vector. Larger holds more about each "
        "category but overfits rare ones; smaller is compact but can blur categories together. Leave empty for a "
        "size that grows with the categories (at most 16).",
    )


class ImageInputSpec(StrictSpec):
    """One image per row, stored as pixel columns (channel first: all of channel 0 row by row, then channel 1 ...)."""

    kind: Literal["image"] = Field(
        "image",
        description="image: each row holds one picture's pixels, which the network reads as channels × height × "
        "width, so convolution layers can find local patterns.",
    )
    channels: int | None = Field(
        None, ge=1, le=3,
        description="Colour channels: 1 for greyscale, 3 for RGB. Leave empty to infer it from the number of pixel columns.",
    )
    height: int | None = Field(
        None, ge=1, le=4096,
        description="Image height in pixels. Leave empty to infer it from the number of pixel columns (a square image "
        "is assumed).",
    )
    width: int | None = Field(
        None, ge=1, le=4096,
        description="Image width in pixels. Leave empty to infer it from the number of pixel columns (a square image "
        "is assumed).",
    )
    pixel_columns: list[str] | None = Field(
        None,
        description="The pixel columns, in order. Leave empty to use every numeric column except the target, in table order.",
    )
    pixel_max: float | None = Field(
        None, gt=0.0,
        description="The brightest possible pixel value; pixels are divided by it to lie in [0, 1], the range networks "
        "learn best from. Leave empty to take the largest value in the training rows (16 for sklearn digits, 255 "
        "for most images).",
    )

    @field_validator("channels")
    @classmethod
    def _one_or_three(cls, value: int | None) -> int | None:
        if value is not None and value not in (1, 3):
            raise ValueError(f"must be 1 (greyscale) or 3 (RGB); got {value}")
        return value


class SequenceInputSpec(StrictSpec):
    """Sequences: sliding windows over a time series table, or one sequence per row in ordered columns.

    time_series: rows are time steps (ordered by `time_column`, within each `group_column` value); each
    window of `window` consecutive steps predicts the target `horizon` steps after its last step
    (forecast), or the class of its last step (classification). The target is always one of the
    per-step features when forecasting (its past is the main input) and never one when classifying.
    Every group is split chronologically at the same shares; windows never cross a group or a split.
    rows: each row is one sequence, its `value_columns` read in order as steps × features.
    """

    kind: Literal["sequence"] = Field(
        "sequence",
        description="sequence: each example is a series of time steps read in order (a window of a time series, or "
        "one row's ordered columns), for recurrent, conv1d and transformer layers.",
    )
    layout: Literal["time_series", "rows"] = Field(
        "time_series",
        description="How the table holds the sequences: one long series spread over many rows (time_series), or one "
        "whole sequence in each row's ordered columns (rows).",
        json_schema_extra={"ui": {"choices": ["time_series", "rows"], "notes": {
            "time_series": "each row is one time step of a long series, cut into sliding windows",
            "rows": "each row is a whole sequence stored in ordered columns (t0, t1, ...)",
        }}},
    )
    time_column: str | None = Field(
        None, description="time_series only: the column that orders the rows (dates or numbers). "
        "Leave empty to keep the table's row order.",
    )
    value_columns: list[str] = Field(
        default_factory=list,
        description="The per-step input columns, in order. Leave empty for every numeric column except the "
        "time and group columns (and, when classifying, the target). When forecasting the target is always one of them.",
    )
    group_column: str | None = Field(
        None, description="time_series only: a column naming separate series (e.g. one per store); "
        "windows never mix two series.",
    )
    window: int = Field(
        24, ge=2, le=10_000,
        description="time_series only: time steps each window shows the network; cover one season (7 for a weekly "
        "pattern in daily data, 24 for a daily one in hourly data). Too short misses the pattern; longer gives "
        "fewer windows and slower training.",
    )
    horizon: int = Field(
        1, ge=1, le=10_000,
        description="time_series forecasting only: how many steps after the window's last step the predicted "
        "value lies (1 = the next step). This is the question you ask, not a knob: further ahead is harder.",
    )
    steps: int | None = Field(
        None, ge=1, le=100_000,
        description="rows only: time steps per sequence. Leave empty for one feature per step (every ordered "
        "column is one step); otherwise the columns are read step by step, features within each step.",
    )

    @model_validator(mode="after")
    def _fits_layout(self):
        if self.layout == "rows":
            for name in ("time_column", "group_column"):
                if getattr(self, name) is not None:
                    raise ValueError(f"has {name} {getattr(self, name)!r}, which applies only to the time_series "
                                     "layout (layout is rows): clear it, or choose layout time_series")
        elif self.steps is not None:
            raise ValueError(f"has steps {self.steps}, which applies only to the rows layout (layout is time_series): "
                             "clear it (the window sets the steps)")
        named = [c for c in (self.time_column, self.group_column) if c is not None]
        if len(named) == 2 and named[0] == named[1]:
            raise ValueError(f"has time_column and group_column both {named[0]!r}; they must be different columns")
        clash = [c for c in self.value_columns if c in named]
        if clash:
            raise ValueError(f"has {clash[0]!r} in value_columns, but it is the time or group column; remove it there")
        return self


INPUT_KINDS = {"tabular": TabularInputSpec, "image": ImageInputSpec, "sequence": SequenceInputSpec}
InputSpec = Annotated[Union[tuple(INPUT_KINDS.values())], Field(discriminator="kind")]
