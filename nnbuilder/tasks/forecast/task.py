"""The forecast task: windows cut from a table of time steps (nnbuilder.data.sequence), one network trained
with the shared Trainer, evaluated against the naive last-value forecast."""

from __future__ import annotations

from nnbuilder.data.pipeline import is_time_series
from nnbuilder.errors import DataError
from nnbuilder.tasks.card_lines import units_line
from nnbuilder.tasks.examples import forecast_examples
from nnbuilder.tasks.record import CardSection, Task
from nnbuilder.tasks.supervised import (
    describe_network, detect_target, evaluate_splits, fit_network, predict_target, prepare_target, rebuild_network,
)

NEEDS_SEQUENCE = ("the forecast task needs the sequence input with the time_series layout (a table of time steps); "
                  "choose it on the Data page, or choose regression")
NO_ONNX = ("this bundle is a sequence forecast model; ONNX export covers tabular and image models only: use "
           "'--format torchscript' (the network alone) or '--format python' (a training script)")
NO_SCRIPT = ("the script export covers supervised tabular and image models (classification and regression); this "
             "bundle is a forecast model on sequence input: export it with --format torchscript instead")


def _needs_time_series(input) -> None:
    if not is_time_series(input):
        raise DataError(NEEDS_SEQUENCE)


def prepare_forecast(df, data, seed, input):
    _needs_time_series(input)
    return prepare_target(df, data, seed, input)


def detect_forecast(df, data, input) -> str:
    _needs_time_series(input)
    return detect_target(df, data, input)


FORECAST = Task(
    "forecast", "predict a time series' value some steps ahead (sequence input, time_series layout)", ("forecast",),
    prepare=prepare_forecast, detect=detect_forecast, fit=fit_network, evaluate=evaluate_splits,
    describe=describe_network, predict=predict_target, rebuild=rebuild_network,
    card=CardSection(
        headline={"forecast": ("rmse", "mae", "baseline_rmse", "r2")},
        limits="Forecasts assume the future behaves like the training period; compare with the naive last-value "
               "baseline above before trusting them.",
        output_lines=units_line),
    exports={"onnx": NO_ONNX, "torchscript": None, "python": NO_SCRIPT},
    evaluate_views=("forecast_cards", "forecast", "number_charts", "importance"), predict_views=("form", "file"),
    examples=forecast_examples)
