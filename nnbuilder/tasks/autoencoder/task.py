"""The autoencoder task: every row rebuilt through a narrow latent layer by one network trained with the shared
Trainer; the reconstruction error is an anomaly score, flagged above the training rows' threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnbuilder.tasks.autoencoder.anomaly import evaluate_autoencoder, latent_codes, reconstruction_errors
from nnbuilder.tasks.autoencoder.data import prepare_autoencoder, whole_table
from nnbuilder.tasks.examples import autoencoder_examples
from nnbuilder.tasks.record import CardSection, Task
from nnbuilder.tasks.supervised import describe_network, fit_network, rebuild_network

NO_SCRIPT = ("the script export covers supervised tabular and image models (classification and regression); this "
             "bundle is an autoencoder model on tabular input: export it with --format torchscript instead")


def prepare(df: pd.DataFrame, data, seed: int, input):
    """The table encoded as usual, y is X; the target is only an optional label (nnbuilder.tasks.autoencoder.data)."""
    df, labels, drops, found = whole_table(df, data, input, "autoencoder")
    return prepare_autoencoder(df, data, input, labels, drops, seed, found)


def detect(df: pd.DataFrame, data, input) -> str:
    whole_table(df, data, input, "autoencoder")  # refuses other inputs and unknown label columns in words
    return "autoencoder"


def anomaly_frame(bundle, df: pd.DataFrame) -> pd.DataFrame:
    """`anomaly_score` (reconstruction error), `anomaly` (score above the saved threshold) and the latent
    coordinates `latent_1` ... `latent_<latent_dim>` for raw rows."""
    X = bundle.preprocessing.transform(df)  # DataError names missing columns
    scores = reconstruction_errors(bundle.model, X)
    result = pd.DataFrame({"anomaly_score": scores, "anomaly": scores > bundle.meta["anomaly_threshold"]},
                          index=df.index)
    codes = latent_codes(bundle.model, bundle.spec, X)
    for k in range(codes.shape[1]):
        result[f"latent_{k + 1}"] = codes[:, k]
    return result


def meta_extras(trained) -> dict:
    """The score above which predict flags a row, and which label value is the anomaly."""
    label = trained.prepared.anomaly_class
    return {"anomaly_threshold": trained.metrics["train"].get("threshold"),
            "anomaly_class": label.item() if isinstance(label, np.generic) else label}


def output_lines(meta: dict) -> list[str]:
    lines = []
    if meta.get("classes"):
        lines.append("- The label's values (never an input; they check the scores): "
                     f"{', '.join(map(str, meta['classes']))}.")
    if meta.get("anomaly_threshold") is not None:
        lines.append(f"- A row is an anomaly when its reconstruction error exceeds {meta['anomaly_threshold']:.4g}.")
    return lines


AUTOENCODER = Task(
    "autoencoder", "rebuild each row through a narrow layer; rows rebuilt badly are flagged as anomalies",
    ("autoencoder",), prepare=prepare, detect=detect, fit=fit_network, evaluate=evaluate_autoencoder,
    describe=describe_network, predict=anomaly_frame, rebuild=rebuild_network, meta_extras=meta_extras,
    card=CardSection(
        headline={"autoencoder": ("reconstruction_error_mean", "reconstruction_error_p95", "flagged_share", "roc_auc",
                                  "precision", "recall")},
        limits="A row is flagged when its reconstruction error is above the threshold set on the training rows; it "
               "finds rows unlike the training data, not necessarily fraud or faults.",
        target_phrase=" (label {target})", output_lines=output_lines),
    exports={"onnx": None, "torchscript": None, "python": NO_SCRIPT},
    evaluate_views=("anomaly",), predict_views=("form", "file"), input_kinds=("tabular",),
    predictions_file="anomaly_scores.csv", explains_rows=False, target="label", spec_section="autoencoder",
    examples=autoencoder_examples)
