"""The local worker pool: processes on this machine that take queued runs from the store and train them.

The web process never trains (DESIGN rule 5): it submits a run (a row plus its table on disk) and reads the
store. Each worker is a separate process started with `spawn` (a fork of a process that already holds
torch's threads or a web server's sockets is unsafe), at a lower OS priority than the web process, with an
explicit torch thread count: on a busy 2-core box two torch threads per process, fighting over the cores,
run 10-30x slower than one each.

A supervisor thread in the parent watches the workers. A worker that dies (kill -9, the out-of-memory
killer) has its run failed with a one-line reason and is replaced, so a crash never loses a run silently
and never takes the web process down. `stop()` asks the workers to stop (SIGTERM): each ends its fit at the
next batch and leaves its run interrupted, with the checkpoint to resume from.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from nnbuilder.errors import NNBuilderError, RunStoreError
from nnbuilder.runs.config import count_setting, data_home, store_url as env_store_url
from nnbuilder.runs.store import RunStore
from nnbuilder.runs.tables import put_table
from nnbuilder.runs.worker import execute
from nnbuilder.spec.network import NetworkSpec, spec_to_json

WORKERS_ENV = "NNBUILDER_WORKERS"
WORKER_NICENESS = 10  # below the web process, so pages stay responsive while every core trains
IDLE_POLL_S = 0.3  # an idle worker asks the store for work this often: one cheap indexed read
SUPERVISE_EVERY_S = 0.5  # how often the parent checks its workers are alive
STOP_TIMEOUT_S = 30.0  # how long stop() waits for a worker to finish its batch before killing it
MOST_RUNS = 100_000  # "all of them" for list_runs

logger = logging.getLogger(__name__)


def pool_size(requested: int | None = None) -> int:
    """The argument, else `NNBUILDER_WORKERS`, else one worker per core."""
    return count_setting(requested, WORKERS_ENV, os.cpu_count() or 1, "the worker pool's size")


def worker_name(pid: int, host: str | None = None) -> str:
    """How the store's `worker` column names a process: "host:pid"."""
    return f"{host or socket.gethostname()}:{pid}"


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def interrupt_orphans(store: RunStore, host: str | None = None) -> list[str]:
    """Mark interrupted the runs left `running` by processes of this host that no longer exist (a server or
    worker killed before it could say so). Runs held by other hosts' workers are theirs to judge."""
    host = host or socket.gethostname()
    orphans = []
    for run in store.list_runs(status="running", limit=MOST_RUNS):
        owner_host, _, pid = (run.worker or "").rpartition(":")
        if owner_host == host and pid.isdigit() and not process_exists(int(pid)):
            orphans.append(run.id)
    return store.mark_interrupted(orphans, reason="the process training it stopped (server restart or crash); "
                                  "resume it from its last checkpoint") if orphans else []


def worker_main(url: str, home: str, threads: int, device: str, views: Sequence[str]) -> None:
    """A worker process's whole life: lower priority, set threads, then take and run queued runs until told
    to stop (SIGTERM)."""
    import torch  # here, not at the top: the parent (web process) never needs torch for the pool

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(process)d %(levelname)s %(message)s")
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass  # no permission to change it here: train at the normal priority rather than not at all
    torch.set_num_threads(threads)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())  # the fit ends at its next batch
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal reaches the parent, which stops us
    name = worker_name(os.getpid())
    with RunStore(url) as store:
        while not stopping.is_set():
            try:
                run_id = store.oldest_queued()
                if run_id is None:
                    stopping.wait(IDLE_POLL_S)
                    continue
                execute(store, run_id, name, home=Path(home), device=device, views=views, stopping=stopping)
            except Exception as err:  # the store unreachable for a moment: keep the worker, try again shortly
                logger.exception("worker %s could not take or record a run", name)
                _release(store, name, err)
                stopping.wait(IDLE_POLL_S * 10)


def _release(store: RunStore, name: str, err: Exception) -> None:
    """A run this worker claimed but could not record the end of would stay `running` under a live worker
    for ever; mark it interrupted (resumable) if the store answers now, and say so in the log if not."""
    try:
        store.mark_interrupted(worker=name, reason=f"its worker lost the run store ({type(err).__name__}); "
                                                   "resume it to go on")
    except Exception:
        logger.exception("worker %s could not mark its run interrupted either", name)


