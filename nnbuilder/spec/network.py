"""NetworkSpec: the one contract between the UI, the CLI and the engine.

A spec is plain JSON. The app keeps it in session state, the CLI reads it from
a file, tests build it from dicts. Every field carries its help text
(`description`) and its UI hints (`json_schema_extra["ui"]`) so front ends
generate widgets from it instead of repeating ranges and choices.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from nnbuilder.errors import SpecError
from nnbuilder.spec.optimizers import OPTIMIZER_HELP, SCHEDULE_HELP
from nnbuilder.spec.messages import describe_errors, did_you_mean
from nnbuilder.spec.layers import LayerSpec  # noqa: F401  (re-exported)
from nnbuilder.spec.task_sections import AutoencoderSpec, GanSpec  # noqa: F401  (re-exported)
from nnbuilder.spec.inputs import (  # noqa: F401  (re-exported: the input kinds are part of the spec)
    INPUT_KINDS, ImageInputSpec, InputSpec, SequenceInputSpec, StrictSpec, TabularInputSpec,
)
from nnbuilder.spec.task_names import TASK_CHOICES, TASK_NOTES, refused_input

SPEC_VERSION = 1


_Strict = StrictSpec  # every section forbids unknown keys


class SplitSpec(_Strict):
    train: float = Field(
        0.7, gt=0.0, lt=1.0,
        description="Share of rows the network learns from (0.7 = 70%). More training rows usually give a better "
        "model; too few and it cannot learn the pattern, but too many leave too few rows to check it on.",
        json_schema_extra={"ui": {"step": 0.05}},
    )
    val: float = Field(
        0.15, ge=0.0, lt=1.0,
        description="Share of rows held out to watch for overfitting and to pick the best epoch (early stopping). "
        "Too small and the validation loss is noisy, so a lucky epoch wins; larger costs training rows. 0: the "
        "training loss picks the epoch instead.",
        json_schema_extra={"ui": {"step": 0.05}},
    )
    test: float = Field(
        0.15, ge=0.0, lt=1.0,
        description="Share of rows kept untouched until the final evaluation: an honest score on rows the network "
        "never saw. Too small and the score is luck (a handful of rows); larger gives a surer score but fewer rows "
        "to learn from.",
        json_schema_extra={"ui": {"step": 0.05}},
    )

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
        None,
        description="Column to predict (the answer the network learns). A list of numeric columns means "
        "multi-target regression. Optional for the autoencoder task: a label (e.g. is_anomaly) that is never an "
        "input and only colours the latent space and scores the anomalies.",
    )
    task: str = Field(
        "auto",
        description="What kind of answer to learn. 'auto' reads the target: text, yes/no or a few whole-number levels "
        "mean classification, other numbers regression, a time series with the sequence input a forecast. Choose "
        "yourself when auto guesses wrong, or to find anomalies or make synthetic rows.",
        # the registry's own list and dict (nnbuilder.spec.task_names): a task registered later is listed too
        json_schema_extra={"ui": {"choices": TASK_CHOICES, "notes": TASK_NOTES}},
    )
    drop_columns: list[str] = Field(
        default_factory=list,
        description="Columns the network must not see: identifiers, and anything known only after the answer (it "
        "leaks the answer, so the score looks great and real use fails). Drop too few and it memorises or cheats; "
        "too many and it loses useful clues.",
    )
    split: SplitSpec = Field(
        default_factory=SplitSpec,
        description="How rows are divided: the network learns from train, validation watches for overfitting while "
        "it trains, and test gives the final honest score. The three shares add up to 1.",
    )

    @field_validator("task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        if value not in TASK_CHOICES:
            return _one_of(value, TASK_CHOICES)
        return value




class TrainingSpec(_Strict):
    optimizer: str = Field(
        "adam",
        description="The rule that turns gradients (which way each weight should move to lower the loss) into "
        "weight updates. adam works well with little tuning; sgd needs a carefully chosen learning rate and "
        "momentum but can generalise a little better.",
        json_schema_extra={"ui": {"choices": list(OPTIMIZER_HELP)}},
    )
    learning_rate: float = Field(
        0.001, gt=0.0, le=10.0,
        description="Size of each weight update. Too high: the loss jumps around or explodes (NaN); too low: it crawls "
        "and stalls before the model is good. Start near 0.001 for adam or 0.01-0.1 for sgd and change it by "
        "factors of 3 to 10.",
        json_schema_extra={"ui": {"log": True}},
    )
    batch_size: int = Field(
        32, ge=1, le=65536,
        description="Rows averaged for each weight update. Smaller batches give more, noisier updates: often better "
        "generalisation but slower epochs. Larger ones give smooth, fast epochs but fewer updates, and may need "
        "a higher learning rate. 32-256 is typical.",
    )
    epochs: int = Field(
        100, ge=1, le=100000,
        description="Passes over all the training rows. Too few and the network underfits (the loss is still "
        "falling when training stops); too many wastes time and overfits, unless early stopping halts the run and "
        "keeps the best epoch.",
    )
    weight_decay: float = Field(
        0.0, ge=0.0, le=1.0,
        description="L2 penalty pulling every weight towards zero; fights overfitting (validation loss rising while "
        "the training loss falls). Too much and the network underfits (both losses stay high); too little does "
        "nothing. Try 1e-4 to 1e-2.",
        json_schema_extra={"ui": {"step": 0.0001}},
    )
    l1: float = Field(
        0.0, ge=0.0, le=1.0,
        description="L1 penalty on the weights: pushes unhelpful weights to exactly zero, so the network ignores "
        "useless inputs. Fights overfitting like weight decay; too high and most weights die (underfitting), too "
        "low has no effect. Try 1e-5 to 1e-3.",
        json_schema_extra={"ui": {"step": 0.0001}},
    )
    momentum: float = Field(
        0.9, ge=0.0, lt=1.0,
        description="For sgd and rmsprop: the share of the previous step carried into the next, like a ball "
        "rolling downhill. Higher (0.9-0.99) speeds through flat stretches but can overshoot and oscillate; lower "
        "(0) follows each batch alone and is slower.",
    )
    early_stopping_patience: int = Field(
        10, ge=0, le=100000,
        description="Stop after this many epochs without a better validation loss (a GAN: without its discriminator "
        "nearing 50% validation accuracy); the best weights are kept (a GAN keeps its last). Too low stops in a "
        "plateau (underfitting); too high wastes epochs while the network overfits. 0 turns it off.",
    )
    lr_schedule: str = Field(
        "none",
        description="How the learning rate changes over the epochs. A high rate early moves fast; a lower one later "
        "settles into a good minimum instead of bouncing around it.",
        json_schema_extra={"ui": {"choices": list(SCHEDULE_HELP)}},
    )
    seed: int = Field(
        0, ge=0, le=2**31 - 1,
        description="Fixes the luck of a run (the split, the starting weights, the batch order, dropout) so it can "
        "be repeated exactly. Any number works; try a few to see how much a result depends on luck.",
    )

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        return _one_of(value, OPTIMIZER_HELP)

    @field_validator("lr_schedule")
    @classmethod
    def _known_schedule(cls, value: str) -> str:
        return _one_of(value, SCHEDULE_HELP)


def _one_of(value: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}; got {value!r}{did_you_mean(value, list(choices))}")
    return value


class NetworkSpec(_Strict):
    version: Literal[1] = Field(
        SPEC_VERSION,
        description="Spec format version, 1 for now: it lets a later nnbuilder read this file, or say clearly that "
        "it cannot. Leave it as it is.",
    )
    data: DataSpec = Field(default_factory=DataSpec,
                           description="What to predict, which columns to leave out and how to split the rows.")
    input: InputSpec = Field(default_factory=TabularInputSpec,
                             description="How each row becomes the network's input: a table row, an image or a sequence.")
    layers: list[LayerSpec] = Field(
        default_factory=list,
        description="Hidden layers, first to last; the input and output layers follow from the data. An empty list is "
        "a linear/logistic model (a perceptron). More layers learn more complex patterns but train slower and "
        "overfit small data.",
    )
    training: TrainingSpec = Field(
        default_factory=TrainingSpec,
        description="How the network learns: optimiser, learning rate, batch size, epochs, regularisation and early "
        "stopping.",
    )
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
        refusal = refused_input(self.data.task, self.input.kind)
        if refusal:
            raise ValueError(refusal)
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
