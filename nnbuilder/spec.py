"""NetworkSpec: the one contract between the UI, the CLI and the engine.

A spec is plain JSON. The app keeps it in session state, the CLI reads it from
a file, tests build it from dicts. Every field carries its help text
(`description`) and its UI hints (`json_schema_extra["ui"]`) so front ends
generate widgets from it instead of repeating ranges and choices.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import SpecError
from .layers import LAYERS
from .optim import OPTIMIZERS, SCHEDULES
from .spec_errors import describe_errors, did_you_mean
from .tasks import TASK_CHOICES

SPEC_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitSpec(_Strict):
    train: float = Field(0.7, gt=0.0, lt=1.0, description="Share of rows the network learns from.")
    val: float = Field(
        0.15, ge=0.0, lt=1.0,
        description="Share of rows held out to watch for overfitting and to pick the best epoch (early stopping).",
    )
    test: float = Field(0.15, ge=0.0, lt=1.0, description="Share of rows kept untouched until the final evaluation.")

    @model_validator(mode="after")
    def _adds_up(self):
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"must add up to 1; got {total:g} (train {self.train:g} + val {self.val:g} + test {self.test:g}): "
                "adjust one of them"
            )
        return self


class DataSpec(_Strict):
    target: str | list[str] | None = Field(
        None, description="Column to predict. A list of numeric columns means multi-target regression.",
    )
    task: str = Field(
        "auto",
        description="What to predict: 'auto' decides from the target (text, yes/no or few whole-number levels "
        "mean classification, other numbers regression, or a forecast for a time series with the sequence input).",
        json_schema_extra={"ui": {"choices": list(TASK_CHOICES)}},
    )
    drop_columns: list[str] = Field(default_factory=list, description="Columns the network must not see.")
    split: SplitSpec = Field(default_factory=SplitSpec, description="How rows are divided into train, validation and test.")

    @field_validator("task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        if value not in TASK_CHOICES:
            return _one_of(value, TASK_CHOICES)
        return value


class TabularInputSpec(_Strict):
    """Rows of columns. Other input kinds join this union by `kind`."""

    kind: Literal["tabular"] = Field("tabular", description="How each row becomes the network's input.")


class ImageInputSpec(_Strict):
    """One image per row, stored as pixel columns (channel first: all of channel 0 row by row, then channel 1 ...)."""

    kind: Literal["image"] = Field("image", description="How each row becomes the network's input.")
    channels: int | None = Field(
        None, ge=1, le=3,
        description="Colour channels: 1 for greyscale, 3 for RGB. Leave empty to infer it from the number of pixel columns.",
    )
    height: int | None = Field(
        None, ge=1, le=4096,
        description="Image height in pixels. Leave empty to infer it (a square image is assumed).",
    )
    width: int | None = Field(
        None, ge=1, le=4096,
        description="Image width in pixels. Leave empty to infer it (a square image is assumed).",
    )
    pixel_columns: list[str] | None = Field(
        None,
        description="The pixel columns, in order. Leave empty to use every numeric column except the target, in table order.",
    )
    pixel_max: float | None = Field(
        None, gt=0.0,
        description="The brightest possible pixel value; pixels are divided by it to lie in [0, 1]. "
        "Leave empty to take the largest value in the training rows (e.g. 16 for sklearn digits, 255 for most images).",
    )

    @field_validator("channels")
    @classmethod
    def _one_or_three(cls, value: int | None) -> int | None:
        if value is not None and value not in (1, 3):
            raise ValueError(f"must be 1 (greyscale) or 3 (RGB); got {value}")
        return value


class SequenceInputSpec(_Strict):
    """Sequences: sliding windows over a time series table, or one sequence per row in ordered columns.

    time_series: rows are time steps (ordered by `time_column`, within each `group_column` value); each
    window of `window` consecutive steps predicts the target `horizon` steps after its last step
    (forecast), or the class of its last step (classification). The target is always one of the
    per-step features when forecasting (its past is the main input) and never one when classifying.
    Every group is split chronologically at the same shares; windows never cross a group or a split.
    rows: each row is one sequence, its `value_columns` read in order as steps × features.
    """

    kind: Literal["sequence"] = Field("sequence", description="How each row becomes the network's input.")
    layout: Literal["time_series", "rows"] = Field(
        "time_series",
        description="time_series: each row is one time step of a long series, cut into sliding windows. "
        "rows: each row is a whole sequence stored in ordered columns (t0, t1, ...).",
        json_schema_extra={"ui": {"choices": ["time_series", "rows"]}},
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
        description="time_series only: time steps each window shows the network. Long enough to cover one "
        "season (7 for a weekly pattern in daily data, 24 for a daily one in hourly data).",
    )
    horizon: int = Field(
        1, ge=1, le=10_000,
        description="time_series forecasting only: how many steps after the window's last step the predicted "
        "value lies (1 = the next step).",
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


class TrainingSpec(_Strict):
    optimizer: str = Field(
        "adam", description="How the weights are updated from the gradients.",
        json_schema_extra={"ui": {"choices": list(OPTIMIZERS)}},
    )
    learning_rate: float = Field(
        0.001, gt=0.0, le=10.0,
        description="Step size of each update. Too high and the loss jumps around or explodes; too low and it crawls.",
        json_schema_extra={"ui": {"log": True}},
    )
    batch_size: int = Field(
        32, ge=1, le=65536,
        description="Rows per update. Small batches are noisy but often generalise better; large ones are faster per epoch.",
    )
    epochs: int = Field(100, ge=1, le=100000, description="Passes over the training rows.")
    weight_decay: float = Field(
        0.0, ge=0.0, le=1.0,
        description="L2 penalty pulling weights towards zero; fights overfitting, too much underfits.",
        json_schema_extra={"ui": {"step": 0.0001}},
    )
    l1: float = Field(
        0.0, ge=0.0, le=1.0,
        description="L1 penalty on weights; pushes unhelpful weights to exactly zero.",
        json_schema_extra={"ui": {"step": 0.0001}},
    )
    momentum: float = Field(0.9, ge=0.0, lt=1.0, description="For sgd and rmsprop: how much of the last step carries over.")
    early_stopping_patience: int = Field(
        10, ge=0, le=100000,
        description="Stop after this many epochs without a better validation loss and keep the best weights; 0 turns it off.",
    )
    lr_schedule: str = Field(
        "none", description="How the learning rate changes over the epochs.",
        json_schema_extra={"ui": {"choices": list(SCHEDULES)}},
    )
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Fixes the random start so a run can be repeated exactly.")

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        return _one_of(value, OPTIMIZERS)

    @field_validator("lr_schedule")
    @classmethod
    def _known_schedule(cls, value: str) -> str:
        return _one_of(value, SCHEDULES)


def _one_of(value: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}; got {value!r}{did_you_mean(value, list(choices))}")
    return value


LayerSpec = Annotated[Union[tuple(t.spec for t in LAYERS.values())], Field(discriminator="type")]


class NetworkSpec(_Strict):
    version: Literal[1] = Field(SPEC_VERSION, description="Spec format version.")
    data: DataSpec = Field(default_factory=DataSpec, description="Which data to learn from and how to split it.")
    input: InputSpec = Field(default_factory=TabularInputSpec, description="How rows become the network's input.")
    layers: list[LayerSpec] = Field(
        default_factory=list,
        description="Hidden layers, first to last. Input and output layers follow from the data. "
        "An empty list is a linear/logistic model (a perceptron).",
    )
    training: TrainingSpec = Field(default_factory=TrainingSpec, description="Optimiser and training-loop settings.")


def parse_spec(data: dict[str, Any]) -> NetworkSpec:
    """Validate a spec dict, reporting every problem at once as a `SpecError`."""
    if not isinstance(data, dict):
        raise SpecError([f"the spec must be a JSON object; got {type(data).__name__}"])
    try:
        return NetworkSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(describe_errors(exc, NetworkSpec)) from None


def load_spec(path: str | Path) -> NetworkSpec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([f"spec file {path} does not exist; check the path"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([f"spec file {path} cannot be read as text ({exc.__class__.__name__})"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError([f"spec file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]) from None
    return parse_spec(data)


def spec_to_json(spec: NetworkSpec) -> str:
    return spec.model_dump_json(indent=2)


def default_spec(target: str | None = None) -> NetworkSpec:
    """A sensible starting network: two hidden layers with a little dropout."""
    return parse_spec({
        "data": {"target": target},
        "layers": [
            {"type": "dense", "units": 64, "activation": "relu"},
            {"type": "dropout", "rate": 0.1},
            {"type": "dense", "units": 32, "activation": "relu"},
        ],
    })
