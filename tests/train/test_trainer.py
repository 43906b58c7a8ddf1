"""The trainer learns, stops early, cancels, reports divergence and replays exactly with a seed."""

import threading

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes, make_moons
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split

from nnbuilder.model.compile import build_model
from nnbuilder.errors import TrainingError
from nnbuilder.evaluate.metrics import model_outputs
from nnbuilder.train.events import BatchProgress, EpochEnded, FitEnded, FitFailed, FitStarted
from nnbuilder.train.optim import OPTIMIZERS, SCHEDULES
from nnbuilder.spec.network import parse_spec
from nnbuilder.train.trainer import Trainer, resolve_device


def moons(n=600, seed=0):
    X, y = make_moons(n, noise=0.15, random_state=seed)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    cut1, cut2 = int(n * 0.7), int(n * 0.85)
    return X[:cut1], y[:cut1], X[cut1:cut2], y[cut1:cut2], X[cut2:], y[cut2:]


def fit(layers, training, task, data, n_outputs=2, **trainer_args):
    spec = parse_spec({"layers": layers, "training": training})
    torch.manual_seed(spec.training.seed)
    model = build_model(spec, (data[0].shape[1],), task, n_outputs)
    return Trainer(spec.training, task, **trainer_args).fit(model, *data[:4])


MLP = [{"type": "dense", "units": 32, "activation": "relu"}, {"type": "dense", "units": 16, "activation": "relu"}]


def test_learns_moons_above_095():
    data = moons()
    result = fit(MLP, {"epochs": 80, "learning_rate": 0.01, "early_stopping_patience": 0}, "binary", data)
    proba = model_outputs(result.model, data[4], "binary")
    assert accuracy_score(data[5], proba.argmax(1)) > 0.95
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_learns_diabetes_r2_above_04_like_linear_regression():
    X, y = load_diabetes(return_X_y=True)
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.25, random_state=1)
    X_train, X_val, y_train, y_val = train_test_split(X_fit, y_fit, test_size=0.15, random_state=1)
    mu, sigma = X_train.mean(0), X_train.std(0)
    scale = lambda a: ((a - mu) / sigma).astype(np.float32)  # noqa: E731
    mean, std = y_train.mean(), y_train.std()
    standard = lambda t: ((t - mean) / std).astype(np.float32).reshape(-1, 1)  # noqa: E731
    data = (scale(X_train), standard(y_train), scale(X_val), standard(y_val))
    result = fit([{"type": "dense", "units": 16}], {"epochs": 300, "learning_rate": 0.003, "weight_decay": 0.001,
                                                    "early_stopping_patience": 20}, "regression", data, n_outputs=1)
    predicted = model_outputs(result.model, scale(X_test), "regression")[:, 0] * std + mean
    oracle = r2_score(y_test, LinearRegression().fit(X_train, y_train).predict(X_test))
    assert r2_score(y_test, predicted) > 0.4
    assert r2_score(y_test, predicted) > oracle - 0.05


