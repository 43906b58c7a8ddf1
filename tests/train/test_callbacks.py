"""Trainer callbacks: hooks in order with the right epochs, a callback can stop the fit, the built-ins
(early stopping, best weights, cancel, progress events) keep the trainer's behaviour."""

import math
import threading

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons

from nnbuilder.model.compile import build_model
from nnbuilder.spec.network import parse_spec
from nnbuilder.train.callbacks import Callback, EarlyStopping, overrides
from nnbuilder.train.events import EpochEnded, FitEnded
from nnbuilder.train.trainer import Trainer

MLP = [{"type": "dense", "units": 16, "activation": "relu"}]


def moons(n=300, seed=0):
    X, y = make_moons(n, noise=0.2, random_state=seed)
    X = X.astype(np.float32)
    cut = int(n * 0.8)
    return X[:cut], y[:cut], X[cut:], y[cut:]


def fit(training, data=None, **trainer_args):
    spec = parse_spec({"layers": MLP, "training": training})
    torch.manual_seed(spec.training.seed)
    model = build_model(spec, (2,), "binary", 2)
    return Trainer(spec.training, "binary", **trainer_args).fit(model, *(data or moons()))


class Recorder(Callback):
    """Writes down every hook call, with the epoch the state says is running."""

    def __init__(self):
        self.calls = []

    def on_fit_start(self, state):
        self.calls.append(("fit_start", state.epoch))

    def on_epoch_start(self, state):
        self.calls.append(("epoch_start", state.epoch))

    def on_batch_end(self, state, batch, n_batches):
        self.calls.append(("batch_end", state.epoch, batch, n_batches))

    def on_epoch_end(self, state, record):
        self.calls.append(("epoch_end", state.epoch, record["epoch"], len(state.history)))

    def on_fit_end(self, state):
        self.calls.append(("fit_end", state.stop_reason, len(state.history)))


def test_hooks_are_called_in_order_with_the_right_epochs():
    recorder = Recorder()
    result = fit({"epochs": 3, "batch_size": 100, "early_stopping_patience": 0}, callbacks=[recorder])
    n_batches = math.ceil(240 / 100)  # 240 training rows in batches of 100: 3 batches, the last one short
    expected = [("fit_start", 0)]
    for epoch in (1, 2, 3):
        expected.append(("epoch_start", epoch))
        expected += [("batch_end", epoch, batch, n_batches) for batch in range(1, n_batches + 1)]
        expected.append(("epoch_end", epoch, epoch, epoch))
    expected.append(("fit_end", None, 3))  # no stop was asked for: the trainer calls it "completed"
    assert recorder.calls == expected
    assert result.stop_reason == "completed" and len(result.history) == 3


def test_a_callback_can_stop_the_fit_after_an_epoch():
    class StopAtThree(Callback):
        def on_epoch_end(self, state, record):
            if state.epoch == 3:
                state.stop("budget_spent")

    events = []
    result = fit({"epochs": 50, "early_stopping_patience": 0}, callbacks=[StopAtThree()], observers=[events.append])
    assert result.stop_reason == "budget_spent" and len(result.history) == 3
    assert isinstance(events[-1], FitEnded) and events[-1].reason == "budget_spent" and events[-1].epochs_run == 3


def test_a_stop_between_batches_drops_the_unfinished_epoch():
    class StopMidEpoch(Callback):
        def on_batch_end(self, state, batch, n_batches):
            if state.epoch == 2 and batch == 1:
                state.stop("enough")

    result = fit({"epochs": 10, "batch_size": 50, "early_stopping_patience": 0}, callbacks=[StopMidEpoch()])
    assert result.stop_reason == "enough" and [r["epoch"] for r in result.history] == [1]


def test_the_first_stop_reason_holds():
    class StopWith(Callback):
        def __init__(self, reason):
            self.reason = reason

        def on_epoch_end(self, state, record):
            state.stop(self.reason)

    result = fit({"epochs": 10, "early_stopping_patience": 0}, callbacks=[StopWith("first"), StopWith("second")])
    assert result.stop_reason == "first" and len(result.history) == 1


def test_callbacks_see_the_returned_model_at_the_end():
    seen = {}

    class ValLossAtEnd(Callback):
        def on_fit_end(self, state):
            X_val, y_val = torch.tensor(data[2]), torch.tensor(data[3]).float().unsqueeze(1)
            with torch.no_grad():
                seen["val_loss"] = torch.nn.BCEWithLogitsLoss()(state.model.eval()(X_val), y_val).item()
            seen["best_epoch"] = state.best_epoch

    data = moons(200)
    result = fit({"epochs": 300, "learning_rate": 0.05, "early_stopping_patience": 5}, data,
                 callbacks=[ValLossAtEnd()])
    assert result.stop_reason == "early_stopped" and seen["best_epoch"] == result.best_epoch
    best = min(r["val_loss"] for r in result.history)
    assert seen["val_loss"] == pytest.approx(best, rel=1e-5)  # best weights were back before the caller's hook


def test_early_stopping_counts_epochs_without_improvement():
    class Scripted:  # a state whose monitored value the test decides
        improved = False
        stop_reason = None

        def stop(self, reason):
            self.stop_reason = reason

    state, stopper = Scripted(), EarlyStopping(patience=3)
    for improved in (True, False, False, True, False, False):
        state.improved = improved
        stopper.on_epoch_end(state, {})
        assert state.stop_reason is None
    state.improved = False
    stopper.on_epoch_end(state, {})
    assert state.stop_reason == "early_stopped"


def test_cancel_set_before_an_epoch_runs_no_batch_of_it():
    cancel, recorder = threading.Event(), Recorder()

    def cancel_after_first_epoch(event):
        if isinstance(event, EpochEnded):
            cancel.set()

    result = fit({"epochs": 5, "batch_size": 100}, observers=[cancel_after_first_epoch], cancel=cancel,
                 callbacks=[recorder])
    assert result.stop_reason == "cancelled" and len(result.history) == 1
    assert not [c for c in recorder.calls if c[0] == "batch_end" and c[1] == 2]
    assert recorder.calls[-1] == ("fit_end", "cancelled", 1)


def test_only_overridden_batch_hooks_count():
    class EpochOnly(Callback):
        def on_epoch_end(self, state, record):
            pass

    assert not overrides(EpochOnly(), "on_batch_end") and overrides(EpochOnly(), "on_epoch_end")
    assert overrides(Recorder(), "on_batch_end")
