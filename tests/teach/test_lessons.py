"""Guided lessons: every lesson file is valid, trains, and shows the effect its text promises.

Each lesson is trained with its own spec and seed (CPU-sized: a few hundred rows, tens of epochs), and
the numbers its "what to watch" states are the ones asserted here.
"""

import json
import statistics

import numpy as np
import pytest
import torch

from nnbuilder.teach.diagnostics import diagnose, first_firing
from nnbuilder.errors import NNBuilderError
from nnbuilder.teach.lessons import (LESSONS_DIR, LessonError, apply_patch, get_lesson, lesson_data, lesson_spec, list_lessons,
                               short_reference, spec_difference)
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks: one thread is 10x faster than two on a busy 2-core box (measured 0.85 s vs 8 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


REQUIRED = {"xor", "learning_rate", "overfitting", "depth_width", "activations", "batch_size"}


def train(lesson_id: str, *steps: int):
    lesson = get_lesson(lesson_id)
    df, _ = lesson_data(lesson)
    spec = lesson_spec(lesson, *steps)
    return train_from_spec(df, parse_spec(spec)), spec


def losses(trained, key="train_loss"):
    return [row[key] for row in trained.fit.history]


def test_every_lesson_is_complete_and_valid():
    lessons = list_lessons()
    assert REQUIRED <= {lesson.id for lesson in lessons} and len(lessons) >= 6
    assert [lesson.order for lesson in lessons] == sorted(lesson.order for lesson in lessons)
    for lesson in lessons:
        assert lesson.title and lesson.summary and lesson.story and lesson.watch and lesson.steps
        assert lesson.spec["training"]["seed"] == 0  # the whole class sees the same curves
        assert lesson.dataset.startswith("sample:") and "seed=0" in lesson.dataset
        df, _ = lesson_data(lesson)
        assert lesson.spec["data"]["target"] in df.columns
        for index, step in enumerate(lesson.steps):
            assert step.label and step.patch
            patched = parse_spec(lesson_spec(lesson, index))
            assert patched.model_dump(mode="json") != parse_spec(lesson.spec).model_dump(mode="json") or \
                index == len(lesson.steps) - 1  # a last "back to the start" step may restore the spec


def test_short_reference_leaves_out_default_options():
    assert short_reference("sample:xor?n_samples=500&noise=0.1&seed=0") == "sample:xor"
    assert short_reference("sample:moons?n_samples=60&noise=0.35&seed=0") == "sample:moons?n_samples=60&noise=0.35"
    assert short_reference("sample:spiral?arms=2&noise=0.030") == "sample:spiral"
    assert short_reference("sample:moons?noise=loud") == "sample:moons?noise=loud"
    assert short_reference("sample:iris") == "sample:iris" and short_reference("data.csv") == "data.csv"


def test_lesson_data_is_the_same_for_everyone():
    lesson = get_lesson("overfitting")
    first, _ = lesson_data(lesson)
    second, _ = lesson_data(lesson)
    assert len(first) == 60 and first.equals(second)


def test_xor_perceptron_fails_and_a_hidden_layer_solves_it():
    perceptron, spec = train("xor")
    assert spec["layers"] == []
    assert perceptron.metrics["test"]["accuracy"] <= 0.65
    assert [d.rule for d in diagnose(perceptron.fit.history, spec)] == ["underfitting"]
    hidden, spec = train("xor", 0)
    assert spec["layers"][0]["units"] in range(4, 9) and spec["layers"][0]["activation"] in ("tanh", "relu")
    assert hidden.metrics["test"]["accuracy"] >= 0.9
    relu4, _ = train("xor", 1)
    assert relu4.metrics["test"]["accuracy"] >= 0.9


def test_learning_rate_too_high_oscillates_too_low_crawls():
    good, spec = train("learning_rate")
    high, high_spec = train("learning_rate", 0)
    low, low_spec = train("learning_rate", 1)
    assert (spec["training"]["learning_rate"], high_spec["training"]["learning_rate"],
            low_spec["training"]["learning_rate"]) == (0.05, 5.0, 0.0005)
    assert losses(good)[-1] < 0.2  # "from about 0.55 to about 0.14"
    assert max(losses(high)) > 5 * min(losses(high)) and losses(high)[-1] > losses(high)[0]  # jumps, ends worse
    assert "unstable" in [d.rule for d in diagnose(high.fit.history, high_spec)]
    crawl = losses(low)
    assert crawl[-1] > 0.4 and all(b < a for a, b in zip(crawl, crawl[1:]))  # a slow, steady slide
    assert diagnose(good.fit.history, spec) == [] and diagnose(low.fit.history, low_spec) == []


@pytest.fixture(scope="module")
def overfit_runs():
    return {name: train("overfitting", *steps) for name, steps in
            (("plain", ()), ("l2", (0,)), ("early", (1,)), ("dropout", (2,)))}


def test_a_wide_net_overfits_sixty_noisy_points(overfit_runs):
    plain, spec = overfit_runs["plain"]
    assert first_firing(plain.fit.history, "overfitting", spec) is not None
    assert losses(plain)[-1] < 0.01 and losses(plain, "val_loss")[-1] > 2  # "almost 0" / "climbs past 2"
    val = losses(plain, "val_loss")
    assert val[-1] > 3 * min(val)


def test_weight_decay_and_early_stopping_cure_it(overfit_runs):
    # the curves' last validation loss (every run returns its best epoch's weights, so the metrics would not differ)
    plain_val = overfit_runs["plain"][0].fit.history[-1]["val_loss"]
    for name in ("l2", "early"):
        cured, spec = overfit_runs[name]
        assert first_firing(cured.fit.history, "overfitting", spec) is None, name
        assert cured.fit.history[-1]["val_loss"] < plain_val / 3, name
    assert overfit_runs["l2"][0].fit.history[-1]["val_loss"] < 0.5  # "ends near 0.4"
    early = overfit_runs["early"][0]
    assert early.fit.stop_reason == "early_stopped" and len(early.fit.history) <= 25


def test_dropout_alone_helps_but_does_not_stop_the_climb(overfit_runs):
    """The lesson's text says so because this is what the seed shows."""
    dropout, spec = overfit_runs["dropout"]
    assert any(layer["type"] == "dropout" for layer in spec["layers"])
    assert dropout.fit.history[-1]["val_loss"] < overfit_runs["plain"][0].fit.history[-1]["val_loss"] / 2
    assert first_firing(dropout.fit.history, "overfitting", spec) is not None


def test_deep_narrow_beats_wide_shallow_on_spirals_with_the_same_budget():
    wide, _ = train("depth_width")
    deep, _ = train("depth_width", 0)
    wide_params = sum(p.numel() for p in wide.model.parameters())
    deep_params = sum(p.numel() for p in deep.model.parameters())
    assert abs(wide_params - deep_params) / wide_params < 0.05  # "about 600" each
    assert deep.metrics["val"]["accuracy"] >= 0.97 and wide.metrics["val"]["accuracy"] <= 0.93
    assert deep.metrics["test"]["accuracy"] > wide.metrics["test"]["accuracy"] + 0.05
    assert losses(deep, "val_loss")[-1] < 0.05 < 0.2 < losses(wide, "val_loss")[-1]


def test_linear_activations_cannot_bend_relu_and_tanh_can():
    linear, spec = train("activations")
    assert {layer["activation"] for layer in spec["layers"]} == {"linear"}
    assert linear.metrics["test"]["accuracy"] <= 0.6
    for step in (0, 1, 2):  # relu, tanh, sigmoid
        bent, bent_spec = train("activations", step)
        assert bent.metrics["test"]["accuracy"] >= 0.95, bent_spec["layers"][0]["activation"]


def test_small_batches_are_noisier_and_get_there_in_fewer_epochs():
    big, big_spec = train("batch_size")
    small, small_spec = train("batch_size", 0)
    assert (big_spec["training"]["batch_size"], small_spec["training"]["batch_size"]) == (256, 8)

    def wiggle(trained):  # std of the epoch-to-epoch change of the loss over the last 20 epochs
        return statistics.pstdev(np.diff(losses(trained))[-20:])

    assert wiggle(small) > 5 * wiggle(big)  # measured about 14x

    def epochs_to(trained, accuracy=0.95):
        return next((row["epoch"] for row in trained.fit.history if row["val_accuracy"] >= accuracy), None)

    assert epochs_to(small) <= 5 and epochs_to(big) is None  # batch 256 has not got there after 40 epochs
    assert losses(big)[-1] > 0.2


def test_apply_patch_merges_dicts_and_replaces_lists():
    spec = {"layers": [{"type": "dense", "units": 4}], "training": {"learning_rate": 0.1, "epochs": 5}}
    patched = apply_patch(spec, {"training": {"learning_rate": 1.0}, "layers": []})
    assert patched == {"layers": [], "training": {"learning_rate": 1.0, "epochs": 5}}
    assert spec["training"]["learning_rate"] == 0.1  # the original is left alone
    assert apply_patch(spec, None) == spec and apply_patch(spec, None) is not spec


def test_spec_difference_labels_the_previous_run():
    xor = get_lesson("xor")
    assert spec_difference(lesson_spec(xor), lesson_spec(xor, 0)) == "no hidden layer"
    assert spec_difference(lesson_spec(xor, 0), lesson_spec(xor)) == "8 tanh"
    rate = get_lesson("learning_rate")
    assert spec_difference(lesson_spec(rate), lesson_spec(rate, 0)) == "lr 0.05"
    depth = get_lesson("depth_width")
    assert spec_difference(lesson_spec(depth, 0), lesson_spec(depth)) == "3×16 relu"
    assert spec_difference(lesson_spec(rate), lesson_spec(rate)) == ""
    assert spec_difference(None, lesson_spec(rate)) == ""


def test_unknown_lessons_and_steps_are_explained():
    with pytest.raises(LessonError, match=r"unknown lesson 'xr'.*did you mean 'xor'"):
        get_lesson("xr")
    with pytest.raises(LessonError, match=r"has steps 0\.\.2; got step 7"):
        lesson_spec(get_lesson("xor"), 7)
    assert issubclass(LessonError, NNBuilderError)


@pytest.mark.parametrize("content, message", [
    ("{not json", "cannot be read as JSON"),
    (json.dumps({"id": "x"}), "lacks order, title, summary, story, dataset, spec, steps, watch"),
    (json.dumps({"id": "x", "order": 1, "title": "t", "summary": "", "story": "s", "dataset": "data.csv", "spec": {}, "steps": [],
                 "watch": []}), "dataset must be a built-in"),
    (json.dumps({"id": "x", "order": 1, "title": "t", "summary": "", "story": "s", "dataset": "sample:moons", "spec": {},
                 "steps": [{"label": "bad", "patch": {"training": {"learning_rate": -1}}}], "watch": []}),
     "has an invalid spec: training.learning_rate"),
])
def test_broken_lesson_files_are_reported_by_name(tmp_path, content, message):
    (tmp_path / "1_broken.json").write_text(content)
    with pytest.raises(LessonError, match="1_broken.json") as info:
        list_lessons(tmp_path)
    assert message in str(info.value)


def test_two_lessons_with_one_id_are_refused(tmp_path):
    source = sorted(LESSONS_DIR.glob("*.json"))[0].read_text()
    (tmp_path / "1_a.json").write_text(source)
    (tmp_path / "2_b.json").write_text(source)
    with pytest.raises(LessonError, match="used by two files"):
        list_lessons(tmp_path)
