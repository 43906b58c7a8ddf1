"""Looking inside a network while it trains: probes, registered by name, run between epochs on a time budget.

A probe is made for one training run from the spec and the prepared data (`PROBES[name](spec, prepared)`,
None when it does not apply, e.g. a decision boundary for a sequence model) and then asked, between
epochs, to `collect(model, epoch, record)`: it returns small JSON-able data (a probability grid, neuron
maps, histograms ...) that the trainer hands to observers as a `ViewsCollected` event. The app's job
registry keeps the latest views for the Train page; the CLI asks for none.

Why a budget: views must not slow training down noticeably (the issue allows 10 %). `ProbeRunner` runs
the probes after the first epoch, then only while the time spent on them stays under `budget` × the
training time so far, and always once more on the final model. Probes run in eval mode with the random
number generator forked, so a run gives the same weights with or without them.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Protocol, Sequence

import torch
from threadpoolctl import threadpool_limits
from torch import nn

logger = logging.getLogger(__name__)
DEFAULT_BUDGET = 0.06  # share of training time the views may take (the issue allows a 10 % slowdown in all)


class Probe(Protocol):
    name: str

    def collect(self, model: nn.Module, epoch: int, record: dict) -> Any:
        """JSON-able data about `model` now; `record` is the epoch's history row. May keep its own history."""


ProbeFactory = Callable[[Any, Any], "Probe | None"]  # (NetworkSpec, PreparedData) -> probe or None
PROBES: dict[str, ProbeFactory] = {}


def register_probe(name: str, factory: ProbeFactory) -> ProbeFactory:
    if name in PROBES:
        raise ValueError(f"probe {name!r} is registered twice")
    PROBES[name] = factory
    return factory


def make_probes(names: Sequence[str], spec, prepared) -> list[Probe]:
    """The probes among `names` that apply to this run ('all' = every registered one).

    Only registered probes exist: the views sit above training, so they register themselves when the
    nnbuilder.views package is imported (whoever creates a run imports it), never the other way round."""
    chosen = list(PROBES) if list(names) == ["all"] else list(names)
    unknown = [n for n in chosen if n not in PROBES]
    if unknown:
        raise ValueError(f"unknown probe(s) {unknown}; registered: {sorted(PROBES)}")
    with threadpool_limits(limits=1):  # see ProbeRunner.collect
        probes = [PROBES[name](spec, prepared) for name in chosen]
    return [p for p in probes if p is not None]


class ProbeRunner:
    """Runs the probes between epochs while their total time stays within `budget` × training time."""

    def __init__(self, probes: Sequence[Probe], budget: float = DEFAULT_BUDGET):
        self.probes, self.budget = list(probes), budget
        self.spent = 0.0  # seconds spent in probes
        self.last_cost = 0.0  # seconds the last collection took
        self.runs = 0

    def due(self, training_seconds: float) -> bool:
        if not self.probes:
            return False
        # 2 × the last cost: this collection, and room for the final one on the returned model
        return self.runs == 0 or self.spent + 2 * self.last_cost <= self.budget * training_seconds

    def collect(self, model: nn.Module, epoch: int, record: dict) -> dict[str, Any]:
        start = time.perf_counter()
        was_training = model.training
        model.eval()
        views = {}
        # One BLAS thread: numpy's thread pool spins for a while after each call and would take the cores
        # from the training that follows (measured: +5 % on a 2-core machine with a PCA plane).
        with torch.random.fork_rng(devices=[]), threadpool_limits(limits=1):  # randomness never changes the run
            for probe in list(self.probes):
                try:
                    views[probe.name] = probe.collect(model, epoch, record)
                except Exception:  # a view is a bonus: a bug in one must never cost the user their run
                    logger.exception("view %r failed at epoch %d and is switched off for this run", probe.name, epoch)
                    self.probes.remove(probe)
        model.train(was_training)
        self.last_cost = time.perf_counter() - start
        self.spent += self.last_cost
        self.runs += 1
        return views

