"""Classification (resolves to "binary" or "multiclass") and regression ("regression", "multi_regression"):
one network, the shared Trainer, a target predicted per row. They differ only in their heads and card lines."""

from __future__ import annotations

from nnbuilder.tasks.card_lines import classes_line, units_line
from nnbuilder.tasks.examples import classification_examples, regression_examples
from nnbuilder.tasks.record import CardSection, Task
from nnbuilder.tasks.supervised import (
    describe_network, detect_target, evaluate_splits, fit_network, predict_target, prepare_target, rebuild_network,
)

EXPORTS = {"onnx": None, "torchscript": None, "python": None}
PREDICT_VIEWS = ("form", "file")

SHARED = dict(prepare=prepare_target, detect=detect_target, fit=fit_network, evaluate=evaluate_splits,
              describe=describe_network, predict=predict_target, rebuild=rebuild_network, exports=EXPORTS,
              predict_views=PREDICT_VIEWS)

CLASSIFICATION = Task(
    "classification", "predict a category (a class); the output gives each class a probability",
    ("binary", "multiclass"),
    card=CardSection(
        headline={"binary": ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc"),
                  "multiclass": ("accuracy", "balanced_accuracy", "f1_macro")},
        limits="Probabilities are the network's confidence, not guaranteed frequencies; check them on your own rows "
               "before acting on a threshold.",
        output_lines=classes_line),
    evaluate_views=("class_cards", "class_charts", "importance"), examples=classification_examples, **SHARED)

REGRESSION = Task(
    "regression", "predict a number; the error is measured in the target's own units",
    ("regression", "multi_regression"),
    card=CardSection(
        headline={"regression": ("r2", "rmse", "mae"), "multi_regression": ("r2", "rmse", "mae")},
        limits="Predictions far outside the range of the training target are extrapolations and can be badly off.",
        output_lines=units_line),
    evaluate_views=("number_cards", "number_charts", "importance"), examples=regression_examples, **SHARED)
