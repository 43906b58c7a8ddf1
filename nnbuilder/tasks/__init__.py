"""One record per task (nnbuilder.tasks.record.Task), registered by name; the built-in tasks register here.

    prepare(df, data, seed=, input=)     the task's own preparation ('auto': the data decides)
    detect_task(df, data, input)         the resolved task name, without splitting (the Data page)
    describe_network(spec, prepared)     the layer table of the task's network(s)
    get_task(name)                       the record, by user-facing or resolved name

Adding a task: register its output head(s) (nnbuilder.model.heads.register_head) unless a built-in one fits,
then `register_task(Task(...))` naming its steps (reuse nnbuilder.tasks.supervised's for one network trained
with the shared Trainer) and a few small `examples`; the conformance test (tests/tasks/test_conformance.py)
then checks it end to end. tests/tasks/toy_task.py is a whole task written that way, outside the engine.
"""

from __future__ import annotations

import pandas as pd

from nnbuilder.spec.task_names import AUTO
from nnbuilder.tasks.record import (  # noqa: F401  (the package's public face)
    CardSection, Task, find_task, get_task, register_task, registered_tasks, resolved_names,
    task_names, unregister_task,
)
from nnbuilder.tasks.supervised import detect_target, prepare_target
from nnbuilder.tasks.trained import TrainedModel  # noqa: F401
from nnbuilder.tasks.classify import CLASSIFICATION, REGRESSION
from nnbuilder.tasks.forecast.task import FORECAST
from nnbuilder.tasks.autoencoder.task import AUTOENCODER
from nnbuilder.tasks.gan.task import GAN

for _task in (CLASSIFICATION, REGRESSION, FORECAST, AUTOENCODER, GAN):
    register_task(_task)


def prepare(df: pd.DataFrame, data, *, seed: int = 0, input=None):
    """Split and encode `df` the way `data.task` prepares its data; 'auto' lets the target decide."""
    if data.task == AUTO:
        return prepare_target(df, data, seed, input)
    return get_task(data.task).prepare(df, data, seed, input)


def detect_task(df: pd.DataFrame, data, input=None) -> str:
    """The resolved task `prepare` would produce for these settings, without splitting or encoding."""
    if data.task == AUTO:
        return detect_target(df, data, input)
    return get_task(data.task).detect(df, data, input)


def describe_network(spec, prepared):
    """The layer table for this spec on this data (no training)."""
    return get_task(prepared.task).describe(spec, prepared)


def fit(df: pd.DataFrame, spec, prepared, *, device: str = "auto", observers=None, cancel=None, views=(),
        callbacks=()):
    """Train and evaluate `prepared`'s task: a `TrainedModel`. `callbacks`: the caller's own trainer callbacks
    (nnbuilder.train.callbacks), e.g. a worker's checkpoint writer."""
    return get_task(prepared.task).fit(df, spec, prepared, device=device, observers=observers, cancel=cancel,
                                       views=views, callbacks=callbacks)
