"""The contract every registered task passes (scikit-learn's `check_estimator` idea), for one example case:

prepare -> fit a few epochs -> evaluate -> bundle save/load -> predict (or generate) equals the in-memory
model -> each export format the record claims works, each it refuses is refused with an ExportError in words.
Used by test_conformance.py (every registered task) and test_toy_task.py (a task registered by a test).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from nnbuilder import tasks
from nnbuilder.bundle.bundle import Bundle, load_bundle, save_bundle
from nnbuilder.errors import ExportError, NNBuilderError
from nnbuilder.export.formats import EXPORT_FORMATS, export_bundle
from nnbuilder.spec.network import parse_spec


def cases(task) -> list[tuple[str, pd.DataFrame, dict]]:
    assert task.examples is not None, f"task {task.name!r} has no examples: give its record some (Task.examples)"
    found = task.examples()
    assert found, f"task {task.name!r} gives no example cases"
    return found


def check_task(task, table: pd.DataFrame, spec_dict: dict, folder: Path) -> None:
    spec = parse_spec(spec_dict)  # the spec accepts the task's name: register_task filled the spec's registry
    assert spec.data.task == task.name

    prepared = tasks.prepare(table, spec.data, seed=spec.training.seed, input=spec.input)
    assert tasks.get_task(prepared.task) is task, f"{task.name} prepared a {prepared.task!r} task"
    assert prepared.task in task.resolves_to
    assert tasks.detect_task(table, spec.data, spec.input) == prepared.task
    rows = tasks.describe_network(spec, prepared)
    assert rows and all(row.parameters >= 0 for row in rows)

    trained = tasks.fit(table, spec, prepared, device="cpu")
    history = trained.fit.history
    assert 1 <= len(history) <= spec.training.epochs
    assert all(math.isfinite(epoch["train_loss"]) for epoch in history)
    metrics, details = task.evaluate(trained.model, spec, prepared)
    assert isinstance(metrics, dict) and isinstance(details, dict)

    loaded = load_bundle(save_bundle(trained, folder / "bundle"))
    assert loaded.task == prepared.task and loaded.card.startswith("# Model card")
    in_memory = Bundle(loaded.spec, trained.model.eval(), loaded.preprocessing, loaded.meta, loaded.history,
                       loaded.metrics, loaded.card)
    if task.predict_views:
        expected, got = in_memory.predict(table), loaded.predict(table)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, atol=1e-5, rtol=1e-5)
        assert len(got) > 0
    else:
        with pytest.raises(NNBuilderError):
            loaded.predict(table)
    if task.generate is not None:
        pd.testing.assert_frame_equal(loaded.generate(12, seed=3), in_memory.generate(12, seed=3),
                                      check_exact=False, atol=1e-5, rtol=1e-5)

    for fmt, entry in EXPORT_FORMATS.items():
        out = folder / f"model{entry.suffix}"
        refusal = task.export_refusal(fmt)
        if refusal is None:
            assert export_bundle(loaded, fmt, out).stat().st_size > 0
        else:
            with pytest.raises(ExportError) as info:
                export_bundle(loaded, fmt, out)
            assert str(info.value) == refusal and "\n" not in refusal
            assert not out.exists()
