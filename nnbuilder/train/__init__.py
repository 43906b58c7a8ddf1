"""The training loop and what plugs into it.

    trainer.py     Trainer.fit: data resident on the device, index-sliced batches, callbacks, events out
    step.py        one batch's update and one epoch's history row (SupervisedStep; a task may bring its own)
    callbacks.py   no-op hooks; progress, cancel, probes, schedules, best weights, early stopping
    events.py      the immutable records observers receive
    fast_metrics.py, optim.py, probes.py  per-epoch metrics, optimizers and schedules, views between epochs
"""

from nnbuilder.train.callbacks import Callback
from nnbuilder.train.events import (BatchProgress, EpochEnded, FitEnded, FitFailed, FitStarted, Observer,
                                    ViewsCollected)
from nnbuilder.train.fast_metrics import forward_chunks
from nnbuilder.train.optim import OPTIMIZERS, SCHEDULES, USES_MOMENTUM, make_optimizer
from nnbuilder.train.probes import DEFAULT_BUDGET, make_probes, register_probe
from nnbuilder.train.step import FitStep, Split, SupervisedStep, diverged, with_l1
from nnbuilder.train.trainer import FitResult, Trainer, resolve_device

__all__ = ["DEFAULT_BUDGET", "OPTIMIZERS", "SCHEDULES", "USES_MOMENTUM", "BatchProgress", "Callback", "EpochEnded",
           "FitEnded", "FitFailed", "FitResult", "FitStarted", "FitStep", "Observer", "Split", "SupervisedStep",
           "Trainer", "ViewsCollected", "diverged", "forward_chunks", "make_optimizer", "make_probes",
           "register_probe", "resolve_device", "with_l1"]
