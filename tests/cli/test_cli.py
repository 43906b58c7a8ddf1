"""The CLI: success paths print JSON last; every bad input exits 2 with one line and no traceback."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from nnbuilder.cli.main import main


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def fail(args, capsys, *fragments):
    code, out, err = run(args, capsys)
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def trained_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "moons"
    code = main(["train", "sample:moons", "--target", "label", "--epochs", "30", "--lr", "0.01", "--out", str(out)])
    assert code == 0
    return out


def test_train_prints_metrics_json_last(tmp_path, capsys):
    code, out, err = run(["train", "sample:iris", "--target", "species", "--epochs", "20", "--lr", "0.01",
                          "--seed", "3", "--out", str(tmp_path / "iris")], capsys)
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["task"] == "multiclass" and summary["device"] == "cpu"
    assert set(summary["metrics"]) == {"train", "val", "test"}
    for name in ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"):
        assert name in summary["metrics"]["test"]
    assert summary["metrics"]["test"]["accuracy"] > 0.8
    assert summary["epochs"] >= 1 and summary["train_seconds"] > 0 and summary["samples_per_second"] > 0
    assert summary["bundle"] == str(tmp_path / "iris") and isinstance(summary["warnings"], list)
    assert "training on cpu" in err and "epoch" in err


def test_train_regression_with_a_spec_file(tmp_path, capsys):
    spec = tmp_path / "net.json"
    spec.write_text(json.dumps({"layers": [{"type": "dense", "units": 16}], "training": {"epochs": 40, "learning_rate": 0.01}}))
    code, out, _ = run(["train", "sample:diabetes", "--target", "progression", "--spec", str(spec), "--seed", "2",
                          "--out", str(tmp_path / "d")], capsys)
    metrics = json.loads(out.splitlines()[-1])["metrics"]["test"]
    assert code == 0 and {"r2", "rmse", "mae"} <= set(metrics) and metrics["r2"] > 0.4


def test_predict_writes_predictions(trained_bundle, tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"x1": [0.0, 1.0, 2.0], "x2": [0.5, -0.5, 0.0]}).to_csv(rows, index=False)
    code, out, _ = run(["predict", str(trained_bundle), str(rows), "--out", str(tmp_path / "p.csv")], capsys)
    assert code == 0 and json.loads(out)["rows"] == 3
    predictions = pd.read_csv(tmp_path / "p.csv")
    assert list(predictions.columns) == ["prediction", "probability_0", "probability_1"]
    code, out, _ = run(["predict", str(trained_bundle), str(rows)], capsys)
    assert code == 0 and out.splitlines()[0] == "prediction,probability_0,probability_1"


def test_inspect_shows_layers_without_training(tmp_path, capsys):
    code, out, _ = run(["inspect", "--data", "sample:iris", "--target", "species", "--json"], capsys)
    table = json.loads(out)
    assert code == 0 and table["task"] == "multiclass"
    assert table["layers"][0]["name"] == "Input" and table["layers"][-1]["output_shape"] == [3]
    assert table["total_parameters"] == sum(row["parameters"] for row in table["layers"])
    code, out, _ = run(["inspect", "--data", "sample:iris", "--target", "species"], capsys)
    assert "total parameters" in out


def test_datasets_lists_builtins(capsys):
    code, out, _ = run(["datasets"], capsys)
    assert code == 0 and "sample:moons" in out and "sample:iris" in out


def write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    good = write(tmp_path, "good.csv", b"a,b,y\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n" * 10)
    fail(["train", write(tmp_path, "empty.csv", b""), "--target", "y"], capsys, "empty.csv")
    fail(["train", write(tmp_path, "blob.csv", bytes(range(256)) * 20), "--target", "y"], capsys, "binary")
    fail(["train", write(tmp_path, "ragged.csv", b"a,b\n1,2\n3,4,5,6\n"), "--target", "b"], capsys, "ragged.csv")
    fail(["train", str(tmp_path / "nope.csv"), "--target", "y"], capsys, "nope.csv")
    fail(["train", good, "--target", "z"], capsys, "'z'", "'a', 'b', 'y'")
    fail(["train", good], capsys, "target")
    single = write(tmp_path, "single.csv", b"a,y\n" + b"1,same\n" * 30)
    fail(["train", single, "--target", "y"], capsys, "only one value")
    bad_spec = write(tmp_path, "spec.json", json.dumps({"layers": [{"type": "dropout", "rate": 1.5}]}).encode())
    fail(["train", good, "--target", "y", "--spec", bad_spec], capsys, "layers[0].rate must be in [0, 1); got 1.5")
    huge = write(tmp_path, "huge.json", json.dumps({"layers": [{"type": "dense", "units": 16384}] * 3}).encode())
    fail(["train", good, "--target", "y", "--spec", huge], capsys, "parameters", "use fewer or smaller layers")
    fail(["train", good, "--target", "y", "--lr", "-1"], capsys, "training.learning_rate must be in (0, 10]; got -1")
    fail(["train", "sample:nosuch", "--target", "y"], capsys, "nosuch")
    fail(["predict", str(tmp_path / "no-bundle"), good], capsys, "does not exist")


def test_predict_with_missing_columns_names_them(trained_bundle, tmp_path, capsys):
    rows = write(tmp_path, "rows.csv", b"x1\n0.5\n")
    fail(["predict", str(trained_bundle), rows], capsys, "'x2'")


def test_recoverable_oddities_warn_instead_of_failing(tmp_path, capsys):
    odd = b"a,a,empty,b,y\n" + b"".join(f"{i},{i % 3},,{'inf' if i == 4 else i * 2},{i % 2}\n".encode() for i in range(60))
    code, out, err = run(["train", write(tmp_path, "odd.csv", odd), "--target", "y", "--epochs", "3",
                          "--out", str(tmp_path / "m")], capsys)
    assert code == 0, err
    assert err.count("warning:") >= 3  # duplicate names, empty column, inf value
    assert json.loads(out.splitlines()[-1])["warnings"]


def test_module_entry_point_and_no_traceback_in_a_real_process(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nnbuilder", "train", str(tmp_path / "missing.csv"), "--target", "y"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert subprocess.run([sys.executable, "-m", "nnbuilder", "--version"], capture_output=True, text=True).returncode == 0
