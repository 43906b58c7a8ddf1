"""`nnbuilder serve`: answers equal Bundle.predict, the schema comes from the bundle, bad requests get a 4xx."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from fastapi.testclient import TestClient

import nnbuilder.layers.recurrent  # noqa: F401  (registers lstm before the spec's layer union is built)
from nnbuilder import __version__
from nnbuilder.bundle.bundle import load_bundle, save_bundle
from nnbuilder.cli.main import main
from nnbuilder.data.pipeline import load_table
from nnbuilder.data.datasets import load_dataset
from nnbuilder.errors import NNBuilderError
from nnbuilder.serve.app import create_app, is_loopback, records
from nnbuilder.spec.network import parse_spec
from nnbuilder.runs.workflow import train_from_spec

ROOT = Path(__file__).resolve().parents[2]
PRESET = ROOT / "assets" / "presets" / "lstm_timeseries.json"


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models on a shared machine: a second thread only waits
    yield
    torch.set_num_threads(threads)


def _save(folder, df, spec: dict):
    trained = train_from_spec(df, parse_spec(spec), device="cpu")
    return df, load_bundle(save_bundle(trained, folder)), folder


def _dense(target=None, epochs=5, **data):
    return {"data": {**({"target": target} if target else {}), **data},
            "layers": [{"type": "dense", "units": 8}], "training": {"epochs": epochs, "learning_rate": 0.01}}


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    df, _ = load_table("sample:customers")  # categorical, yes/no, date and missing values
    return _save(tmp_path_factory.mktemp("serve") / "churn", df, _dense("churned"))


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    df, _ = load_table("sample:diabetes")
    return _save(tmp_path_factory.mktemp("serve") / "diabetes", df, _dense("progression"))


@pytest.fixture(scope="module")
def people_gan(tmp_path_factory):
    spec = {"data": {"task": "gan"}, "layers": [{"type": "dense", "units": 16, "activation": "leaky_relu"}],
            "training": {"epochs": 3, "batch_size": 64, "learning_rate": 0.002}}
    return _save(tmp_path_factory.mktemp("serve") / "gan", load_dataset("people", n_samples=300), spec)


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    spec = json.loads(PRESET.read_text())
    spec["training"]["epochs"] = 2
    return _save(tmp_path_factory.mktemp("serve") / "sales", load_dataset("sales"), spec)


@pytest.fixture(scope="module")
def anomalies(tmp_path_factory):
    return _save(tmp_path_factory.mktemp("serve") / "ae", load_dataset("transactions"),
                 _dense(epochs=3, task="autoencoder"))


def client(bundle, max_rows=10_000):
    return TestClient(create_app(bundle, max_rows=max_rows), raise_server_exceptions=False)


def json_rows(df: pd.DataFrame, columns) -> list[dict]:
    """Rows as a client sends them: dates as ISO text, missing values as null."""
    frame = df[list(columns)].copy()
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            frame[name] = frame[name].dt.strftime("%Y-%m-%d")
    return [{k: (None if pd.isna(v) else v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def expected(bundle, rows) -> list[dict]:
    """The oracle: Bundle.predict on the same rows, NaN -> None."""
    return records(bundle.predict(pd.DataFrame(rows)))


def test_health_and_description(churn):
    _, bundle, _ = churn
    api = client(bundle)
    assert api.get("/health").json() == {"status": "ok", "task": "binary", "nnbuilder_version": __version__}
    about = api.get("/").json()
    assert [c["name"] for c in about["inputs"]] == bundle.meta["feature_columns"]
    assert about["classes"] == ["no", "yes"] and about["task"] == "binary"
    assert about["outputs"] == ["prediction", "probability_no", "probability_yes"]
    plan = next(c for c in about["inputs"] if c["name"] == "plan")
    assert plan["role"] == "categorical" and plan["known_values"] == ["basic", "premium", "standard"]
    assert about["links"]["docs"] == "/docs" and about["links"]["predict"] == "POST /predict"


def test_predict_matches_the_bundle_exactly_with_nulls(churn):
    df, bundle, _ = churn
    sample = pd.concat([df.head(30), df[df["age"].isna()].head(10), df[df["plan"].isna()].head(10)])
    rows = json_rows(sample, bundle.meta["feature_columns"])
    assert any(row["age"] is None for row in rows) and any(row["plan"] is None for row in rows)  # nulls are sent
    answer = client(bundle).post("/predict", json={"rows": rows})
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    assert predictions == expected(bundle, rows)
    direct = bundle.predict(sample)  # the raw frame: real datetimes, NaN; the answer must agree
    assert [p["prediction"] for p in predictions] == list(direct["prediction"])
    np.testing.assert_array_equal([p["probability_yes"] for p in predictions], direct["probability_yes"])
    assert all(abs(p["probability_no"] + p["probability_yes"] - 1) < 1e-6 for p in predictions)


def test_concurrent_requests_get_their_own_answers(diabetes):
    df, bundle, _ = diabetes
    api = client(bundle)
    batches = [json_rows(df.iloc[k * 7:(k + 1) * 7], bundle.meta["feature_columns"]) for k in range(12)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda rows: api.post("/predict", json={"rows": rows}).json(), batches))
    assert [a["predictions"] for a in answers] == [expected(bundle, rows) for rows in batches]


def test_regression_ignores_extra_keys(diabetes):
    df, bundle, _ = diabetes
    rows = json_rows(df.head(10), [*bundle.meta["feature_columns"], "progression"])
    rows[0]["not a column"] = "ignored"
    predictions = client(bundle).post("/predict", json={"rows": rows}).json()["predictions"]
    assert predictions == expected(bundle, rows) and list(predictions[0]) == ["prediction"]
    assert 20 < np.mean([p["prediction"] for p in predictions]) < 350  # original units


def test_openapi_schema_is_generated_from_the_bundle(churn):
    _, bundle, _ = churn
    api = client(bundle)
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    row = schemas["Row"]
    assert list(row["properties"]) == bundle.meta["feature_columns"] and row["required"] == list(row["properties"])
    kinds = {name: sorted(t["type"] for t in prop["anyOf"]) for name, prop in row["properties"].items()}
    assert kinds == {"age": ["null", "number"], "monthly_charges": ["null", "number"], "plan": ["null", "string"],
                     "contract": ["null", "string"], "paperless_billing": ["boolean", "null", "string"],
                     "signup_date": ["null", "string"], "support_calls": ["null", "number"]}
    assert "basic, premium, standard" in row["properties"]["plan"]["description"]
    answer = schemas["PredictionsRow"]["properties"]
    assert list(answer) == ["prediction", "probability_no", "probability_yes"]
    assert answer["prediction"]["enum"] == ["no", "yes"] and answer["probability_yes"]["type"] == "number"
    assert schemas["PredictRequest"]["properties"]["rows"]["maxItems"] == 10_000
    example = schemas["PredictRequest"]["examples"][0]  # the documented example is a valid request
    assert api.post("/predict", json=example).status_code == 200


def test_embedded_categories_and_a_residual_block_are_served(churn, tmp_path):
    df = churn[0]
    spec = {"data": {"target": "churned"}, "input": {"kind": "tabular", "categorical": "embedding",
                                                     "embedding_min_levels": 3},
            "layers": [{"type": "residual", "layers": [{"type": "dense", "units": 8}]}], "training": {"epochs": 2}}
    _, bundle, _ = _save(tmp_path / "embedded", df, spec)
    assert "embedded" in [name for name, _, _ in bundle.preprocessing.preprocessor.transformers_]
    api = client(bundle)
    inputs = {c["name"]: c for c in api.get("/").json()["inputs"]}
    assert inputs["contract"]["known_values"] == ["month-to-month", "one year", "two year"]
    rows = json_rows(df.head(12), bundle.meta["feature_columns"])
    rows[0]["contract"] = "lifetime"  # unseen: the embedding's unknown row, as in Bundle.predict
    assert api.post("/predict", json={"rows": rows}).json()["predictions"] == expected(bundle, rows)


def test_column_names_that_are_not_identifiers(tmp_path):
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame({"monthly charge ($)": rng.normal(50, 10, n), "class": rng.choice(["a", "b", "c"], n),
                       "2nd-score": rng.normal(0, 1, n), "model_config": rng.normal(0, 1, n),
                       "label": rng.choice(["x", "y"], n)})
    _, bundle, _ = _save(tmp_path / "odd", df, _dense("label", epochs=2))
    api = client(bundle)
    props = api.get("/openapi.json").json()["components"]["schemas"]["Row"]["properties"]
    assert list(props) == ["monthly charge ($)", "class", "2nd-score", "model_config"]
    rows = json_rows(df.head(5), props)
    answer = api.post("/predict", json={"rows": rows})
    assert answer.status_code == 200 and answer.json()["predictions"] == expected(bundle, rows)
    bad = api.post("/predict", json={"rows": [{**rows[0], "monthly charge ($)": "lots"}]}).json()["detail"]
    assert bad == "rows[0].monthly charge ($) must be a number or null; got 'lots'"


def _good_row(df, bundle):
    return json_rows(df.head(1), bundle.meta["feature_columns"])[0]


BAD_REQUESTS = [  # (change to a good row or a whole body, status, fragment of the detail)
    (lambda row: {"rows": [{k: v for k, v in row.items() if k not in ("age", "plan")}]}, 422,
     "rows[0] lacks 2 column(s) the model needs: 'age', 'plan'"),
    (lambda row: {"rows": [row | {"age": "abc"}]}, 422, "rows[0].age must be a number or null; got 'abc'"),
    (lambda row: {"rows": [row | {"age": True}]}, 422, "rows[0].age must be a number or null; got True"),
    (lambda row: {"rows": [row, row | {"plan": 3}]}, 422, "rows[1].plan must be text (a category) or null; got 3"),
    (lambda row: {"rows": [row | {"paperless_billing": [1]}]}, 422, "rows[0].paperless_billing must be true/false"),
    (lambda row: {"rows": [row | {"signup_date": "yesterday"}]}, 422, "rows[0].signup_date must be a date"),
    (lambda row: {"rows": []}, 422, "'rows' is empty; send at least one row"),
    (lambda row: {"rows": [row] * 6}, 413, "'rows' asks for 6 rows; this server takes at most 5"),
    (lambda row: {"rows": "all of them"}, 422, "'rows' must be a list of row objects"),
    (lambda row: {"rows": [row, 7]}, 422, "rows[1] must be an object of column: value pairs; got 7"),
    (lambda row: {"row": [row]}, 422, "the request body lacks 'rows'"),
    (lambda row: [row], 422, "the request body must be a JSON object"),
    (lambda row: None, 422, "the request body must be a JSON object like"),
]


@pytest.mark.parametrize("make, status, fragment", BAD_REQUESTS)
def test_bad_requests_get_a_readable_4xx(churn, make, status, fragment):
    df, bundle, _ = churn
    answer = client(bundle, max_rows=5).post("/predict", json=make(_good_row(df, bundle)))
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and fragment in detail, detail


@pytest.mark.parametrize("raw, fragment", [
    (b'{"rows": [', "the request body is not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    (b"[" * 50_000, "could not be read as JSON"),  # nesting deeper than Python's JSON decoder goes
])
def test_invalid_json_is_a_4xx(churn, raw, fragment):
    answer = client(churn[1]).post("/predict", content=raw, headers={"content-type": "application/json"})
    assert 400 <= answer.status_code < 500 and fragment in answer.json()["detail"], answer.text


def test_a_body_over_the_size_limit_is_413_before_it_is_read(churn):
    headers = {"content-type": "application/json", "content-length": "99999999"}
    answer = client(churn[1], max_rows=5).post("/predict", content=b"{}", headers=headers)
    assert answer.status_code == 413 and "send fewer rows per request" in answer.json()["detail"]


def test_garbage_never_gets_a_500(churn):
    df, bundle, _ = churn
    api = client(bundle, max_rows=20)
    row = _good_row(df, bundle)
    rng = np.random.default_rng(0)
    values = [None, "", " ", "NaN", 1e308, -1e308, 10**400, -0.0, [], {}, [None], {"a": 1}, True, "\u0000",
              "é" * 500, "2024-99-99", "9999-12-31", 3.5, -7, "yes", "1,5"]
    bodies = [{}, [], "", 0, "rows", {"rows": None}, {"rows": {}}, {"rows": [[]]}, {"rows": [None]},
              {"rows": [row], "extra": 1}, {"rows": [{}] * 3}]
    for _ in range(60):  # every column given a random odd value
        bodies.append({"rows": [{k: values[rng.integers(len(values))] for k in row}]})
    texts = [b"", b"null", b"NaN", b'{"rows": [{"age": NaN, "monthly_charges": Infinity}]}', b"\x00" * 10,
             b'{"rows": 1e999}', b'{"rows": [' + b'{"a": 1},' * 1000 + b"{}]}",
             '{"rows": ["\udc80"]}'.encode("utf-8", "surrogatepass")]
    answers = [api.post("/predict", json=body) for body in bodies]
    answers += [api.post("/predict", content=text, headers={"content-type": "application/json"}) for text in texts]
    answers += [api.post("/predict", content=b"rows=1", headers={"content-type": "text/plain"}),
                api.get("/predict"), api.post("/nothing-here"), api.post("/generate", json={"rows": 1})]
    for answer in answers:
        assert answer.status_code in (200, 400, 404, 405, 413, 422), answer.text
        if answer.status_code >= 400:
            assert isinstance(answer.json()["detail"], str) and answer.json()["detail"]
    assert answers[9].status_code == 200  # an unknown top-level key is ignored like an unknown column


def test_an_engine_error_is_400_with_its_message(sales):
    df, bundle, _ = sales
    rows = json_rows(df.head(5), ["date", "sales", "temperature", "holiday"])  # shorter than the 14-step window
    answer = client(bundle).post("/predict", json={"rows": rows})
    assert answer.status_code == 400 and "14" in answer.json()["detail"], answer.text


def test_a_bug_is_a_500_that_names_no_internals_of_the_request(churn, monkeypatch):
    df, bundle, _ = churn
    monkeypatch.setattr(bundle, "predict", lambda frame: 1 / 0)
    answer = client(bundle).post("/predict", json={"rows": [_good_row(df, bundle)]})
    assert answer.status_code == 500 and answer.json()["detail"].startswith("internal error (ZeroDivisionError)")


def test_forecast_answers_what_the_bundle_forecasts(sales):
    df, bundle, _ = sales
    rows = json_rows(df.head(30), ["date", "sales", "temperature", "holiday"])
    answer = client(bundle).post("/predict", json={"rows": rows}).json()["predictions"]
    assert answer == expected(bundle, rows) and len(answer) == 30 - 14 + 1
    assert list(answer[0]) == ["window_end", "steps_ahead", "prediction"]
    assert answer[-1]["window_end"] == rows[-1]["date"]  # the last window forecasts beyond the history
    props = client(bundle).get("/openapi.json").json()["components"]["schemas"]["Row"]["properties"]
    assert set(props) == {"date", "sales", "temperature", "holiday"}


def test_autoencoder_answers_scores_and_latent_codes(anomalies):
    df, bundle, _ = anomalies
    rows = json_rows(df.head(20), bundle.meta["feature_columns"])
    api = client(bundle)
    answer = api.post("/predict", json={"rows": rows}).json()["predictions"]
    assert answer == expected(bundle, rows)
    latent = bundle.spec.autoencoder_settings.latent_dim
    assert list(answer[0]) == ["anomaly_score", "anomaly", *[f"latent_{k + 1}" for k in range(latent)]]
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert list(schemas["PredictionsRow"]["properties"]) == list(answer[0])


def test_gan_generates_instead_of_predicting(people_gan):
    _, bundle, _ = people_gan
    api = client(bundle, max_rows=50)
    first = api.post("/generate", json={"rows": 5, "seed": 3}).json()["rows"]
    again = api.post("/generate", json={"rows": 5, "seed": 3}).json()["rows"]
    assert first == records(bundle.generate(5, seed=3)) == again
    assert list(first[0]) == ["age", "height", "weight", "income", "sex"]
    refused = api.post("/predict", json={"rows": [{"age": 30}]})
    assert refused.status_code == 400 and "POST /generate" in refused.json()["detail"]
    assert api.post("/generate", json={"rows": 51}).status_code == 413
    for body in ({"rows": 0}, {"rows": "many"}, {"rows": 2, "seed": -1}, {"rows": 2, "colour": "red"}, {}):
        answer = api.post("/generate", json=body)
        assert answer.status_code == 422 and "\n" not in answer.json()["detail"], answer.text
    paths = api.get("/openapi.json").json()["paths"]
    assert "/generate" in paths and "/predict" not in paths


def test_generate_on_a_predicting_bundle_is_400(diabetes):
    answer = client(diabetes[1]).post("/generate", json={"rows": 3})
    assert answer.status_code == 400 and "only a GAN bundle generates" in answer.json()["detail"]


@pytest.mark.parametrize("max_rows", [0, -5, 2.5, "10"])
def test_create_app_refuses_a_bad_row_limit(diabetes, max_rows):
    with pytest.raises(NNBuilderError, match="max_rows must be a whole number of at least 1"):
        create_app(diabetes[1], max_rows=max_rows)


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                            ("example.com", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def _cli_fails(args, capsys, fragment):
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in err, err


def test_cli_refuses_a_missing_or_tampered_bundle(tmp_path, churn, capsys):
    _cli_fails(["serve", str(tmp_path / "nothing")], capsys, "does not exist")
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in churn[2].iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    (copy / "meta.json").write_text((copy / "meta.json").read_text().replace('"binary"', '"regression"'))
    _cli_fails(["serve", str(copy)], capsys, "meta.json was altered")


@pytest.mark.parametrize("args, fragment", [(["--port", "0"], "--port must be from 1 to 65535"),
                                            (["--port", "70000"], "--port must be from 1 to 65535"),
                                            (["--max-rows", "0"], "--max-rows must be at least 1")])
def test_cli_refuses_bad_options(churn, capsys, args, fragment):
    _cli_fails(["serve", str(churn[2]), *args], capsys, fragment)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_refuses_a_port_in_use(churn, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        _cli_fails(["serve", str(churn[2]), "--port", str(taken.getsockname()[1])], capsys, "cannot listen on")


def test_serve_warns_only_off_loopback(churn, capsys, monkeypatch):
    import uvicorn
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))  # no server: only what comes before
    port = _free_port()
    assert main(["serve", str(churn[2]), "--port", str(port)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["serve", str(churn[2]), "--host", "0.0.0.0", "--port", str(port), "--max-rows", "7"]) == 0
    assert "warning: listening on 0.0.0.0, not loopback" in capsys.readouterr().err
    assert calls == [{"host": "127.0.0.1", "port": port, "log_level": "info"},
                     {"host": "0.0.0.0", "port": port, "log_level": "info"}]


def test_serve_end_to_end_in_a_real_process(churn, tmp_path):
    df, bundle, folder = churn
    port, log = _free_port(), tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with open(log, "wb") as sink:  # a file, not a pipe: a full pipe would block the server
        server = subprocess.Popen([sys.executable, "-m", "nnbuilder", "serve", str(folder), "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, log.read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as reply:
                    assert json.load(reply)["status"] == "ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer /health within 90 s"
                time.sleep(0.3)
        rows = json_rows(df.head(8), bundle.meta["feature_columns"])
        ask = urllib.request.Request(f"{base}/predict", data=json.dumps({"rows": rows}).encode(),
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(ask, timeout=30) as reply:
            assert json.load(reply)["predictions"] == expected(bundle, rows)
        bad = urllib.request.Request(f"{base}/predict", data=b'{"rows": []}',
                                     headers={"content-type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad, timeout=30)
        assert refused.value.code == 422 and "'rows' is empty" in json.load(refused.value)["detail"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    output = log.read_text()
    assert f"on http://127.0.0.1:{port}" in output and "warning" not in output, output[-2000:]
