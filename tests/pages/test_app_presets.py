"""Every Build-page preset, applied the way the page applies it, on the built-in dataset it was made for.

Each preset must pass the engine's validation (parse_spec + describe_network on the
prepared data) and train through train_from_spec for one epoch with a finite loss.
The datasets are shrunk with their own options where a full epoch would be slow.
"""

from __future__ import annotations

import json
import math

import pytest

from nnbuilder.data.pipeline import load_table
from nnbuilder.tasks import prepare
from nnbuilder.data.datasets import list_datasets
from nnbuilder.errors import SpecError
from nnbuilder.spec.network import default_spec, parse_spec
from nnbuilder.runs.workflow import describe_network, train_from_spec
from ui import stack

TARGETS = {info.name: info.target for info in list_datasets()}
SMALLER = {"sales": "sales?days=300", "transactions": "transactions?n_samples=400", "people": "people?n_samples=400"}


def applied(name: str) -> dict:
    """The spec the Build page holds after "Use preset" on the preset's dataset: the Data page's choices
    (target; the input the preset needs, as its file spells it), then the preset's layers, task and sections."""
    shipped = json.loads((stack.PRESET_DIR / next(e["file"] for e in stack.PRESET_ENTRIES if e["name"] == name))
                         .read_text())
    spec = default_spec(TARGETS[stack.PRESET_DATASETS[name]]).model_dump(mode="json")
    spec["input"] = shipped["input"]
    spec["layers"] = stack.preset_layers(name)
    if name in stack.PRESET_TASKS:
        spec["data"]["task"] = stack.PRESET_TASKS[name]
        spec.update(stack.preset_sections(name))
    spec["training"].update(epochs=1, batch_size=64, seed=0)
    return spec


@pytest.fixture(scope="module")
def tables() -> dict:
    return {}


def table(tables: dict, dataset: str):
    if dataset not in tables:
        tables[dataset] = load_table(f"sample:{SMALLER.get(dataset, dataset)}")[0]
    return tables[dataset]


def test_the_list_covers_every_shipped_preset_file():
    files = {path.name for path in stack.PRESET_DIR.glob("*.json")} - {"index.json"}
    assert files == {entry["file"] for entry in stack.PRESET_ENTRIES}
    assert "Transformer (time series)" in stack.PRESETS
    assert set(stack.PRESET_DATASETS.values()) <= set(TARGETS)


@pytest.mark.parametrize("name", list(stack.PRESETS))
def test_preset_validates_and_trains_on_its_dataset(name, tables):
    dataset = stack.PRESET_DATASETS[name]
    df = table(tables, dataset)
    spec = parse_spec(applied(name))
    prepared = prepare(df, spec.data, seed=0, input=spec.input)
    rows = describe_network(spec, prepared)
    assert rows[0].name in ("Input", "Noise") and sum(r.parameters for r in rows) > 0
    trained = train_from_spec(df, spec, device="cpu", prepared=prepared)
    last = trained.fit.history[-1]
    assert last["epoch"] == 1 and math.isfinite(last["train_loss"]) and math.isfinite(last["val_loss"])
    kind = stack.PRESET_INPUT_KINDS.get(name, "tabular")
    assert spec.input.kind == kind
    if name in stack.PRESET_TASKS:
        assert prepared.task == stack.PRESET_TASKS[name]


def test_transformer_preset_on_sales_is_a_forecast_with_a_pooled_encoder(tables):
    spec = parse_spec(applied("Transformer (time series)"))
    prepared = prepare(table(tables, "sales"), spec.data, seed=0, input=spec.input)
    rows = describe_network(spec, prepared)
    assert prepared.task == "forecast"
    assert [r.name for r in rows] == ["Input", "1. transformer_encoder", "2. dense", "Output"]
    assert [r.output_shape for r in rows] == [(14, 3), (32,), (32,), (1,)]


def test_sequence_presets_on_a_table_are_refused_in_words_or_read_the_columns_as_tokens():
    df, _ = load_table("sample:moons")
    spec = parse_spec({"data": {"target": "label"}, "layers": stack.preset_layers("LSTM (time series)")})
    with pytest.raises(SpecError) as info:
        describe_network(spec, prepare(df, spec.data, seed=0, input=spec.input))
    assert "needs sequence input" in info.value.problems[0]
    assert stack.problem_owner(info.value.spec_problems[0].path) == ("layers", 0)  # the Build page shows it at layer 1
    # a transformer reads a table's columns as its tokens (one per column), so the same stack fits a table
    spec = parse_spec({"data": {"target": "label"}, "layers": stack.preset_layers("Transformer (time series)")})
    rows = describe_network(spec, prepare(df, spec.data, seed=0, input=spec.input))
    assert [r.output_shape for r in rows] == [(2,), (32,), (32,), (1,)]
