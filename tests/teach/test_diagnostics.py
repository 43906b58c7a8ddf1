"""History diagnostics shown as warnings on the Train page: each rule fires on a constructed history,
stays quiet on a healthy one, and carries a one-click patch built from the run's spec."""

import math

import pytest

from nnbuilder.teach.diagnostics import RULES, Diagnosis, diagnose, explain_failure, first_firing, overfitting
from nnbuilder.spec.network import parse_spec

SPEC = {"data": {"target": "label"}, "layers": [{"type": "dense", "units": 8, "activation": "relu"}],
        "training": {"learning_rate": 0.1, "early_stopping_patience": 0}}


def rows(train_loss, val_loss=None, train_acc=None, val_acc=None):
    """History rows like the trainer's, from lists (a missing list leaves the key None)."""
    n = len(train_loss)
    pick = lambda values, i: None if values is None else values[i]  # noqa: E731
    return [{"epoch": i + 1, "train_loss": train_loss[i], "val_loss": pick(val_loss, i),
             "train_accuracy": pick(train_acc, i), "val_accuracy": pick(val_acc, i), "lr": 0.1}
            for i in range(n)]


def healthy(n=40):
    """Loss falling like 1/epoch, accuracy climbing to 0.97: nothing to say."""
    loss = [0.7 / (1 + 0.3 * i) for i in range(n)]
    acc = [min(0.97, 0.5 + 0.05 * i) for i in range(n)]
    return rows(loss, [v * 1.05 for v in loss], acc, acc)


def fired(history, spec=SPEC):
    return [d.rule for d in diagnose(history, spec)]


def test_overfitting_needs_rising_val_and_falling_train():
    rising = [{"epoch": i, "train_loss": 1 - i * 0.05, "val_loss": 0.5 + i * 0.01} for i in range(8)]
    assert overfitting(rising)
    flat = [{"epoch": i, "train_loss": 1 - i * 0.05, "val_loss": 0.5} for i in range(8)]
    assert not overfitting(flat)
    assert not overfitting(rising[:3])
    assert not overfitting([{"epoch": i, "train_loss": 1.0, "val_loss": None} for i in range(8)])


def test_a_healthy_history_raises_nothing():
    assert fired(healthy()) == []
    assert all(first_firing(healthy(), rule, SPEC) is None for rule in RULES)


def test_every_rule_is_registered_once():
    assert set(RULES) == {"overfitting", "unstable", "underfitting", "plateau"}


def test_overfitting_rule_suggests_early_stopping_then_weight_decay():
    n = 30
    history = rows([1 / (1 + i) for i in range(n)], [0.5 - 0.01 * i if i < 20 else 0.3 + 0.02 * (i - 20) for i in range(n)],
                   [0.99] * n, [0.8] * n)
    found = diagnose(history, SPEC)
    assert [d.rule for d in found] == ["overfitting"]
    assert found[0].patch == {"training": {"early_stopping_patience": 10}} and "early stopping" in found[0].patch_label
    with_stopping = {**SPEC, "training": {**SPEC["training"], "early_stopping_patience": 5, "weight_decay": 0.05}}
    assert diagnose(history, with_stopping)[0].patch == {"training": {"weight_decay": 0.5}}
    assert first_firing(history, "overfitting", SPEC) == 26  # val rising 5 epochs in a row from epoch 21


def test_oscillating_loss_is_blamed_on_the_learning_rate():
    bouncing = [1.0, 0.6, 0.4, 0.9, 0.3, 1.2, 0.35, 1.1, 0.4, 1.3, 0.5, 1.0, 0.45]
    found = diagnose(rows(bouncing, bouncing, [0.7] * 13, [0.7] * 13), SPEC)
    assert [d.rule for d in found] == ["unstable"]
    assert found[0].patch == {"training": {"learning_rate": 0.01}} and found[0].patch_label == "Apply: learning rate 0.01"
    assert "jumped up" in found[0].what and found[0].why and found[0].next_step


def test_a_loss_that_ends_above_its_start_is_divergence():
    climbing = [0.7, 0.9, 0.8, 1.5, 1.2, 2.4, 2.0]
    found = diagnose(rows(climbing), SPEC)
    assert [d.rule for d in found] == ["unstable"] and "higher than it started" in found[0].what


