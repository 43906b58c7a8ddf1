"""The GAN task: spec, networks, data, adversarial training, generated rows, quality report, bundle, CLI."""

from __future__ import annotations

import json
import threading
import time

import pandas as pd
import pytest
import torch

from nnbuilder.bundle.bundle import load_bundle, save_bundle
from nnbuilder.cli.main import main
from nnbuilder.tasks import detect_task, prepare
from nnbuilder.data.datasets import ASSETS, load_dataset
from nnbuilder.errors import BundleError, DataError, SpecError
from nnbuilder.train.events import EpochEnded, FitEnded, FitStarted
from nnbuilder.tasks.gan import fit as gan_fit
from nnbuilder.tasks.gan.networks import build_discriminator, build_generator, decode_rows, generate_encoded, output_layout
from nnbuilder.spec.network import DataSpec, GanSpec, ImageInputSpec, load_spec, parse_spec
from nnbuilder.tasks.gan.quality import correlation_difference, independent_sample, quality_report
from nnbuilder.runs.workflow import describe_network, train_from_spec

PRESET = ASSETS / "presets" / "gan_synthetic_rows.json"


def gan_spec(epochs: int = 5, **gan) -> dict:
    return {"data": {"task": "gan"}, "layers": [{"type": "dense", "units": 16, "activation": "leaky_relu"}],
            "training": {"epochs": epochs, "batch_size": 64, "learning_rate": 0.002},
            **({"gan": gan} if gan else {})}


@pytest.fixture(scope="module")
def trained():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        started = time.perf_counter()
        result = train_from_spec(load_dataset("people"), load_spec(PRESET), device="cpu")
        result.seconds = time.perf_counter() - started
        return result
    finally:
        torch.set_num_threads(threads)


# --- spec and networks ----------------------------------------------------------------------------------

def test_spec_accepts_the_task_and_defaults_the_section():
    spec = parse_spec(gan_spec())
    assert spec.gan is None and spec.gan_settings == GanSpec()
    assert spec.gan_settings.noise_dim == 16 and spec.gan_settings.discriminator[0].type == "dense"
    for name, field in GanSpec.model_fields.items():
        assert field.description, name


def test_spec_refuses_bad_gan_settings_and_non_tables():
    with pytest.raises(SpecError) as error:
        parse_spec(gan_spec(noise_dim=0, discriminator_lr_factor=-1))
    text = str(error.value)
    assert "gan.noise_dim" in text and "gan.discriminator_lr_factor" in text
    with pytest.raises(SpecError, match="tables only"):
        parse_spec({"data": {"task": "gan"}, "input": {"kind": "image"}})
    with pytest.raises(DataError, match="tables only"):
        detect_task(load_dataset("digits"), DataSpec(task="gan"), ImageInputSpec())


def test_every_usable_column_is_generated_target_included():
    df = load_dataset("people", n_samples=200)
    prepared = prepare(df, DataSpec(task="gan", target="income"))
    assert prepared.task == "gan" and prepared.y_train is prepared.X_train
    assert prepared.feature_columns == ["age", "height", "weight", "income", "sex"]
    assert prepared.feature_names[-2:] == ["sex=female", "sex=male"]
    assert detect_task(df, DataSpec(task="gan")) == "gan"


def test_generator_and_discriminator_shapes(seed):
    prepared = prepare(load_dataset("people", n_samples=200), DataSpec(task="gan"))
    spec = parse_spec(gan_spec(noise_dim=8))
    layout = output_layout(prepared)
    generator, discriminator = build_generator(spec, layout), build_discriminator(spec, 6)
    rows = generator(torch.randn(10, 8))
    assert rows.shape == (10, 6) and discriminator(rows).shape == (10, 1)
    one_hot = rows[:, 4:]  # the sex group: exactly one 1 per row
    assert torch.equal(one_hot.sum(dim=1), torch.ones(10)) and set(one_hot.unique().tolist()) <= {0.0, 1.0}
    table = describe_network(spec, prepared)
    assert table[0].output_shape == (8,) and table[-1].output_shape == (1,)
    assert [r.name for r in table if r.type == "output"] == ["Generated row", "Disc output"]


