"""The task registry: lookups by user-facing and resolved name, labels, exports and settings in words."""

from __future__ import annotations

import dataclasses

import pytest

from nnbuilder.model.heads import get_head, task_label
from nnbuilder.spec.task_names import TASK_CHOICES, TASK_NOTES
from nnbuilder.tasks import find_task, get_task, register_task, resolved_names, task_names
from ui.training import applicable_settings


def test_built_in_tasks_by_user_facing_and_resolved_name():
    assert task_names() == ["classification", "regression", "forecast", "autoencoder", "gan"]
    assert set(resolved_names()) == {"binary", "multiclass", "regression", "multi_regression", "forecast",
                                     "autoencoder", "gan"}
    assert get_task("binary") is get_task("multiclass") is get_task("classification")
    assert get_task("multi_regression").name == "regression"
    assert find_task("auto") is None and find_task(None) is None
    with pytest.raises(KeyError, match="no task is registered as 'graph'"):
        get_task("graph")


def test_the_spec_choices_are_the_registry():
    assert TASK_CHOICES == ["auto", *task_names()]
    assert TASK_NOTES["gan"] == get_task("gan").note


def test_labels_come_from_the_heads():
    assert get_task("classification").label("multiclass") == "Multiclass classification"
    assert task_label("gan") == "GAN (synthetic rows)" and get_head("gan").has_network_head is False
    assert task_label("unknown") == "unknown"


def test_exports_are_claimed_or_refused_in_words():
    assert get_task("binary").export_refusal("onnx") is None
    assert "ONNX export covers tabular and image models only" in get_task("gan").export_refusal("onnx")
    assert get_task("autoencoder").export_refusal("python").startswith("the script export covers")
    assert get_task("regression").export_refusal("tflite") == "the regression task has no tflite export"


def test_ignored_settings_must_be_training_settings():
    bad = dataclasses.replace(get_task("regression"), name="bad", ignored_settings=frozenset({"patience"}))
    with pytest.raises(ValueError, match="ignores patience, which are no training settings"):
        register_task(bad)
    assert "bad" not in task_names()


def test_the_train_page_shows_what_the_task_uses():
    columns = [["optimizer", "l1"], ["momentum", "seed"]]
    assert applicable_settings(columns, "auto") == (columns, [])
    assert applicable_settings(columns, "gan") == (columns, [])  # the GAN in the shared loop uses every setting
