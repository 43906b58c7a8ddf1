"""Every knob explains itself: what it does, and the symptom of setting it too high and too low.

The help texts live beside the fields (pydantic `description`, `json_schema_extra["ui"]["notes"]`) and
in the activation, optimizer and schedule registries; the pages show them as each widget's `help`.
These tests walk every spec section and every registered layer type, so a new field or layer without
proper help fails here, and check that the Train and Build pages really show the texts.
"""

from __future__ import annotations

import re
import typing

import pytest
from pydantic import BaseModel
from test_app_support import by_label, open_app, run_ok

from nnbuilder.teach.glossary import GLOSSARY, MAX_TERMS, glossed_terms
from nnbuilder.layers import ACTIVATIONS, LAYERS
from nnbuilder.layers.activations import ActivationName
from nnbuilder.train.optim import OPTIMIZERS, SCHEDULES
from nnbuilder.spec.network import INPUT_KINDS, NetworkSpec, TrainingSpec
from ui.widgets import editable_fields, field_meta

MIN_WORDS = 12  # a sentence that says what the field does, not just its name
MIN_WORDS_RANGED = 20  # room for what it does plus both symptoms
MAX_CHARS = 300  # a tooltip, not an essay (the brief asks for ~280)

# Words that name each direction of a numeric setting; a ranged field's help needs one of each, so it
# says what happens when the number goes up and when it goes down (wording free, meaning required).
UP = ("too high", "too much", "too many", "too long", "higher", "more", "larger", "bigger", "longer", "wider",
      "raise")
DOWN = ("too low", "too little", "too few", "too small", "too short", "too narrow", "lower", "fewer", "less",
        "smaller", "shorter", "narrower", "narrow")

# Numbers that describe the data or the question, not a trade-off to tune: no "too high / too low".
FACTS = {
    ("TrainingSpec", "seed"),  # any value is as good as another
    ("ImageInputSpec", "channels"), ("ImageInputSpec", "height"), ("ImageInputSpec", "width"),
    ("ImageInputSpec", "pixel_max"),  # properties of the images
    ("SequenceInputSpec", "horizon"),  # how far ahead to forecast: the question asked
    ("SequenceInputSpec", "steps"),  # how the row's columns are laid out
}
NOT_USER_SET = {"type", "kind", "version"}  # chosen by the layer menu / input radio, or fixed


