"""Probes: views collected between epochs, on a time budget, without changing the run."""


import pytest
import torch

from nnbuilder.train import probes
from nnbuilder.data.pipeline import load_table
from nnbuilder.train.events import ViewsCollected
from nnbuilder.runs.jobs import JobRegistry
from nnbuilder.runs.workflow import training_work
from nnbuilder.train.probes import ProbeRunner, make_probes, register_probe
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec


class _Counting:
    name = "counting"

    def __init__(self, cost=0.0):
        self.calls, self.cost = [], cost

    def collect(self, model, epoch, record):
        assert not model.training  # views see the model as it predicts
        torch.rand(3)  # randomness inside a probe must not change the run
        self.calls.append(epoch)
        return {"epoch": epoch, "loss": record["train_loss"]}


@pytest.fixture
def counting(monkeypatch):
    made = []
    monkeypatch.setitem(probes.PROBES, "counting", lambda spec, prepared: made.append(_Counting()) or made[-1])
    monkeypatch.setitem(probes.PROBES, "never", lambda spec, prepared: None)  # does not apply to this run
    return made


def _spec(epochs=5):
    return parse_spec({"data": {"target": "label"}, "layers": [{"type": "dense", "units": 8},
                                                               {"type": "dropout", "rate": 0.3}],
                       "training": {"epochs": epochs, "learning_rate": 0.01, "early_stopping_patience": 0}})


def test_views_do_not_change_the_trained_weights(counting):
    df, _ = load_table("sample:moons")
    plain = train_from_spec(df, _spec())
    events = []
    seen = train_from_spec(df, _spec(), views=["counting", "never"], observers=[events.append])
    for a, b in zip(plain.model.state_dict().values(), seen.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    collected = [e for e in events if isinstance(e, ViewsCollected)]
    assert collected[0].epoch == 1 and collected[-1].final and list(collected[-1].views) == ["counting"]
    assert seen.fit.views["counting"]["epoch"] == 5 and counting[0].calls[-1] == 5


def test_runner_keeps_to_its_budget():
    runner = ProbeRunner([_Counting()], budget=0.1)
    assert runner.due(0.0)  # the first epoch always shows something
    runner.collect(torch.nn.Linear(2, 1), 1, {"train_loss": 1.0})
    runner.spent, runner.last_cost = 1.0, 0.5
    assert not runner.due(15.0)  # 1.5 s of views, + 0.5 s kept for the final one, would be 13 % of 15 s
    assert runner.due(20.0)
    assert not ProbeRunner([]).due(100.0)


def test_unknown_probe_is_named():
    with pytest.raises(ValueError, match="unknown probe"):
        make_probes(["nope"], None, None)


def test_register_twice_is_refused(monkeypatch):
    monkeypatch.setitem(probes.PROBES, "x", lambda s, p: None)
    with pytest.raises(ValueError, match="registered twice"):
        register_probe("x", lambda s, p: None)


def test_job_snapshots_carry_the_latest_views(counting):
    df, _ = load_table("sample:moons")
    registry = JobRegistry(max_running=1)
    try:
        job = registry.submit("me", "moons", training_work(df, _spec(3), views=["counting"]))
        snapshot = registry.wait(job, timeout=60)
        assert snapshot.status == "done" and snapshot.views["counting"]["epoch"] == 3
        with pytest.raises(TypeError):
            snapshot.views["counting"] = {}  # read-only for pages
    finally:
        registry.shutdown()


class _Broken:
    name = "broken"

    def collect(self, model, epoch, record):
        raise IndexError("a bug in a view")


def test_a_failing_view_is_switched_off_and_the_run_goes_on(monkeypatch, counting, caplog):
    monkeypatch.setitem(probes.PROBES, "broken", lambda spec, prepared: _Broken())
    df, _ = load_table("sample:moons")
    trained = train_from_spec(df, _spec(3), views=["broken", "counting"])
    assert list(trained.fit.views) == ["counting"] and len(trained.fit.history) == 3
    assert "view 'broken' failed at epoch 1" in caplog.text
