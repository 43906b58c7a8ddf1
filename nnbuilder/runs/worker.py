"""Running one run from the run store: what a worker process does with a run it claimed (DESIGN rule 5).

`execute` claims a queued run, reads its spec and table, trains it, and writes everything back to the store:
each epoch's history row as it ends, the latest views (at most once a second), the best weights so far as a
checkpoint file at each improvement, and at the end the bundle and metrics, or the reason it stopped.

Nothing here keeps state between runs, so the same call serves a local worker process (nnbuilder.runs.pool),
a test in one process, and later a Ray task.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Sequence


from nnbuilder.bundle.bundle import save_bundle
from nnbuilder.bundle.files import plain
from nnbuilder.errors import NNBuilderError, RunStoreError
from nnbuilder.runs.config import data_home
from nnbuilder.runs.store import Run, RunStore
from nnbuilder.runs.tables import get_table
from nnbuilder.runs.workflow import train_from_spec
from nnbuilder.spec.network import parse_spec
from nnbuilder.train.callbacks import Callback
from nnbuilder.train.events import EpochEnded, Observer, ViewsCollected
from nnbuilder.train.resume import ResumeFrom, capture, read_checkpoint, write_checkpoint
from nnbuilder.train.trainer import resolve_device

VIEWS_EVERY_S = 1.0  # the latest views at most this often: each is a whole payload rewritten in the store
CANCEL_POLL_S = 0.5  # the store is asked about a cancel at most this often (a read per poll, not per batch)
BUNDLES_FOLDER = "bundles"
CHECKPOINTS_FOLDER = "checkpoints"

logger = logging.getLogger(__name__)


def first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


class StoreWriter:
    """The observer that writes a run's progress into the store: every history row, the views now and then
    (always the final ones, which show the model the run returns)."""

    def __init__(self, store: RunStore, run_id: str, views_every_s: float = VIEWS_EVERY_S):
        self.store, self.run_id, self.views_every_s = store, run_id, views_every_s
        self.last_views = -float("inf")

    def __call__(self, event) -> None:
        if isinstance(event, EpochEnded):
            self.store.append_epoch(self.run_id, json.loads(json.dumps(dict(event.record), default=plain)))
        elif isinstance(event, ViewsCollected):
            now = time.monotonic()
            if event.final or now - self.last_views >= self.views_every_s:
                self.last_views = now
                payload = json.loads(json.dumps(dict(event.views), default=plain))
                self.store.set_views(self.run_id, event.epoch, payload)


class StoreCancel(Callback):
    """Bridges the store's cancel flag (set by any process) and a worker's shutdown to the trainer's cancel
    event. The store is read at most every `poll_s`, so a fast epoch of many small batches costs few reads."""

    def __init__(self, store: RunStore, run_id: str, flag: threading.Event,
                 stopping: threading.Event | None = None, poll_s: float = CANCEL_POLL_S):
        self.store, self.run_id, self.flag, self.stopping, self.poll_s = store, run_id, flag, stopping, poll_s
        self.last_poll = -float("inf")

    def on_epoch_start(self, state) -> None:
        self._check(state)

    def on_batch_end(self, state, batch: int, n_batches: int) -> None:
        self._check(state)

    def _check(self, state) -> None:
        if not self.flag.is_set() and self.stopping is not None and self.stopping.is_set():
            self.flag.set()
        now = time.monotonic()
        if not self.flag.is_set() and now - self.last_poll >= self.poll_s:
            self.last_poll = now
            if self.store.cancel_requested(self.run_id):
                self.flag.set()
        if self.flag.is_set():
            state.stop("cancelled")  # at once, not one batch later when the trainer's own check sees the flag


class Checkpoint(Callback):
    """Keeps a resumable checkpoint of the fit (nnbuilder.train.resume) in one file and records it in the
    store, so a run whose process stops keeps its best model and can go on where it was.

    Written after each improvement and when a stop is asked for between epochs. Not in on_epoch_end: this
    callback runs before the schedules, best weights and early stopping have taken in the epoch, so the
    state is complete only at the next on_epoch_start (or, after the last epoch, at on_fit_end). A stop
    asked for mid-epoch writes nothing: the weights are then half an epoch on, and the permutation half
    used; the run resumes from the last checkpoint and repeats the epochs after it, which on the same
    device gives the same numbers again (the store's rows for those epochs are replaced)."""

    def __init__(self, store: RunStore, run_id: str, path: Path):
        self.store, self.run_id, self.path = store, run_id, path
        self.due = False  # the last epoch improved and is not written yet

    def on_epoch_end(self, state, record: dict) -> None:
        self.due = state.improved

    def on_epoch_start(self, state) -> None:
        if state.history and (self.due or state.stop_reason):  # StoreCancel, earlier in the list, may have stopped it
            self._write(state)

    def on_fit_end(self, state) -> None:
        # The fit ended at an epoch's end (completed or early-stopped): the best weights are back in the model,
        # and with the stop reason kept a resume of this file trains nothing more.
        if self.due and state.stop_reason in (None, "early_stopped"):
            self._write(state)

    def _write(self, state) -> None:
        self.due = False
        saved = capture(state)
        write_checkpoint(saved, self.path)
        self.store.set_checkpoint(self.run_id, str(self.path), saved.epoch)


def run_files(run_id: str, home: Path | None = None) -> tuple[Path, Path]:
    """(bundle folder, checkpoint file) of a run in the data folder."""
    home = home or data_home()
    return home / BUNDLES_FOLDER / run_id, home / CHECKPOINTS_FOLDER / f"{run_id}.safetensors"


def execute(store: RunStore, run_id: str, worker: str, *, home: Path | None = None, device: str = "auto",
            views: Sequence[str] = ("all",), stopping: threading.Event | None = None,
            observers: Sequence[Observer] = ()) -> Run | None:
    """Claim the queued run `run_id` for `worker` ("host:pid"), train it and record how it ended; the run as
    it ended, or None when it was not ours to run (another worker claimed it, or it was cancelled).

    `stopping` set (the worker was told to quit) ends the fit at its next batch and leaves the run
    interrupted, with its checkpoint to resume from. `observers` see the fit's events besides the store's
    writer (the CLI's progress line for `nnbuilder resume`). Never raises for a run's own failure: the store says it.
    """
    try:
        device_name = str(resolve_device(device))
    except NNBuilderError:
        device_name = device  # the fit below fails with the reason, recorded on the run
    if store.claim(run_id, worker, device_name) is None:
        return None
    try:
        return _train(store, store.get(run_id), home, device, views, stopping, observers)
    except NNBuilderError as err:
        return _ended(store, run_id, "fail", first_line(str(err)) or type(err).__name__)
    except Exception as err:  # a bug, not bad input: the traceback goes to the log, one line to the user
        logger.exception("run %s crashed in worker %s", run_id, worker)
        return _ended(store, run_id, "fail", f"internal error: {type(err).__name__}: {first_line(str(err))}")


def _train(store: RunStore, run: Run, home: Path | None, device: str, views: Sequence[str],
           stopping: threading.Event | None, observers: Sequence[Observer] = ()) -> Run:
    bundle_path, checkpoint_path = run_files(run.id, home)
    spec = parse_spec(json.loads(run.spec))
    df = get_table(run.data_fingerprint, home)
    cancel = threading.Event()
    # A run with a checkpoint was interrupted and queued again: it goes on from there (read before the fit,
    # so a missing or damaged file fails the run with its reason instead of silently starting over).
    resume = [ResumeFrom(read_checkpoint(run.checkpoint_path))] if run.checkpoint_path else []
    trained = train_from_spec(df, spec, device=device, observers=[StoreWriter(store, run.id), *observers],
                              cancel=cancel, views=views, callbacks=[StoreCancel(store, run.id, cancel, stopping), *resume,
                                                      Checkpoint(store, run.id, checkpoint_path)])
    summary = json.loads(json.dumps(trained.summary(), default=plain))
    if trained.fit.stop_reason == "cancelled":
        if stopping is not None and stopping.is_set():
            epoch = store.get(run.id).checkpoint_epoch
            kept = f"its checkpoint after epoch {epoch} is kept" if epoch else "no epoch had ended"
            reason = f"the worker running it was stopped (server shutdown); {kept}; resume it to go on"
            store.mark_interrupted([run.id], reason=reason)  # a no-op when the run already ended otherwise
            return store.get(run.id)
        if not trained.fit.history:
            return _ended(store, run.id, "mark_cancelled")
        # Stopped by its owner after some epochs: keep a usable bundle of the best weights, as the app's
        # Stop button does today; a student who stops a slow run still gets the model it had reached.
        save_bundle(trained, bundle_path)
        return _ended(store, run.id, "mark_cancelled", summary, str(bundle_path))
    save_bundle(trained, bundle_path)
    return _ended(store, run.id, "finish", summary, str(bundle_path))


def _ended(store: RunStore, run_id: str, change: str, *args) -> Run:
    """Record how the run ended; when it already ended otherwise (an admin cancelled a queued-then-claimed
    run, a supervisor marked it), the store's state stands and the refusal is logged, not raised."""
    try:
        return getattr(store, change)(run_id, *args)
    except RunStoreError as err:
        logger.warning("run %s: could not record its end (%s): %s", run_id, change, err)
        return store.get(run_id)
