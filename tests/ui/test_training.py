"""Plain-language lines about a training job, from hand-made snapshots."""




from types import SimpleNamespace

from ui.training import duration, finished_line, job_rows, progress_text


def snap(**kw):
    base = dict(id="a" * 32, label="moons", status="running", queue_position=None, epoch=3, epochs=10,
                batch=0, n_batches=5, history=(), metric="accuracy", elapsed_s=4.0, eta_s=12.4)
    return SimpleNamespace(**(base | kw))


def test_progress_text():
    assert progress_text(snap()) == "Epoch 3/10, ~12s left"
    assert progress_text(snap(status="queued", queue_position=2)) == "Waiting in the queue: position 2"
    assert progress_text(snap(epochs=0, epoch=0)) == "Preparing the data…"
    assert progress_text(snap(status="done", epoch=10)).startswith("Epoch 10/10 (finished")


def test_duration():
    assert duration(5.2) == "5s" and duration(75) == "1m 15s" and duration(3700) == "1h 01m" and duration(None) == "…"


def test_finished_line_names_the_test_metric():
    trained = SimpleNamespace(metrics={"test": {"n": 30, "accuracy": 0.9}}, fit=SimpleNamespace(
        history=[{}] * 12, stop_reason="early_stopped"))
    line = finished_line(trained)
    assert "12 epochs" in line and "test accuracy 90.0%" in line and "Evaluate" in line and "early" in line
    regression = SimpleNamespace(metrics={"test": {"n": 30, "r2": 0.5}}, fit=SimpleNamespace(
        history=[{}], stop_reason="completed"))
    assert "test R² 0.500" in finished_line(regression)
    forecast = SimpleNamespace(metrics={"test": {"n": 30, "r2": 0.8, "rmse": 11.4, "baseline_rmse": 21.9}},
                               fit=SimpleNamespace(history=[{}], stop_reason="completed"))
    assert "test RMSE 11.4 (last-value baseline 21.9)" in finished_line(forecast)
    anomalies = SimpleNamespace(metrics={"test": {"n": 30, "reconstruction_error_mean": 0.0412, "flagged_share": 0.05,
                                                  "roc_auc": 0.987}},
                                fit=SimpleNamespace(history=[{}], stop_reason="completed"))
    assert ("test mean reconstruction error 0.0412, 5.0% of rows flagged, ROC AUC 0.987"
            in finished_line(anomalies))
    anomalies.metrics["test"].pop("roc_auc")
    assert "ROC AUC" not in finished_line(anomalies)


def test_job_rows():
    rows = job_rows([snap(history=({"val_accuracy": 0.8},))])
    assert rows[0]["status"] == "training" and rows[0]["last score"] == "accuracy 0.800"
    assert rows[0]["epochs"] == "3/10"