def test_layers_must_keep_rows_flat():
    prepared = prepare(load_dataset("people", n_samples=200), DataSpec(task="gan"))
    spec = parse_spec({**gan_spec(), "layers": [{"type": "conv2d", "filters": 4}]})
    with pytest.raises(SpecError, match=r"layers\[0\]"):
        build_generator(spec, output_layout(prepared))


def test_network_problems_carry_their_path_in_either_network():
    spec = parse_spec({**gan_spec(), "layers": [{"type": "dense", "units": 8}, {"type": "conv1d"}],
                       "gan": {"discriminator": [{"type": "residual", "layers": [
                           {"type": "dense", "units": 4}, {"type": "conv2d"}]}]}})
    with pytest.raises(SpecError) as generator:
        build_generator(spec, {"numeric": ["a"], "categorical": []})
    assert [(p.path, p.layer_type) for p in generator.value.spec_problems] == [(("layers", 1), "conv1d")]
    with pytest.raises(SpecError) as discriminator:
        build_discriminator(spec, 6)
    (problem,) = discriminator.value.spec_problems  # inside the block: named by its full path
    assert problem.path == ("gan", "discriminator", 0, "layers", 1) and problem.layer_type == "conv2d"
    assert problem.text.startswith("gan.discriminator[0].layers[1] (conv2d): conv2d needs image input")


# --- training and the done-when comparison ------------------------------------------------------------

def test_gan_fools_the_classifier_better_than_an_independent_sampler(trained):
    quality = trained.metrics["quality"]
    assert quality["auc"]["gan"] < quality["auc"]["independent"] - 0.05, quality["auc"]
    assert quality["correlation_difference"]["gan"] < quality["correlation_difference"]["independent"] / 2


def test_quality_report_compares_every_column(trained):
    quality = trained.metrics["quality"]
    assert quality["rows_real"] == quality["rows_generated"] == 1000
    assert set(quality["columns"]) == {"age", "height", "weight", "income", "sex"}
    assert quality["columns"]["age"]["kind"] == "numeric" and 0 <= quality["columns"]["age"]["ks"] <= 1
    sex = quality["columns"]["sex"]
    assert sex["kind"] == "categorical" and set(sex["real"]) == {"female", "male"} and 0 <= sex["tvd"] <= 1
    json.dumps(trained.summary())  # JSON-able, as the CLI prints it


def test_history_has_both_losses_for_the_curves(trained):
    record = trained.fit.history[-1]
    assert record["train_loss"] == record["generator_loss"] and record["val_loss"] == record["discriminator_loss"]
    assert 0 <= record["train_discriminator_accuracy"] <= 1 and record["val_discriminator_accuracy"] is not None
    assert len(trained.fit.history) == 300 and trained.fit.stop_reason == "completed"


def test_generated_frame_has_the_real_columns(trained, tmp_path):
    real = load_dataset("people")
    rows = load_bundle(save_bundle(trained, tmp_path / "gan")).generate(500, seed=1)
    assert list(rows.columns) == list(real.columns) and len(rows) == 500
    assert all(pd.api.types.is_float_dtype(rows[c]) for c in ["age", "height", "weight", "income"])
    assert set(rows["sex"]) <= {"female", "male"}
    assert rows["height"].between(real["height"].min() - 1, real["height"].max() + 1).all()


