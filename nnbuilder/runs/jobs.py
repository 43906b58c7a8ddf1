"""The training job registry: background workers the web app polls, never the other way round.

Streamlit reruns a page script on every click, page switch and refresh, so a
training run cannot live inside a script run. The app keeps one `JobRegistry`
per server process (through `st.cache_resource`); workers only record trainer
events into their job, and pages render `snapshot()` copies once a second.

One lock guards every job. At most `max_running` jobs train at once (on a
small server more threads only slow each other down); the rest wait in a FIFO
queue whose position the page shows. A worker thread is started only when a
slot is free, so nothing here sleeps or polls, and a job cancelled while
queued never starts. Finished jobs are dropped after `keep_finished_s`, since
each one holds a trained model and its prepared data. `nnbuilder.runs.workflow.training_work`
makes the work for a training run; the registry itself runs any work and never imports torch.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Literal, Mapping

from nnbuilder.errors import NNBuilderError
from nnbuilder.runs.config import count_setting
from nnbuilder.train.events import BatchProgress, EpochEnded, FitStarted, Observer, ViewsCollected

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
Work = Callable[[list[Observer], threading.Event], object]

MAX_JOBS_ENV = "NNBUILDER_MAX_JOBS"
DEFAULT_MAX_RUNNING = 2  # one job per core on the 2-core classroom server
# Besides the age limit: a busy owner's finished jobs (each holding a model and its data) stay bounded too.
MAX_FINISHED_PER_OWNER = 20
FINISHED: frozenset[str] = frozenset({"done", "failed", "cancelled"})

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSnapshot:
    """An immutable copy for rendering; shares no mutable state with the worker."""

    id: str  # uuid4 hex: unguessable, so knowing it is what lets a refreshed page reattach
    owner: str
    label: str
    status: JobStatus
    queue_position: int | None  # 1-based while queued, else None
    epoch: int  # epochs finished (0 before the first one ends)
    epochs: int
    batch: int  # batches done in the epoch under way
    n_batches: int
    history: tuple[dict, ...]  # EpochEnded records so far (copies)
    metric: str | None  # "accuracy" or "r2", known once the fit starts
    device: str | None
    elapsed_s: float  # time spent running (0 while queued)
    eta_s: float | None  # time left, estimated from the epochs done
    error: str | None
    result: object | None  # what the work returned (a TrainedModel), when done or cancelled
    submitted_at: float  # wall-clock seconds (time.time())
    finished_at: float | None
    views: Mapping[str, Any] = field(default_factory=dict)  # latest probe data (nnbuilder.train.probes), read-only
    # What the submitter attached (e.g. the spec and table), shared read-only, not copied:
    # a refreshed page restores the run's settings and data from it.
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def progress(self) -> float:
        """0..1 for a progress bar: finished epochs plus the share of the current one."""
        if self.status == "done":
            return 1.0
        if not self.epochs:
            return 0.0
        within = self.batch / self.n_batches if self.n_batches else 0.0
        return min(1.0, (self.epoch + within) / self.epochs)


@dataclass(eq=False)
class _Job:
    """The registry's mutable record; touched only while holding the registry lock."""

    id: str
    owner: str
    label: str
    work: Work | None  # dropped once started, so the registry does not keep the caller's data alive
    context: Mapping[str, Any] = field(default_factory=dict)
    cancel: threading.Event = field(default_factory=threading.Event)
    status: JobStatus = "queued"
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    n_batches: int = 0
    history: list[dict] = field(default_factory=list)
    views: Mapping[str, Any] = field(default_factory=dict)
    metric: str | None = None
    device: str | None = None
    error: str | None = None
    result: object | None = None
    submitted_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    started_mono: float | None = None  # monotonic clock: immune to wall-clock jumps
    fit_started_mono: float | None = None  # ETA counts from here, after data preparation
    finished_mono: float | None = None
    thread: threading.Thread | None = None