def _models_in(annotation) -> list[type[BaseModel]]:
    """The spec sections inside a field's type (through Optional, unions, lists and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _sections() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo = [NetworkSpec, *INPUT_KINDS.values(), *(t.spec for t in LAYERS.values())]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            todo += _models_in(field.annotation)
    return sorted(seen, key=lambda m: m.__name__)


SECTIONS = _sections()
FIELDS = [(model, name) for model in SECTIONS for name in model.model_fields if name != "type"]


def _says(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) for word in words)


def _ranged(model, name) -> bool:
    meta = field_meta(model, name)
    return meta.kind in ("int", "float") and (meta.lo is not None or meta.hi is not None)


def test_the_walk_reaches_every_section_and_layer():
    names = {model.__name__ for model in SECTIONS}
    assert {"NetworkSpec", "DataSpec", "SplitSpec", "TrainingSpec", "AutoencoderSpec", "GanSpec",
            "TabularInputSpec", "ImageInputSpec", "SequenceInputSpec", "ResidualSpec"} <= names
    assert {t.spec.__name__ for t in LAYERS.values()} <= names
    ranged = {(m.__name__, n) for m, n in FIELDS if _ranged(m, n)}
    assert {("TrainingSpec", "learning_rate"), ("DenseSpec", "units"), ("Conv2dSpec", "stride"),
            ("LSTMSpec", "units"), ("TransformerEncoderSpec", "heads"), ("SplitSpec", "val")} <= ranged
    assert FACTS <= ranged  # the exemptions name real ranged fields (a rename must update them)


@pytest.mark.parametrize("model, name", FIELDS, ids=[f"{m.__name__}.{n}" for m, n in FIELDS])
def test_every_field_explains_itself_briefly(model, name):
    text = model.model_fields[name].description or ""
    words = len(text.split())
    assert words >= MIN_WORDS, f"{model.__name__}.{name}: {words} words of help; say what it does ({text!r})"
    assert len(text) <= MAX_CHARS, f"{model.__name__}.{name}: {len(text)} characters; keep the help short"


RANGED = [(m, n) for m, n in FIELDS if _ranged(m, n) and (m.__name__, n) not in FACTS]


@pytest.mark.parametrize("model, name", RANGED, ids=[f"{m.__name__}.{n}" for m, n in RANGED])
def test_every_tunable_number_names_both_directions(model, name):
    text = model.model_fields[name].description
    assert len(text.split()) >= MIN_WORDS_RANGED, f"{model.__name__}.{name}: too short to give both symptoms"
    assert _says(text, UP), f"{model.__name__}.{name} never says what happens when it goes up: {text!r}"
    assert _says(text, DOWN), f"{model.__name__}.{name} never says what happens when it goes down: {text!r}"


def test_the_direction_check_rejects_one_sided_help():
    # the old help texts this test file was written against: each said only one side, or none
    assert not _says("Passes over the training rows.", UP + DOWN)
    one_sided = "Number of neurons. More units fit more complex patterns but overfit small data and train slower."
    assert _says(one_sided, UP) and not _says(one_sided, DOWN)
    assert not _says("Furthermore, the overfitting lessens.", UP + DOWN)  # whole words only
    assert _says("Too high: it explodes; too low: it crawls.", UP) and _says("too low: it crawls", DOWN)


CHOICES = [(m, n) for m, n in FIELDS if n not in NOT_USER_SET and n in editable_fields(m)
           and field_meta(m, n).kind == "choice"]


@pytest.mark.parametrize("model, name", CHOICES, ids=[f"{m.__name__}.{n}" for m, n in CHOICES])
def test_every_choice_is_explained_in_the_help(model, name):
    meta = field_meta(model, name)
    assert meta.help.startswith(model.model_fields[name].description)
    for choice in meta.choices:
        line = re.search(rf"^- \*\*{re.escape(str(choice))}\*\*: (.+)$", meta.help, re.MULTILINE)
        assert line and len(line.group(1).split()) >= 4, f"{model.__name__}.{name}: no line for {choice!r}"


def test_choice_fields_include_the_key_knobs():
    found = {(m.__name__, n) for m, n in CHOICES}
    assert {("TrainingSpec", "optimizer"), ("TrainingSpec", "lr_schedule"), ("DenseSpec", "activation"),
            ("ActivationSpec", "function"), ("Conv2dSpec", "padding"), ("DataSpec", "task"),
            ("TransformerEncoderSpec", "pooling"), ("TransformerEncoderSpec", "positional_encoding"),
            ("TabularInputSpec", "categorical"), ("SequenceInputSpec", "layout")} <= found


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_type_has_a_plain_summary(name):
    layer = LAYERS[name]
    assert layer.label and layer.summary.endswith(".")
    assert 8 <= len(layer.summary.split()) and len(layer.summary) <= 200, layer.summary


def test_the_activation_help_explains_non_linearity():
    text = LAYERS["dense"].spec.model_fields["activation"].description
    assert "non-linearity" in text and "straight-line" in text  # why a network needs one at all


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_has_its_one_liner(name):
    note = ACTIVATIONS[name][1]
    assert 8 <= len(note.split()) and len(note) <= 160 and "\n" not in note, note
    assert name in typing.get_args(ActivationName)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_has_its_one_liner_that_fits_the_generated_script(name):
    note = OPTIMIZERS[name][1]
    assert len(note.split()) >= 8 and "\n" not in note, note
    # nnbuilder.export.script.writer writes it as a docstring line, and the script's lines must fit 110 characters
    assert len(f'    """{name}: {note}."""') <= 110, note


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_schedule_has_its_one_liner(name):
    note = SCHEDULES[name]
    assert 8 <= len(note.split()) and len(note) <= 160 and "\n" not in note, note


def test_the_optimizer_and_activation_widgets_list_every_choice():
    optimizer = field_meta(TrainingSpec, "optimizer").help
    for name, (_, note) in OPTIMIZERS.items():
        assert f"- **{name}**: {note}" in optimizer
    schedule = field_meta(TrainingSpec, "lr_schedule").help
    assert all(f"- **{name}**: {note}" in schedule for name, note in SCHEDULES.items())
    activation = field_meta(LAYERS["conv1d"].spec, "activation").help
    assert all(f"- **{name}**: {note}" in activation for name, (_, note) in ACTIVATIONS.items())


# ---- the glossary explains the jargon the texts use ----------------------------------------------

def _all_help_texts() -> list[str]:
    """What the help says before any gloss is added: descriptions, choice lines and layer summaries."""
    texts = [m.model_fields[n].description for m, n in FIELDS]
    texts += [field_meta(m, n).help.split("\n\n*")[0] for m, n in CHOICES]  # up to the glosses
    return texts + [t.summary for t in LAYERS.values()]


def test_every_glossary_entry_is_used_and_plain():
    texts = _all_help_texts()
    for term, (pattern, meaning) in GLOSSARY.items():
        assert any(re.search(rf"\b{pattern}", text, re.IGNORECASE) for text in texts), \
            f"glossary entry {term!r} is used by no help text; drop it"
        assert 6 <= len(meaning.split()) and len(meaning) <= 160 and "\n" not in meaning, meaning


def test_glossed_terms_follow_the_text_and_stop_at_the_limit():
    assert glossed_terms("nothing technical here") == []
    assert [t for t, _ in glossed_terms("Gradients vanish, so it underfits.")] == ["gradient", "underfitting"]
    assert [t for t, _ in glossed_terms("It overfits; an epoch too many.")] == ["overfitting", "epoch"]
    assert glossed_terms("overfit") == glossed_terms("OVERFITTING") and not glossed_terms("fitted epochal")
    crowded = "neuron, epoch, latent, validation loss, saturates, gradient, underfits, overfits"
    found = [t for t, _ in glossed_terms(crowded)]
    assert MAX_TERMS == 3 and found == ["gradient", "underfitting", "overfitting"]  # the most important, in text order


def test_widget_help_ends_with_the_meaning_of_its_jargon():
    meta = field_meta(LAYERS["dropout"].spec, "rate")
    assert meta.help.startswith(LAYERS["dropout"].spec.model_fields["rate"].description)
    assert f"*overfitting*: {GLOSSARY['overfitting'][1]}" in meta.help
    assert f"*underfitting*: {GLOSSARY['underfitting'][1]}" in meta.help
    plain = field_meta(TrainingSpec, "learning_rate")
    assert plain.help == TrainingSpec.model_fields["learning_rate"].description  # no jargon, nothing added


# ---- the pages show the texts ------------------------------------------------------------------

def test_train_page_shows_the_help_on_its_widgets():
    at = open_app("Train")
    learning_rate = by_label(at.select_slider, "Learning rate")
    assert learning_rate.help.startswith(TrainingSpec.model_fields["learning_rate"].description)
    assert "too high" in learning_rate.help.lower() and "too low" in learning_rate.help
    assert "- **adam**:" in by_label(at.selectbox, "Optimizer").help
    assert "- **cosine**:" in by_label(at.selectbox, "Learning-rate schedule").help
    batch_size = by_label(at.number_input, "Batch size").help
    assert batch_size.startswith(TrainingSpec.model_fields["batch_size"].description)
    assert f"*epoch*: {GLOSSARY['epoch'][1]}" in batch_size  # the jargon it uses, explained under it


def test_build_page_shows_the_help_of_a_conv2d_layer():
    at = open_app("Build")
    by_label(at.selectbox, "Layer type").select(LAYERS["conv2d"].label)
    by_label(at.button, "Add layer").click()
    run_ok(at)  # the conv2d cannot read the 2 moons columns: its error shows, its fields still render
    conv = LAYERS["conv2d"].spec.model_fields
    assert by_label(at.number_input, "Filters").help.startswith(conv["filters"].description)
    assert by_label(at.number_input, "Kernel size").help.startswith(conv["kernel_size"].description)
    padding = by_label(at.selectbox, "Padding").help
    assert padding.startswith(conv["padding"].description) and "- **same**:" in padding and "- **valid**:" in padding
    assert LAYERS["conv2d"].summary in [c.value for c in at.caption]
    units = [w for w in at.number_input if w.label == "Units"]
    assert units and units[0].help.startswith(LAYERS["dense"].spec.model_fields["units"].description)