def test_bundle_round_trip_generates_the_same_rows(trained, tmp_path):
    save_bundle(trained, tmp_path / "gan")
    bundle = load_bundle(tmp_path / "gan")
    direct = decode_rows(generate_encoded(trained.model, 50, 7), trained.gan_layout)
    pd.testing.assert_frame_equal(bundle.generate(50, seed=7), direct)
    pd.testing.assert_frame_equal(bundle.generate(50, seed=7), bundle.generate(50, seed=7))
    assert not bundle.generate(50, seed=8).equals(direct)
    assert bundle.metrics["metrics"]["quality"]["auc"] == trained.metrics["quality"]["auc"]
    with pytest.raises(BundleError, match="generates rows"):
        bundle.predict(load_dataset("people", n_samples=10))
    with pytest.raises(BundleError, match="at least 1"):
        bundle.generate(0)


def test_independent_sampler_keeps_marginals_and_loses_correlations():
    real = load_dataset("people")
    independent = independent_sample(real, 1000, seed=0)
    assert sorted(independent["sex"].unique()) == ["female", "male"]
    assert set(independent["age"]) <= set(real["age"])
    assert correlation_difference(real, independent) > 0.3
    assert correlation_difference(real, real) == 0
    report = quality_report(real.iloc[:300], real.iloc[300:600], seed=0)
    assert report["auc"]["gan"] < 0.65  # real rows against real rows: the classifier cannot tell


def test_cancel_stops_training_and_keeps_a_generator(one_thread):
    cancel, events = threading.Event(), []

    def observer(event):
        events.append(event)
        if isinstance(event, EpochEnded) and event.epoch == 2:
            cancel.set()

    result = train_from_spec(load_dataset("people", n_samples=300), parse_spec(gan_spec(epochs=50)), device="cpu",
                             observers=[observer], cancel=cancel)
    assert result.fit.stop_reason == "cancelled" and len(result.fit.history) == 2
    assert isinstance(events[0], FitStarted) and events[0].metric == "discriminator_accuracy"
    assert isinstance(events[-1], FitEnded) and events[-1].reason == "cancelled"
    assert "auc" in result.metrics["quality"]


def test_same_seed_same_training(one_thread):
    df = load_dataset("people", n_samples=300)
    runs = [train_from_spec(df, parse_spec(gan_spec(epochs=3)), device="cpu") for _ in range(2)]
    assert runs[0].fit.history[-1]["generator_loss"] == runs[1].fit.history[-1]["generator_loss"]


