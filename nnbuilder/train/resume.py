"""A fit that can stop and go on: what a checkpoint holds, and the callback that continues from one.

"The same final metric as an uninterrupted run of the same seed" needs every piece of state the next epoch
reads, not only the weights: the current weights (the best ones alone would retrain from an older point),
the best weights and epoch (the model the fit returns), the optimizer's moments and step counts (Adam's
first steps after a reset are large and move the weights elsewhere), the learning-rate schedule's
position, early stopping's count of stale epochs, the permutations' generator (the order of the next
epoch's batches) and torch's global generator (dropout masks). With all of them a resumed fit on the CPU
repeats the uninterrupted one bit for bit, because the same operations run on the same numbers in the same
order; on a GPU, kernels that sum with atomics are not bit-reproducible run to run, so there the metrics
agree only within that noise, as two uninterrupted GPU runs do.

The file is one safetensors file (so weights and state are replaced together, atomically): tensors under
prefixes (`model.`, `best.`, `optim.`, `rng.`) and the rest as JSON in its metadata. No pickle anywhere:
a checkpoint from a shared data folder is data, never code.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from nnbuilder.errors import TrainingError
from nnbuilder.train.callbacks import BestWeights, Callback, EarlyStopping, LearningRateSchedules

FORMAT = 1
META_KEY = "nnbuilder.resume"  # the JSON's key in the safetensors metadata


@dataclass
class ResumeState:
    """A checkpoint read back: `tensors` by prefixed name, `meta` the JSON part."""

    tensors: dict[str, torch.Tensor]
    meta: dict

    @property
    def epoch(self) -> int:
        return self.meta["epoch"]

    def weights(self, which: str = "best") -> dict[str, torch.Tensor]:
        """The model's `which` ("best" or "model": the current) weights, names as in its state_dict."""
        prefix = f"{which}."
        return {name[len(prefix):]: value for name, value in self.tensors.items() if name.startswith(prefix)}


def _find(state, kind):
    return next((c for c in state.callbacks if isinstance(c, kind)), None)


def _plain(value):
    """JSON for what a history row or a state_dict holds (numpy and 0-d tensor scalars become numbers)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def capture(state) -> ResumeState:
    """Everything a continued fit needs, taken between epochs (after every callback's on_epoch_end)."""
    tensors = {f"model.{k}": v for k, v in state.model.state_dict().items()}
    best = _find(state, BestWeights)
    if best is not None and best.state_dict is not None:
        tensors |= {f"best.{k}": v for k, v in best.state_dict.items()}
    optimizers = []
    for i, optimizer in enumerate(state.optimizers):
        saved = optimizer.state_dict()
        scalars = {}
        for pid, values in saved["state"].items():
            for key, value in values.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optim.{i}.{pid}.{key}"] = value
                else:
                    scalars.setdefault(str(pid), {})[key] = value
        optimizers.append({"param_groups": saved["param_groups"], "scalars": scalars})
    if state.permutations is not None:
        tensors["rng.permutations"] = state.permutations.get_state()
    tensors["rng.cpu"] = torch.get_rng_state()
    if state.device.startswith("cuda"):
        tensors["rng.cuda"] = torch.cuda.get_rng_state(state.device)
    schedules = _find(state, LearningRateSchedules)
    stopping = _find(state, EarlyStopping)
    meta = {"format": FORMAT, "epoch": len(state.history), "history": state.history,
            "best_epoch": state.best_epoch, "best_monitored": state.best_monitored,
            "improved": state.improved, "monitored": state.monitored,
            "stale": stopping.stale if stopping is not None else 0,
            # An early stop is the fit's own end and holds on resume; a cancel (the reason a fit was
            # interrupted) is not kept, or the resumed fit would stop at once.
            "early_stopped": state.stop_reason == "early_stopped",
            "optimizers": optimizers,
            "schedules": [s.state_dict() for s in schedules.schedulers] if schedules is not None else []}
    return ResumeState(tensors, meta)


def write_checkpoint(saved: ResumeState, path: Path) -> None:
    """`saved` as one safetensors file at `path`, written beside it and renamed over it: a reader (or a
    resume after a crash mid-write) sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # clone(): safetensors refuses tensors that share memory (tied weights); a copy per name is always valid.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in saved.tensors.items()}
    metadata = {META_KEY: json.dumps(saved.meta, default=_plain)}
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        save_file(tensors, temporary, metadata=metadata)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_checkpoint(path: str | Path) -> ResumeState:
    """A checkpoint written by `write_checkpoint`; a TrainingError that says why when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"the checkpoint file {path} is missing; the run cannot be resumed")
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta_text = (handle.metadata() or {}).get(META_KEY)
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    except Exception as err:  # safetensors raises its own error types for a damaged file
        raise TrainingError(f"the checkpoint file {path} cannot be read ({err}); the run cannot be resumed") from None
    if meta_text is None:
        raise TrainingError(f"the checkpoint file {path} holds weights only, not a resumable fit")
    meta = json.loads(meta_text)
    if meta.get("format") != FORMAT:
        raise TrainingError(f"the checkpoint file {path} has format {meta.get('format')}; this version reads {FORMAT}")
    return ResumeState(tensors, meta)


