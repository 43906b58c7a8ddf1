"""Running training: one call from a table and a spec to a trained model, the job registry, the run store.

    workflow.py  train_from_spec, training_work;  jobs.py: background runs the app polls (in memory, today)
    tables.py    tables stored once on disk by content;  worker.py  execute one run from the store;
    pool.py      LocalWorkerPool: worker processes that take queued runs, a supervisor for dead workers
    store.py     the durable run store (SQLAlchemy Core; SQLite in WAL mode, PostgreSQL by URL): runs, their
                 per-epoch history and views; schema.py its tables and version; database.py connections and
                 errors in words; config.py where it lives (NNBUILDER_HOME, NNBUILDER_DB_URL)
"""

from nnbuilder.runs.jobs import JobRegistry, JobSnapshot
from nnbuilder.runs.pool import LocalWorkerPool
from nnbuilder.runs.store import Run, RunStore
from nnbuilder.runs.workflow import train_from_spec, training_work

__all__ = ["JobRegistry", "JobSnapshot", "LocalWorkerPool", "Run", "RunStore", "train_from_spec", "training_work"]
