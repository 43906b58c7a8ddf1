"""The engine's resume without a run store: a fit captured between epochs and stopped, then a new fit started
from that capture, returns the same history and weights as one fit straight through (CPU: exact)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import make_moons

from nnbuilder.runs.workflow import train_from_spec
from nnbuilder.spec.network import parse_spec
from nnbuilder.train.callbacks import Callback
from nnbuilder.train.resume import ResumeFrom, capture, read_checkpoint, write_checkpoint

SPEC = parse_spec({"version": 1, "data": {"target": "label"},
                   "layers": [{"type": "dense", "units": 16}, {"type": "dropout", "rate": 0.3}],
                   "training": {"epochs": 7, "batch_size": 8, "learning_rate": 0.02, "seed": 11,
                                "optimizer": "sgd", "momentum": 0.9, "lr_schedule": "step"}})


def table() -> pd.DataFrame:
    X, y = make_moons(n_samples=160, noise=0.25, random_state=1)
    return pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "label": np.where(y == 1, "b", "a")})


class CaptureAndStop(Callback):
    def __init__(self, after: int, path):
        self.after, self.path = after, path

    def on_epoch_start(self, state) -> None:
        if len(state.history) == self.after:
            write_checkpoint(capture(state), self.path)
            state.stop("cancelled")


def _rows(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_a_fit_resumed_from_a_capture_repeats_the_straight_fit(tmp_path):
    straight = train_from_spec(table(), SPEC, device="cpu")
    path = tmp_path / "fit.safetensors"
    first = train_from_spec(table(), SPEC, device="cpu", callbacks=[CaptureAndStop(3, path)])
    assert first.fit.stop_reason == "cancelled" and len(first.fit.history) == 3
    saved = read_checkpoint(path)
    assert saved.epoch == 3 and saved.meta["history"] == first.fit.history
    resumed = train_from_spec(table(), SPEC, device="cpu", callbacks=[ResumeFrom(saved)])
    assert _rows(resumed.fit.history) == _rows(straight.fit.history)
    assert resumed.fit.best_epoch == straight.fit.best_epoch
    for name, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name


def test_a_checkpoint_that_cannot_be_used_says_why_in_one_line(tmp_path):
    import pytest
    from safetensors.torch import save_file

    from nnbuilder.errors import TrainingError

    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"\x00\x01 not a safetensors file")
    weights_only = tmp_path / "weights.safetensors"
    save_file({"weight": torch.zeros(2, 2)}, str(weights_only))
    for path, fragment in [(tmp_path / "gone.safetensors", "is missing"), (damaged, "cannot be read"),
                           (weights_only, "weights only")]:
        with pytest.raises(TrainingError, match=fragment) as caught:
            read_checkpoint(path)
        assert "\n" not in str(caught.value)
