"""`nnbuilder resume RUN`: continue an interrupted run of the run store from its checkpoint, in this process.

The run is queued again and executed here as a worker would (nnbuilder.runs.worker), with the CLI's progress
line; the store (NNBUILDER_HOME / NNBUILDER_DB_URL, nnbuilder.runs.config) records its epochs and end as for
any run, so the app's runs list shows it too.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path

from nnbuilder.errors import RunStoreError

EXIT_INTERRUPTED = 130  # the shell's code for a Ctrl-C'd command: the run is interrupted again, not failed


def resume(args) -> int:
    from nnbuilder.cli.progress import ProgressPrinter
    from nnbuilder.runs.config import data_home, store_url
    from nnbuilder.runs.store import RunStore
    from nnbuilder.runs.worker import execute

    with RunStore(store_url()) as store:
        run = store.get(args.run_id)  # an unknown id raises the store's one-line message
        if run.status != "interrupted":
            raise RunStoreError(f"run {run.id} is {run.status}; nothing to resume")
        # Checked before the run is queued again, so a run that cannot go on stays interrupted as it was.
        if run.checkpoint_path and not Path(run.checkpoint_path).is_file():
            raise RunStoreError(f"run {run.id}'s checkpoint file {run.checkpoint_path} is missing; "
                                "it cannot be resumed")
        store.requeue(run.id)
        stopping = threading.Event()
        # Ctrl-C leaves the run interrupted again with its latest checkpoint, so a later resume goes on from there.
        previous = signal.signal(signal.SIGINT, lambda *_: stopping.set())
        try:
            ended = execute(store, run.id, f"{socket.gethostname()}:{os.getpid()}", home=data_home(),
                            device=args.device, views=(), stopping=stopping, observers=[ProgressPrinter()])
        finally:
            signal.signal(signal.SIGINT, previous)
    if ended is None:  # another worker claimed it between our requeue and claim
        raise RunStoreError(f"run {run.id} was taken by another worker; nothing resumed here")
    if ended.status == "interrupted":
        print(f"stopped: run {ended.id} is interrupted again; `nnbuilder resume {ended.id}` goes on",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if ended.status != "finished":
        raise RunStoreError(f"run {ended.id} {ended.status}: {ended.error or 'no reason recorded'}")
    print(json.dumps((ended.metrics or {}) | {"bundle": ended.bundle_path}, default=str))
    return 0