class LocalWorkerPool:
    """`size` worker processes on this machine, fed by the store at `store_url` (default: the environment's,
    nnbuilder.runs.config). Use as a context manager, or call `stop()`."""

    def __init__(self, store_url: str | None = None, size: int | None = None, *, home: Path | None = None,
                 device: str = "auto", views: Sequence[str] = ("all",)):
        self.size = pool_size(size)
        self.url = store_url or env_store_url().render_as_string(hide_password=False)
        self.home = Path(home) if home is not None else data_home()
        self.threads = max(1, (os.cpu_count() or 1) // self.size)
        self.device, self.views = device, tuple(views)
        self.store = RunStore(self.url)
        self.interrupted_at_start = interrupt_orphans(self.store)
        self._context = multiprocessing.get_context("spawn")
        self._workers: list = [self._start() for _ in range(self.size)]
        self._lock = threading.Lock()  # guards _workers between the supervisor and stop()
        self._stopping = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, name="nnbuilder-pool-supervisor", daemon=True)
        self._supervisor.start()

    def __enter__(self) -> "LocalWorkerPool":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def submit(self, owner: str, label: str, spec: NetworkSpec, df: pd.DataFrame, data_name: str) -> str:
        """Queue a run of `spec` on `df` (its table stored once, by content); its id. A worker takes it when free."""
        key = put_table(df, self.home)
        return self.store.create_run(owner, label, spec_to_json(spec), data_name, key).id

    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and an admin view)."""
        with self._lock:
            return [process.pid for process in self._workers]

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop every worker: each leaves its run interrupted (resumable) and exits; one that does not
        within `timeout_s` is killed and its run marked interrupted here."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._supervisor.join()
        with self._lock:
            workers = list(self._workers)
        for process in workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: the worker's handler ends the fit at its next batch
        deadline = time.monotonic() + timeout_s
        for process in workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.warning("worker %s did not stop within %g s; killing it", process.pid, timeout_s)
                process.kill()
                process.join()
            # Whatever a worker could not record itself (killed, or stopped between claim and fit).
            self.store.mark_interrupted(worker=worker_name(process.pid),
                                        reason="the worker pool stopped while it ran; resume it to go on")
        self.store.close()

    # ---- supervision -------------------------------------------------------------------------------------

    def _start(self):
        process = self._context.Process(
            target=worker_main, args=(self.url, str(self.home), self.threads, self.device, self.views),
            name="nnbuilder-worker", daemon=True)  # never outlives the web process that started it
        process.start()
        return process

    def _supervise(self) -> None:
        while not self._stopping.wait(SUPERVISE_EVERY_S):
            try:
                self._replace_dead()
            except Exception:  # the store unreachable for a moment: keep watching
                logger.exception("the worker pool's supervisor could not check its workers")

    def _replace_dead(self) -> None:
        with self._lock:
            dead = [(i, p) for i, p in enumerate(self._workers) if not p.is_alive()]
        for slot, process in dead:
            process.join()
            self._fail_runs_of(process)
            if self._stopping.is_set():
                return
            with self._lock:
                self._workers[slot] = self._start()
            logger.warning("worker %s ended (%s); started worker %s in its place", process.pid,
                           how_it_ended(process.exitcode), self._workers[slot].pid)

    def _fail_runs_of(self, process) -> None:
        name = worker_name(process.pid)
        for run in self.store.list_runs(status="running", limit=MOST_RUNS):
            if run.worker != name:
                continue
            kept = (f"nothing after epoch {run.last_epoch} was kept" if run.last_epoch
                    else "it died before its first epoch ended")
            try:
                self.store.fail(run.id, f"the worker process running it died ({how_it_ended(process.exitcode)}); "
                                        f"{kept}")
            except RunStoreError as err:  # it ended in the meantime: the store's state stands
                logger.info("run %s of dead worker %s: %s", run.id, name, err)


def how_it_ended(exitcode: int | None) -> str:
    """A process's exit in words: 'killed by signal 9 (SIGKILL)', 'exited with code 1'."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            what = signal.Signals(-exitcode).name
        except ValueError:
            what = "unknown signal"
        hint = ": out of memory, or killed by hand" if -exitcode == signal.SIGKILL else ""
        return f"killed by signal {-exitcode} ({what}{hint})"
    return f"exited with code {exitcode}"
