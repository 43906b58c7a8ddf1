"""Lessons page, the compare-with-previous-run overlay and the self-explaining warnings, through AppTest."""

import json

import pytest
from test_app_support import by_label, charts, open_app, run_ok, texts, wait_for_job

from nnbuilder.teach.lessons import apply_patch, lesson_data, list_lessons, short_reference
from ui import compare, lesson_view, state

LESSONS_PAGE = "pages/7_Lessons.py"


def open_lessons():
    at = open_app()
    at.switch_page(LESSONS_PAGE)
    run_ok(at)
    assert at.title[0].value == "7 · Lessons"
    return at


def click(at, label):
    by_label(at.button, label).click()
    return run_ok(at)


def start_button(at, lesson):
    """The card's Start button (keyed by the lesson's id)."""
    return at.button(key=f"start_{lesson.id}")


def figure(chart) -> dict:
    return json.loads(chart.proto.spec)


def test_the_page_lists_every_lesson_with_a_start_button():
    at = open_lessons()
    lessons = list_lessons()
    assert len(lessons) >= 6
    assert [b.label for b in at.button] == ["Start this lesson"] * len(lessons)
    shown = " ".join(texts(at.markdown))
    for lesson in lessons:
        assert f"{lesson.order}. {lesson.title}" in shown and lesson.summary in texts(at.caption)
    assert [h.value for h in at.subheader] == ["All lessons"]  # none started yet


@pytest.mark.parametrize("lesson", list_lessons(), ids=lambda lesson: lesson.id)
def test_every_lesson_starts_and_applies_its_steps(lesson):
    at = open_lessons()
    start_button(at, lesson).click()
    run_ok(at)
    assert at.session_state[state.DATA_NAME] == short_reference(lesson.dataset)
    assert at.session_state[state.DATA].equals(lesson_data(lesson)[0])
    assert at.session_state[state.SPEC] == lesson.spec
    assert at.session_state[lesson_view.LESSON] == lesson.id
    assert at.subheader[0].value == f"Lesson {lesson.order}: {lesson.title}"
    assert lesson.story in texts(at.markdown)
    assert any(lesson.watch[0] in text for text in texts(at.markdown))
    assert any(text.startswith("Loaded the lesson") for text in texts(at.success))
    expected = lesson.spec
    for step in lesson.steps:
        click(at, f"Apply: {step.label}")
        expected = apply_patch(expected, step.patch)
        assert at.session_state[state.SPEC] == expected, step.label
        assert f"Applied: {step.label}. Press **Train** to see the effect." in texts(at.success)
    assert start_button(at, lesson).label == "Restart this lesson"
    start_button(at, lesson).click()
    run_ok(at)
    assert at.session_state[state.SPEC] == lesson.spec  # a restart undoes the steps


def test_xor_lesson_end_to_end_with_the_previous_run_dashed():
    at = open_lessons()
    xor = next(lesson for lesson in list_lessons() if lesson.id == "xor")
    start_button(at, xor).click()
    run_ok(at)
    at.switch_page("pages/3_Train.py")
    run_ok(at)
    assert at.expander[0].label == f"Lesson 1: {xor.title}"
    click(at, "Train")
    first = wait_for_job(at)
    assert first.status == "done" and first.context["spec"]["layers"] == []
    # the perceptron underfits: the warning explains itself and offers a hidden layer
    warning = next(text for text in texts(at.warning) if text.startswith("**Underfitting.**"))
    assert "**Why:**" in warning and "**Try next:**" in warning
    assert not at.toggle  # no previous run yet
    assert all(len(figure(chart)["data"]) == 2 for chart in charts(at)[:2])

    click(at, f"Apply: {xor.steps[0].label}")  # the lesson's step: 8 tanh units
    assert at.session_state[state.SPEC]["layers"] == xor.steps[0].patch["layers"]
    click(at, "Train")
    second = wait_for_job(at)
    assert second.status == "done" and second.result.metrics["test"]["accuracy"] >= 0.9
    assert not any(text.startswith("**Underfitting.**") for text in texts(at.warning))
    assert at.toggle[0].label == "Compare with the previous run (dashed: no hidden layer)"
    for chart, key in zip(charts(at)[:2], ("loss", "accuracy")):  # today's lines plus the perceptron's, dashed
        traces = figure(chart)["data"]
        assert [t["name"] for t in traces] == ["training", "validation", "previous: no hidden layer (training)",
                                               "previous: no hidden layer (validation)"]
        assert [t["line"].get("dash") for t in traces] == [None, None, "dash", "dash"]
        assert traces[2]["y"] == pytest.approx([row[f"train_{key}"] for row in first.history])
        assert traces[0]["y"] == pytest.approx([row[f"train_{key}"] for row in second.history])
    at.toggle[0].set_value(False)
    run_ok(at)
    assert all(len(figure(chart)["data"]) == 2 for chart in charts(at)[:2])  # hidden on request
    assert at.session_state[compare.RUNS].keys() >= {first.id, second.id}
    assert "Decision boundary" in [tab.label for tab in at.tabs]


def test_the_underfitting_suggestion_applies_its_patch():
    at = open_lessons()
    circles = next(lesson for lesson in list_lessons() if lesson.id == "activations")
    start_button(at, circles).click()
    run_ok(at)
    at.switch_page("pages/3_Train.py")
    run_ok(at)
    click(at, "Train")
    wait_for_job(at)
    click(at, "Apply: relu instead of linear activations")
    assert {layer["activation"] for layer in at.session_state[state.SPEC]["layers"]} == {"relu"}
    assert "Applied: relu instead of linear activations. Press **Train** to see its effect." in texts(at.success)


def test_a_diverged_run_explains_itself_and_offers_a_smaller_learning_rate():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("diabetes")
    run_ok(at)
    at.switch_page("pages/3_Train.py")
    run_ok(at)
    for label, value in (("Optimizer", "sgd"), ("Learning rate", 10.0), ("Epochs", 3)):
        by_label([*at.number_input, *at.select_slider, *at.selectbox], label).set_value(value)
        run_ok(at)
    click(at, "Train")
    snap = wait_for_job(at)
    assert snap.status == "failed"
    (error,) = texts(at.error)
    assert "training diverged at epoch 1" in error and "**Why:**" in error and "overshoots" in error
    click(at, "Apply: learning rate 1")
    assert at.session_state[state.SPEC]["training"]["learning_rate"] == 1.0
    assert by_label([*at.number_input, *at.select_slider], "Learning rate").value == 1.0  # the widget follows


def test_choosing_other_data_ends_the_lesson_on_train():
    at = open_lessons()
    start_button(at, list_lessons()[1]).click()
    run_ok(at)
    at.switch_page("pages/1_Data.py")
    run_ok(at)
    by_label(at.selectbox, "Built-in dataset").select("iris")
    run_ok(at)
    at.switch_page("pages/3_Train.py")
    run_ok(at)
    assert not at.expander or not at.expander[0].label.startswith("Lesson")
    assert not any(b.label.startswith("Apply:") for b in at.button)