def test_tiny_wobbles_of_a_converged_loss_are_not_instability():
    converged = [0.7, 0.2, 0.05, 0.01] + [0.001, 0.003, 0.0009, 0.004, 0.001, 0.0035] * 3
    assert "unstable" not in fired(rows(converged, converged, [1.0] * 22, [1.0] * 22))


def test_plateau_fires_on_a_flat_loss_of_a_poor_model_only():
    flat = [0.7 - 0.02 * i for i in range(10)] + [0.5] * 12
    found = diagnose(rows(flat, flat, [0.8] * 22, [0.85] * 22), SPEC)
    assert [d.rule for d in found] == ["plateau"] and found[0].patch == {"training": {"learning_rate": 1.0}}
    assert fired(rows(flat, flat, [0.99] * 22, [0.97] * 22)) == []  # flat because it is done
    assert fired(rows(flat[:11], flat[:11], [0.8] * 11, [0.8] * 11)) == []  # too few epochs to tell


def test_underfitting_fires_when_both_scores_stay_low_and_suggests_a_hidden_layer():
    n = 24
    loss = [0.69 - 0.0001 * i for i in range(n)]
    chance = [0.5, 0.55, 0.48, 0.52, 0.6, 0.47] * 4  # near chance a score jumps about without rising
    perceptron = {**SPEC, "layers": []}
    found = diagnose(rows(loss, loss, chance, chance), perceptron)
    assert [d.rule for d in found] == ["underfitting"]  # it hides the plateau it explains
    assert found[0].patch["layers"][0]["type"] == "dense" and "hidden layer" in found[0].patch_label
    linear = {**SPEC, "layers": [{"type": "dense", "units": 8, "activation": "linear"}]}
    assert diagnose(rows(loss, loss, chance, chance), linear)[0].patch == {
        "layers": [{"type": "dense", "units": 8, "activation": "relu"}]}
    assert diagnose(rows(loss, loss, chance, chance), SPEC)[0].patch is None  # a real network: words only
    learning = [0.5 + 0.02 * i for i in range(n)]
    assert "underfitting" not in fired(rows(loss, loss, learning, learning), perceptron)


def test_patches_are_valid_specs_and_missing_spec_means_no_patch():
    from nnbuilder.teach.lessons import apply_patch

    bouncing = [1.0, 0.6, 0.4, 0.9, 0.3, 1.2, 0.35, 1.1, 0.4, 1.3, 0.5, 1.0, 0.45]
    for history, spec in ((rows(bouncing), SPEC),
                          (rows([0.69] * 24, [0.69] * 24, [0.5, 0.6] * 12, [0.5, 0.6] * 12), {**SPEC, "layers": []})):
        diagnosis = diagnose(history, spec)[0]
        parse_spec(apply_patch(spec, diagnosis.patch))  # raises on a bad patch
        assert diagnose(history, None)[0].patch is None
    assert isinstance(diagnose(rows(bouncing), SPEC)[0].to_dict(), dict)


def test_gan_and_empty_histories_are_left_alone():
    assert diagnose([]) == []
    gan = [{"epoch": i, "train_loss": v, "val_loss": 1.0, "generator_loss": v} for i, v in enumerate([0.7, 2, 0.3, 3] * 3)]
    assert diagnose(gan, SPEC) == []


def test_a_diverged_run_is_explained_with_a_tenth_of_the_learning_rate():
    error = "training diverged at epoch 3: the loss became nan (learning rate 10); lower the learning rate, e.g. to 1"
    found = explain_failure(error, {**SPEC, "training": {"learning_rate": 10.0}})
    assert isinstance(found, Diagnosis) and found.severity == "error" and found.what == error
    assert found.patch == {"training": {"learning_rate": 1.0}} and "overshoots" in found.why
    assert explain_failure("the device ran out of memory", SPEC) is None
    assert explain_failure(None) is None
    assert explain_failure(error).patch is None


def test_nan_losses_do_not_crash_the_rules():
    history = rows([0.7, 0.5, math.inf, math.nan])
    assert isinstance(diagnose(history, SPEC), list)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rules_ignore_histories_without_the_keys_they_need(rule):
    assert RULES[rule]([{"epoch": 1}], SPEC) is None