def test_multiclass_learns_and_history_has_named_metrics():
    X, y = make_moons(400, noise=0.1, random_state=1)
    y3 = np.where(X[:, 0] > 1.0, 2, y)  # a third class carved out of the right side
    X = X.astype(np.float32)
    result = fit(MLP, {"epochs": 40, "learning_rate": 0.01}, "multiclass", (X[:300], y3[:300], X[300:], y3[300:]), n_outputs=3)
    assert set(result.history[0]) == {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr", "seconds"}
    assert result.history[-1]["val_accuracy"] > 0.85


def test_early_stopping_restores_best_weights():
    data = moons(200)
    # A high learning rate on a tiny set overfits/oscillates, so validation loss stops improving early.
    result = fit([{"type": "dense", "units": 256}], {"epochs": 300, "learning_rate": 0.05, "early_stopping_patience": 5},
                 "binary", data)
    assert result.stop_reason == "early_stopped"
    assert len(result.history) == result.best_epoch + 5
    best = min(r["val_loss"] for r in result.history)
    assert result.history[result.best_epoch - 1]["val_loss"] == best
    X_val, y_val = torch.tensor(data[2]), torch.tensor(data[3]).float().unsqueeze(1)
    with torch.no_grad():
        restored = torch.nn.BCEWithLogitsLoss()(result.model.eval()(X_val), y_val).item()
    assert restored == pytest.approx(best, rel=1e-5)


def test_cancel_stops_within_a_batch_and_keeps_best_model():
    cancel = threading.Event()

    def stop_after_two_epochs(event):
        if isinstance(event, EpochEnded) and event.epoch == 2:
            cancel.set()

    result = fit(MLP, {"epochs": 50}, "binary", moons(), observers=[stop_after_two_epochs], cancel=cancel)
    assert result.stop_reason == "cancelled" and len(result.history) == 2 and result.best_epoch >= 1


def test_nan_divergence_stops_with_a_clear_message():
    X = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32) * 1000
    y = (X @ np.array([1.0, -2.0, 3.0], dtype=np.float32)).reshape(-1, 1)
    events = []
    with pytest.raises(TrainingError, match="diverged at epoch .*lower the learning rate"):
        fit([{"type": "dense", "units": 8}], {"optimizer": "sgd", "learning_rate": 10.0, "epochs": 50}, "regression",
            (X, y, X[:20], y[:20]), n_outputs=1, observers=[events.append])
    assert isinstance(events[-1], FitFailed) and "learning rate" in events[-1].message


def test_same_seed_same_history_other_seed_differs():
    data = moons(300)
    settings = {"epochs": 5, "seed": 7}
    runs = [fit(MLP + [{"type": "dropout", "rate": 0.2}], settings, "binary", data).history for _ in range(2)]
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(runs[0]) == strip(runs[1])
    other = fit(MLP, {"epochs": 5, "seed": 8}, "binary", data).history
    assert strip(other) != strip(runs[0])


def test_events_arrive_in_order():
    events = []
    fit(MLP, {"epochs": 3}, "binary", moons(300), observers=[events.append])
    kinds = [type(e) for e in events if not isinstance(e, BatchProgress)]
    assert kinds == [FitStarted, EpochEnded, EpochEnded, EpochEnded, FitEnded]
    assert events[0].metric == "accuracy" and events[0].parameters > 0 and events[-1].reason == "completed"


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_every_optimizer_and_schedule_trains(optimizer, schedule):
    result = fit(MLP, {"optimizer": optimizer, "lr_schedule": schedule, "epochs": 6, "learning_rate": 0.05},
                 "binary", moons(300))
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"] * 1.05
    if schedule in ("step", "cosine"):
        assert result.history[-1]["lr"] < 0.05


def test_l1_drives_weights_towards_zero():
    data = moons(300)
    settings = {"epochs": 30, "seed": 1, "learning_rate": 0.01}
    plain = fit([{"type": "dense", "units": 32}], settings, "binary", data)
    sparse = fit([{"type": "dense", "units": 32}], settings | {"l1": 0.01}, "binary", data)
    weight = lambda m: m[0][0].weight.abs().sum().item()  # noqa: E731
    assert weight(sparse.model) < 0.5 * weight(plain.model)


def test_training_without_validation_split_monitors_train_loss():
    X, y, *_ = moons(200)
    spec = parse_spec({"layers": MLP, "training": {"epochs": 4}})
    result = Trainer(spec.training, "binary").fit(build_model(spec, (2,), "binary", 2), X, y)
    assert result.history[-1]["val_loss"] is None and result.best_epoch >= 1


def test_device_resolution():
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    assert resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError, match="no CUDA GPU is available"):
            resolve_device("cuda")
    with pytest.raises(TrainingError, match="device must be one of"):
        resolve_device("tpu")
