"""Report metrics against hand computations and scikit-learn on known inputs."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from nnbuilder.evaluate.metrics import classification_report, evaluate, regression_report


def test_binary_report_matches_hand_counts():
    y = np.array([0, 0, 1, 1, 1, 0])
    p1 = np.array([0.1, 0.6, 0.8, 0.4, 0.9, 0.2])
    report = classification_report(y, np.stack([1 - p1, p1], 1), ["no", "yes"])
    m = report.metrics
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p1))
    expected_log_loss = -np.mean(np.where(y == 1, np.log(p1), np.log(1 - p1)))
    assert m["log_loss"] == pytest.approx(expected_log_loss)
    assert report.details["confusion_matrix"] == [[2, 1], [1, 2]]
    assert report.details["per_class"][1] == {"class": "yes", "precision": pytest.approx(2 / 3),
                                              "recall": pytest.approx(2 / 3), "f1": pytest.approx(2 / 3), "support": 3}
    assert len(report.details["roc_curves"]) == 1 and report.details["roc_curves"][0]["class"] == "yes"


def test_multiclass_report_one_vs_rest():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    logits = rng.normal(size=(60, 3)) + np.eye(3)[y] * 2
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    report = classification_report(y, proba, ["a", "b", "c"])
    assert report.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr"))
    assert report.metrics["accuracy"] == pytest.approx(np.mean(proba.argmax(1) == y))
    assert np.array(report.details["confusion_matrix"]).sum() == 60
    assert [c["class"] for c in report.details["roc_curves"]] == ["a", "b", "c"]


def test_roc_auc_is_none_when_a_class_is_absent():
    proba = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    report = classification_report(np.array([0, 2]), proba, ["a", "b", "c"])
    assert report.metrics["roc_auc"] is None
    single = classification_report(np.array([1, 1]), np.array([[0.3, 0.7], [0.4, 0.6]]), ["n", "y"])
    assert single.metrics["roc_auc"] is None and single.metrics["accuracy"] == 1.0


def test_regression_report_in_original_units():
    actual = np.array([[1.0], [2.0], [3.0], [4.0]])
    predicted = np.array([[1.5], [2.0], [2.5], [4.0]])
    m = regression_report(actual, predicted).metrics
    assert m["mae"] == pytest.approx(0.25)
    assert m["rmse"] == pytest.approx(np.sqrt(0.125))
    assert m["r2"] == pytest.approx(1 - 0.5 / 5.0)


def test_evaluate_undoes_target_standardisation():
    model = torch.nn.Sequential(torch.nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.zero_()
    X = np.array([[0.0], [1.0], [-1.0]], dtype=np.float32)
    y_std = X.copy()  # perfect predictions in standardised units
    result = evaluate(model, X, y_std, "regression", target_mean=np.array([100.0]), target_std=np.array([10.0]))
    assert result.metrics["rmse"] == pytest.approx(0.0, abs=1e-5)
    assert result.details["actual"] == [[100.0], [110.0], [90.0]]


def test_empty_split_reports_zero_rows():
    model = torch.nn.Linear(2, 1)
    assert evaluate(model, np.zeros((0, 2), np.float32), np.zeros(0), "binary").metrics == {"n": 0}
