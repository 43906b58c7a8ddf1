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

from pydantic import Field, ValidationError, field_validator, model_validator

from .errors import SpecError
from .layers import LAYERS
from .layers.residual import ResidualSpec
from .optim import OPTIMIZERS, SCHEDULES
from .spec_errors import describe_errors, did_you_mean
from .spec_inputs import (  # noqa: F401  (re-exported: the input kinds are part of the spec)
    INPUT_KINDS, ImageInputSpec, InputSpec, SequenceInputSpec, StrictSpec, TabularInputSpec,
)
from .tasks import TASK_CHOICES

SPEC_VERSION = 1


_Strict = StrictSpec  # every section forbids unknown keys


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
        None, description="Column to predict. A list of numeric columns means multi-target regression. For the "
        "autoencoder task it is optional: a label (e.g. is_anomaly) that is never an input and only colours the "
        "latent space and scores the anomalies.",
    )
    task: str = Field(
        "auto",
        description="What to predict: 'auto' decides from the target (text, yes/no or few whole-number levels "
        "mean classification, other numbers regression, or a forecast for a time series with the sequence input). "
        "'autoencoder' learns to rebuild the input columns and scores each row's reconstruction error (anomalies). "
        "'gan' learns to generate new rows like the table's (every usable column, the target included).",
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
# A residual block holds layers of any type (itself included), so its model completes once the union exists.
ResidualSpec.model_rebuild(_types_namespace={"AnyLayerSpec": LayerSpec})


class AutoencoderSpec(_Strict):
    """The autoencoder task's network: `layers` is the encoder, then a linear latent layer, then the decoder.

    The decoder mirrors the encoder unless `mirror_decoder` is off; the output rebuilds every input feature.
    """

    latent_dim: int = Field(
        2, ge=1, le=1024,
        description="Neurons in the narrow middle (latent) layer every row is squeezed through. 2 lets the "
        "latent space be plotted directly; more keeps more detail (a plot then shows its 2-D projection).",
    )
    mirror_decoder: bool = Field(
        True,
        description="Build the decoder as the encoder's mirror image (its dense layers in reverse order, same units "
        "and activations). Turn it off to stack your own decoder layers.",
    )
    decoder: list[LayerSpec] = Field(
        default_factory=list,
        description="The decoder's hidden layers, first to last, when mirror_decoder is off (ignored otherwise).",
    )
    threshold_quantile: float = Field(
        0.95, gt=0.0, lt=1.0,
        description="Rows whose reconstruction error is above this quantile of the training rows' errors are "
        "flagged as anomalies (0.95: the worst 5% of training rows). The Evaluate page's slider changes it afterwards.",
        json_schema_extra={"ui": {"step": 0.01}},
    )

    @model_validator(mode="after")
    def _has_decoder(self):
        if not self.mirror_decoder and not self.decoder:
            raise ValueError("has mirror_decoder off but no decoder layers; add at least one decoder layer "
                             "(e.g. a dense layer), or turn mirror_decoder on")
        return self


class GanSpec(_Strict):
    """The GAN task's networks: `layers` is the generator (noise -> row), `discriminator` the critic (row -> logit)."""

    noise_dim: int = Field(16, ge=1, le=1024, description="Random numbers fed to the generator for each row it makes.")
    discriminator: list[LayerSpec] = Field(
        default_factory=lambda: [{"type": "dense", "units": 64, "activation": "leaky_relu"},
                                 {"type": "dropout", "rate": 0.1},
                                 {"type": "dense", "units": 32, "activation": "leaky_relu"}],
        validate_default=True, description="The discriminator's hidden layers, first to last: it learns to tell real rows from generated "
        "ones, and the generator learns to fool it.",
    )
    discriminator_lr_factor: float = Field(
        1.0, gt=0.0, le=100.0,
        description="The discriminator's learning rate as a multiple of training.learning_rate (below 1 slows a "
        "discriminator that wins too easily).",
    )


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
    autoencoder: AutoencoderSpec | None = Field(
        None,
        description="The autoencoder task's latent layer, decoder and anomaly threshold (layers are its encoder). "
        "Leave empty for the defaults; ignored by other tasks.",
    )

    gan: GanSpec | None = Field(
        None,
        description="The GAN task's noise size and discriminator (layers are its generator). Leave empty for the "
        "defaults; ignored by other tasks.",
    )

    @model_validator(mode="after")
    def _autoencoder_needs_a_table(self):
        if self.data.task in ("autoencoder", "gan") and self.input.kind != "tabular":
            raise ValueError(f"has task {self.data.task} with the {self.input.kind} input; the {self.data.task} "
                             "works on tables only for now: choose the tabular input, or another task")
        return self

    @property
    def gan_settings(self) -> GanSpec:
        """The GAN section, or its defaults when left out."""
        return self.gan or GanSpec()

    @property
    def autoencoder_settings(self) -> AutoencoderSpec:
        """The autoencoder section, or its defaults when left out."""
        return self.autoencoder or AutoencoderSpec()


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
