"""The GAN task: a generator and a discriminator of its own (nnbuilder.tasks.gan.networks, .fit); nothing is
predicted, rows are generated; weights.safetensors holds the generator and meta.json the row layout."""

from __future__ import annotations

import pandas as pd
from torch import nn

from nnbuilder.errors import BundleError
from nnbuilder.model.heads import OutputHead, register_head
from nnbuilder.tasks.autoencoder.data import whole_table
from nnbuilder.tasks.card_lines import number
from nnbuilder.tasks.gan.data import prepare_gan
from nnbuilder.tasks.gan.fit import fit_gan
from nnbuilder.tasks.gan.networks import build_generator, decode_rows, gan_layer_table, generate_encoded
from nnbuilder.tasks.examples import gan_examples
from nnbuilder.tasks.record import CardSection, Task
from nnbuilder.tasks.trained import TrainedModel

# The GAN's "head" is the generated row: no Linear head on a shared stack, and nothing to explain by columns.
GAN_HEAD = register_head(OutputHead(
    "gan", "GAN (synthetic rows)", lambda n: n, nn.BCEWithLogitsLoss, "linear", counts="features",
    has_network_head=False,
    raw_output="one encoded synthetic row: numbers standardised, one-hot groups per category (see gan_layout); the "
               "category of each group is sampled inside the model (Gumbel-softmax)",
    not_explainable="this one is a GAN: it generates rows instead of predicting a target; compare real and generated "
                    "rows on the Evaluate page instead"))

NO_ONNX = ("this bundle is a GAN; ONNX export covers tabular and image models only: use '--format torchscript' (the "
           "network alone) or '--format python' (a training script)")
NO_SCRIPT = ("the script export covers supervised tabular and image models (classification and regression); this "
             "bundle is a gan model on tabular input: export it with --format torchscript instead")


def prepare(df: pd.DataFrame, data, seed: int, input):
    """Every usable column (the target too) encoded to be generated (nnbuilder.tasks.gan.data)."""
    df, _, drops, found = whole_table(df, data, input, "gan")
    return prepare_gan(df, data, input, drops, seed, found)


def detect(df: pd.DataFrame, data, input) -> str:
    whole_table(df, data, input, "gan")
    return "gan"


def fit(df, spec, prepared, *, device="auto", observers=None, cancel=None, views=(), callbacks=()) -> TrainedModel:
    """Adversarial training (no probes: the live views are for one network); the report compares with all rows."""
    result, metrics, layout = fit_gan(spec, prepared, device=device, observers=observers, cancel=cancel, real=df,
                                     callbacks=callbacks)
    return TrainedModel(spec, prepared, result, metrics, {}, list(prepared.warnings), gan_layout=layout)


def evaluate(model, spec, prepared) -> tuple[dict, dict]:
    """Nothing per split: the GAN's fit already scored the generated rows against the real ones (its metrics'
    "quality", nnbuilder.tasks.gan.quality), which is the only honest measure of a generator."""
    return {}, {}


def refuse_predict(bundle, df: pd.DataFrame):
    raise BundleError("this bundle is a GAN: it generates rows instead of predicting them; use "
                      "'nnbuilder generate BUNDLE --rows N' (Bundle.generate)")


def generate(bundle, n: int, seed: int) -> pd.DataFrame:
    return decode_rows(generate_encoded(bundle.model, n, seed), bundle.meta["gan_layout"])


def quality_section(per_split: dict) -> list[str]:
    """A GAN has no test split: its card reports the synthetic rows' quality (nnbuilder.tasks.gan.quality)."""
    quality, train = per_split.get("quality") or {}, per_split.get("train") or {}
    auc, corr = quality.get("auc", {}), quality.get("correlation_difference", {})
    lines = ["## Quality of the synthetic rows", "",
             f"{quality.get('rows_generated', '?')} generated rows compared with {quality.get('rows_real', '?')} real "
             "rows; a column-independent sampler (each column drawn on its own) is the baseline.", "",
             "| measure | GAN | column-independent sampler |", "|---|---:|---:|",
             f"| real-vs-synthetic classifier AUC (0.5 = indistinguishable) | {number(auc.get('gan'))} | "
             f"{number(auc.get('independent'))} |",
             f"| mean correlation difference | {number(corr.get('gan'))} | {number(corr.get('independent'))} |"]
    if train:
        lines += ["", f"Final losses: generator {number(train.get('generator_loss'))}, discriminator "
                  f"{number(train.get('discriminator_loss'))}."]
    return lines + [""]


GAN = Task(
    "gan", "learn to generate new rows like the table's, every usable column included (synthetic data)", ("gan",),
    prepare=prepare, detect=detect, fit=fit, evaluate=evaluate,
    describe=gan_layer_table, predict=refuse_predict, generate=generate,
    rebuild=lambda spec, meta: build_generator(spec, meta["gan_layout"]),
    meta_extras=lambda trained: {"gan_layout": trained.gan_layout},  # turns the generator's rows into columns
    card=CardSection(
        limits="Synthetic rows imitate the training table's columns and correlations; they may repeat rare real rows, "
               "so do not share them as anonymous data without checking.",
        metrics_section=quality_section, usage=("nnbuilder generate model.zip --rows 1000 --out synthetic.csv",)),
    exports={"onnx": NO_ONNX, "torchscript": None, "python": NO_SCRIPT},
    # None hidden: with the adversarial step in the shared Trainer loop (issue 10, nnbuilder.tasks.gan.fit) the GAN
    # uses the optimizer, schedule, weight decay, L1 and patience too. It keeps the last weights (a GAN has no
    # best epoch to go back to), but no setting turns that restore on or off, so there is nothing to hide for it.
    ignored_settings=frozenset(),
    evaluate_views=("quality", "generate"), input_kinds=("tabular",), target="ignored", spec_section="gan", examples=gan_examples,
    predict_note="A GAN makes new rows instead of predicting them: generate and download them on the Evaluate page.")