def recorded_optimizers(monkeypatch) -> list:
    """Every optimizer the GAN's fit makes, in order (generator's, then discriminator's)."""
    made, make = [], gan_fit.gan_optimizer

    def recording(*args, **kwargs):
        made.append(make(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(gan_fit, "gan_optimizer", recording)
    return made


def test_sgd_step_schedule_and_patience_are_honoured(monkeypatch, one_thread):
    made = recorded_optimizers(monkeypatch)
    spec = gan_spec(epochs=12, discriminator_lr_factor=0.5)
    spec["training"] |= {"optimizer": "sgd", "learning_rate": 0.05, "momentum": 0.8, "weight_decay": 0.001,
                         "lr_schedule": "step", "early_stopping_patience": 5}
    result = train_from_spec(load_dataset("people", n_samples=300), parse_spec(spec), device="cpu")
    assert [type(o) for o in made] == [torch.optim.SGD, torch.optim.SGD]
    generator_group, discriminator_group = made[0].param_groups[0], made[1].param_groups[0]
    assert (generator_group["momentum"], generator_group["weight_decay"]) == (0.8, 0.001)
    assert discriminator_group["initial_lr"] == pytest.approx(0.05 * 0.5)
    history = result.fit.history
    # step: the learning rate falls tenfold every 12 // 3 = 4 epochs; the history shows the generator's.
    assert [r["lr"] for r in history] == pytest.approx([0.05 if r["epoch"] <= 4 else 0.005 for r in history])
    assert discriminator_group["lr"] == pytest.approx(0.05 * 0.5 * 0.1 ** (len(history) // 4))
    # Patience counts epochs in which the discriminator was no more fooled (val accuracy no nearer 0.5).
    distance = [abs(r["val_discriminator_accuracy"] - 0.5) for r in history]
    best_epoch = distance.index(min(distance)) + 1
    assert result.fit.stop_reason == "early_stopped" and len(history) == best_epoch + 5 < 12
    assert result.fit.best_epoch == len(history)  # a GAN keeps its last weights (see AdversarialStep)


def test_adam_keeps_the_gan_betas(monkeypatch, one_thread):
    made = recorded_optimizers(monkeypatch)
    train_from_spec(load_dataset("people", n_samples=300), parse_spec(gan_spec(epochs=2)), device="cpu")
    assert [type(o) for o in made] == [torch.optim.Adam, torch.optim.Adam]
    assert all(o.param_groups[0]["betas"] == (0.5, 0.999) for o in made)


def test_l1_shrinks_the_generators_weights(one_thread):
    df = load_dataset("people", n_samples=300)
    plain, sparse = (train_from_spec(df, parse_spec(gan_spec(epochs=10) | {"training": {
        "epochs": 10, "batch_size": 64, "learning_rate": 0.002, "l1": l1, "early_stopping_patience": 0}}),
        device="cpu") for l1 in (0.0, 0.01))
    weight = lambda generator: sum(p.abs().sum().item() for n, p in generator.named_parameters() if "weight" in n)  # noqa: E731
    assert weight(sparse.model) < 0.7 * weight(plain.model)


# --- CLI ------------------------------------------------------------------------------------------------

def test_cli_trains_and_generates(tmp_path, capsys, one_thread):
    out = tmp_path / "gan"
    assert main(["train", "sample:people?n_samples=300", "--task", "gan", "--epochs", "3", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["task"] == "gan" and set(summary["metrics"]["quality"]["auc"]) == {"gan", "independent"}
    assert main(["generate", str(out), "--rows", "20", "--seed", "2", "--out", str(tmp_path / "synth.csv")]) == 0
    assert json.loads(capsys.readouterr().out) == {"rows": 20, "out": str(tmp_path / "synth.csv")}
    written = pd.read_csv(tmp_path / "synth.csv")
    assert list(written.columns) == ["age", "height", "weight", "income", "sex"] and len(written) == 20
    assert main(["generate", str(out), "--rows", "3"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4  # header + 3 rows on stdout


def test_cli_generate_refuses_bad_input(tmp_path, capsys, one_thread):
    assert main(["generate", str(tmp_path / "nowhere"), "--rows", "5"]) == 2
    assert capsys.readouterr().err.startswith("error: model bundle")
    moons = tmp_path / "moons"
    assert main(["train", "sample:moons", "--target", "label", "--epochs", "1", "--out", str(moons)]) == 0
    capsys.readouterr()
    assert main(["generate", str(moons), "--rows", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: only a GAN bundle") and err.count("\n") == 1
    assert main(["generate", str(moons), "--rows", "0"]) == 2
    assert capsys.readouterr().err == "error: --rows must be at least 1; got 0\n"


def test_messy_table_generates_and_reports_plain_json(messy_frame, one_thread):
    result = train_from_spec(messy_frame, parse_spec(gan_spec(epochs=3)), device="cpu")
    rows = decode_rows(generate_encoded(result.model, 30, 0), result.gan_layout)
    # identifiers, free text, constants and empty columns are left out; a date's parts are not generated back
    assert list(rows.columns) == ["age", "income", "score", "plan", "paperless", "churned"]
    assert set(rows["paperless"]) <= {"true", "false"} and set(rows["plan"].dropna()) <= {"basic", "standard", "premium"}
    assert pd.api.types.is_integer_dtype(rows["age"])
    quality = result.metrics["quality"]
    assert quality["columns"]["paperless"]["real"].keys() == {"false", "true"}  # yes/no read like the encoder
    json.dumps(result.summary(), allow_nan=False)