class ResumeFrom(Callback):
    """Puts a fit back where `saved` left it, in on_fit_start: the trainer then runs epochs saved.epoch+1
    onwards with the history carried over. FitStarted still announces the planned epochs; EpochEnded comes
    for the new epochs only (the earlier ones were reported by the fit that stopped)."""

    def __init__(self, saved: ResumeState):
        self.saved = saved

    def on_fit_start(self, state) -> None:
        saved, meta = self.saved, self.saved.meta
        if meta["epoch"] > state.epochs:
            raise TrainingError(f"the checkpoint is from epoch {meta['epoch']} but the run plans {state.epochs}")
        device = next(state.model.parameters()).device
        try:
            state.model.load_state_dict(saved.weights("model"))
        except RuntimeError as err:
            raise TrainingError(f"the checkpoint does not fit this network ({str(err).splitlines()[0]})") from None
        best = _find(state, BestWeights)
        if best is not None and saved.weights("best"):
            best.state_dict = {k: v.to(device) for k, v in saved.weights("best").items()}
        for i, (optimizer, kept) in enumerate(zip(state.optimizers, meta["optimizers"])):
            values: dict = {}
            for name, tensor in saved.tensors.items():
                if name.startswith(f"optim.{i}."):
                    _, _, pid, key = name.split(".", 3)
                    values.setdefault(int(pid), {})[key] = tensor
            for pid, scalars in kept["scalars"].items():
                values.setdefault(int(pid), {}).update(scalars)
            # load_state_dict moves the moments to the parameters' device and keeps `step` where it was saved
            # (on the CPU), as the optimizer itself keeps it.
            optimizer.load_state_dict({"state": values, "param_groups": kept["param_groups"]})
        schedules = _find(state, LearningRateSchedules)
        if schedules is not None:
            for scheduler, kept in zip(schedules.schedulers, meta["schedules"]):
                scheduler.load_state_dict(kept)
        stopping = _find(state, EarlyStopping)
        if stopping is not None:
            stopping.stale = meta["stale"]
        if state.permutations is not None and "rng.permutations" in saved.tensors:
            state.permutations.set_state(saved.tensors["rng.permutations"])
        torch.set_rng_state(saved.tensors["rng.cpu"])
        if "rng.cuda" in saved.tensors and state.device.startswith("cuda"):
            torch.cuda.set_rng_state(saved.tensors["rng.cuda"], state.device)
        state.epoch, state.history = meta["epoch"], list(meta["history"])
        # The clock starts as far back as the earlier epochs took, so the fit's training time and rows per
        # second cover the whole run, not only the part trained after the resume.
        state.started -= sum(row.get("seconds") or 0.0 for row in state.history)
        state.best_epoch, state.best_monitored = meta["best_epoch"], float(meta["best_monitored"])
        state.improved, state.monitored = bool(meta["improved"]), float(meta.get("monitored", math.nan))
        if meta["early_stopped"]:
            state.stop("early_stopped")  # the loop then runs no epoch and the fit ends as it had