class JobRegistry:
    def __init__(self, max_running: int | None = None, keep_finished_s: float = 3600.0, max_per_owner: int = 5):
        self.max_running = count_setting(max_running, MAX_JOBS_ENV, DEFAULT_MAX_RUNNING, "max_running")
        self.keep_finished_s = keep_finished_s
        self.max_per_owner = max_per_owner
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # lets `wait` block instead of polling
        self._jobs: dict[str, _Job] = {}  # insertion order = submission order
        self._queue: deque[str] = deque()  # ids of queued jobs, oldest first
        self._running: set[str] = set()
        self._closed = False

    # ---- what pages call -------------------------------------------------------------
    def submit(self, owner: str, label: str, work: Work, context: Mapping[str, Any] | None = None) -> str:
        """Queue `work(observers, cancel_event)`; it starts at once if a slot is free. Returns the job id.

        `context` is kept with the job (dropped with it at cleanup) and handed out read-only in snapshots."""
        self.cleanup()
        with self._lock:
            if self._closed:
                raise NNBuilderError("the training service is shutting down; reload the page and try again")
            active = sum(1 for j in self._jobs.values() if j.owner == owner and j.status not in FINISHED)
            if active >= self.max_per_owner:
                raise NNBuilderError(
                    f"you already have {active} trainings queued or running (at most {self.max_per_owner}); "
                    "wait for one to finish or cancel one"
                )
            job = _Job(uuid.uuid4().hex, owner, label, work, MappingProxyType(dict(context or {})))
            self._jobs[job.id] = job
            self._queue.append(job.id)
            self._start_queued()
            self._changed.notify_all()
            return job.id

    def snapshot(self, job_id: str, owner: str | None = None) -> JobSnapshot | None:
        """None if the id is unknown (or cleaned up), or `owner` is given and is not the job's."""
        with self._lock:
            job = self._find(job_id, owner)
            return self._snapshot(job) if job else None

    def jobs_for(self, owner: str) -> list[JobSnapshot]:
        """That owner's jobs, newest first."""
        with self._lock:
            return [self._snapshot(j) for j in reversed(self._jobs.values()) if j.owner == owner]

    def cancel(self, job_id: str, owner: str | None = None) -> bool:
        """Queued: cancelled at once. Running: the trainer stops at its next batch and keeps the best weights.
        False when there is nothing to cancel (unknown, someone else's, or already finished)."""
        with self._lock:
            job = self._find(job_id, owner)
            if job is None or job.status in FINISHED:
                return False
            job.cancel.set()
            if job.status == "queued":
                self._queue.remove(job.id)
                self._finish(job, "cancelled")
            return True

    def wait(self, job_id: str, timeout: float | None = None) -> JobSnapshot | None:
        """Block until the job has finished or `timeout` passes; then its snapshot (for the CLI and tests)."""
        with self._lock:
            self._changed.wait_for(
                lambda: job_id not in self._jobs or self._jobs[job_id].status in FINISHED, timeout)
            job = self._jobs.get(job_id)
            return self._snapshot(job) if job else None

    def cleanup(self, now: float | None = None) -> int:
        """Drop finished jobs older than keep_finished_s (and all but each owner's newest few). Returns how many."""
        now = time.time() if now is None else now
        with self._lock:
            kept_per_owner: dict[str, int] = {}
            stale = []
            for job in reversed(self._jobs.values()):  # newest first, so the newest finished ones are kept
                if job.status not in FINISHED:
                    continue
                kept = kept_per_owner.get(job.owner, 0)
                if now - job.finished_at > self.keep_finished_s or kept >= MAX_FINISHED_PER_OWNER:
                    stale.append(job.id)
                else:
                    kept_per_owner[job.owner] = kept + 1
            for job_id in stale:
                del self._jobs[job_id]
            return len(stale)

    def queue_length(self) -> int:
        with self._lock:
            return len(self._queue)

    def running_count(self) -> int:
        with self._lock:
            return len(self._running)

    def shutdown(self, wait: bool = True) -> None:
        """Cancel everything; with `wait`, join the workers (they stop at their next batch)."""
        with self._lock:
            self._closed = True
            while self._queue:
                job = self._jobs[self._queue.popleft()]
                job.cancel.set()
                self._finish(job, "cancelled")
            threads = []
            for job_id in self._running:
                self._jobs[job_id].cancel.set()
                threads.append(self._jobs[job_id].thread)
        if wait:
            for thread in threads:
                if thread is not None and thread is not threading.current_thread():
                    thread.join()

    # ---- internals (call with the lock held unless said otherwise) -------------------
    def _find(self, job_id: str, owner: str | None) -> _Job | None:
        job = self._jobs.get(job_id)
        if job is None or (owner is not None and job.owner != owner):
            return None
        return job

    def _start_queued(self) -> None:
        """Fill free slots from the head of the queue. Only queued jobs are in the queue."""
        while self._queue and len(self._running) < self.max_running and not self._closed:
            job = self._jobs[self._queue.popleft()]
            job.status, job.started_mono = "running", time.monotonic()
            self._running.add(job.id)
            work, job.work = job.work, None
            job.thread = threading.Thread(target=self._run, args=(job, work), name=f"nnbuilder-job-{job.id[:8]}",
                                          daemon=True)  # a stuck run must not keep the server from exiting
            job.thread.start()

    def _run(self, job: _Job, work: Work) -> None:
        """The worker thread (lock NOT held): run the work, then record how it ended and free the slot."""
        # Stays "failed" if something escapes even `except Exception` (e.g. KeyboardInterrupt in the worker).
        status, result, error = "failed", None, "the training worker was interrupted"
        try:
            result = work([lambda event: self._record(job, event)], job.cancel)
            status, error = ("cancelled" if job.cancel.is_set() else "done"), None
        except NNBuilderError as exc:
            error = str(exc)
        except Exception as exc:  # a bug, not bad input: log the traceback, show one line, keep the server alive
            logger.exception("training job %s (%s) crashed", job.id, job.label)
            error = f"unexpected error: {type(exc).__name__}: {exc} (this is a bug in nnbuilder)"
        finally:
            with self._lock:
                self._running.discard(job.id)
                self._finish(job, status, result, error)
                self._start_queued()

    def _finish(self, job: _Job, status: JobStatus, result: object = None, error: str | None = None) -> None:
        job.status, job.result, job.error = status, result, error
        job.finished_at, job.finished_mono, job.work = time.time(), time.monotonic(), None
        self._changed.notify_all()

    def _record(self, job: _Job, event) -> None:
        """The observer each job's work receives; runs in the worker thread."""
        with self._lock:
            if isinstance(event, FitStarted):
                job.epochs, job.metric, job.device = event.epochs, event.metric, event.device
                job.fit_started_mono = time.monotonic()
            elif isinstance(event, BatchProgress):
                job.batch, job.n_batches = event.batch, event.n_batches
            elif isinstance(event, EpochEnded):
                job.epoch, job.epochs, job.batch = event.epoch, event.epochs, 0
                job.history.append(dict(event.record))  # a copy: the trainer's dict is not ours to keep
            elif isinstance(event, ViewsCollected):
                job.views = MappingProxyType(dict(event.views))  # replaced whole, never changed in place

    def _snapshot(self, job: _Job) -> JobSnapshot:
        now = time.monotonic()
        position = self._queue.index(job.id) + 1 if job.status == "queued" else None
        elapsed = 0.0
        if job.started_mono is not None:
            elapsed = (job.finished_mono or now) - job.started_mono
        eta = None
        if job.status == "running" and job.epoch and job.fit_started_mono is not None:
            eta = (now - job.fit_started_mono) / job.epoch * max(0, job.epochs - job.epoch)
        return JobSnapshot(
            id=job.id, owner=job.owner, label=job.label, status=job.status, queue_position=position,
            epoch=job.epoch, epochs=job.epochs, batch=job.batch, n_batches=job.n_batches,
            history=tuple(dict(row) for row in job.history), metric=job.metric, device=job.device,
            elapsed_s=elapsed, eta_s=eta, error=job.error, result=job.result,
            submitted_at=job.submitted_at, finished_at=job.finished_at, context=job.context, views=job.views,
        )
