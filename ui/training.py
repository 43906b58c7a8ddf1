"""Plain-language text about a training job, from its snapshot. Pure: no Streamlit.

The Train page shows these lines; tests check them with hand-made snapshots.
"""

from __future__ import annotations

from nnbuilder.tasks import find_task


METRIC_NAMES = {"accuracy": "accuracy", "r2": "R²", "reconstruction_r2": "reconstruction R²"}
STATUS_WORDS = {
    "queued": "waiting", "running": "training", "done": "finished",
    "failed": "failed", "cancelled": "stopped",
}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def progress_text(snapshot) -> str:
    """'Epoch 3/20, ~12s left' for a running job; a short status line otherwise."""
    if snapshot.status == "queued":
        return f"Waiting in the queue: position {snapshot.queue_position}"
    if snapshot.status == "running" and not snapshot.epochs:
        return "Preparing the data…"
    text = f"Epoch {snapshot.epoch}/{snapshot.epochs}"
    if snapshot.status == "running":
        text += f", ~{duration(snapshot.eta_s)} left" if snapshot.eta_s is not None else ", estimating time left…"
    else:
        text += f" ({STATUS_WORDS.get(snapshot.status, snapshot.status)} after {duration(snapshot.elapsed_s)})"
    return text


def format_metric(name: str, value) -> str:
    if value is None:
        return "n/a"
    if name in ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc"):
        return f"{value:.1%}" if name in ("accuracy", "balanced_accuracy") else f"{value:.3f}"
    if name in ("r2", "reconstruction_r2", "precision", "recall"):
        return f"{value:.3f}"
    if name == "flagged_share":
        return f"{value:.1%}"
    return f"{value:.4g}"


def finished_line(trained) -> str:
    """The success line: the headline test metric and where to go next."""
    test = trained.metrics.get("test") or {}
    split = "test"
    if not test.get("n"):
        test, split = trained.metrics.get("val") or {}, "validation"
    if "accuracy" in test:
        headline = f"{split} accuracy {format_metric('accuracy', test['accuracy'])}"
    elif "baseline_rmse" in test:
        headline = (f"{split} RMSE {format_metric('rmse', test['rmse'])} (last-value baseline "
                    f"{format_metric('rmse', test['baseline_rmse'])})")
    elif "reconstruction_error_mean" in test:
        headline = (f"{split} mean reconstruction error {format_metric('', test['reconstruction_error_mean'])}, "
                    f"{format_metric('flagged_share', test['flagged_share'])} of rows flagged")
        if test.get("roc_auc") is not None:
            headline += f", ROC AUC {format_metric('roc_auc', test['roc_auc'])}"
    elif "r2" in test:
        headline = f"{split} R² {format_metric('r2', test['r2'])}"
    else:
        headline = "no held-out rows to score"
    stop = {"early_stopped": " (stopped early: validation loss stopped improving)",
            "cancelled": " (stopped by you; the best epoch so far is kept)"}.get(trained.fit.stop_reason, "")
    return (f"Training finished after {len(trained.fit.history)} epochs{stop}: {headline}. "
            "Open **Evaluate** to see how the model does, class by class.")


def job_rows(snapshots) -> list[dict]:
    """One row per job for the small 'your runs' table."""
    rows = []
    for snap in snapshots:
        last = snap.history[-1] if snap.history else {}
        metric = snap.metric
        value = last.get(f"val_{metric}") if metric else None
        if value is None and metric:
            value = last.get(f"train_{metric}")
        rows.append({
            "run": snap.label,
            "status": STATUS_WORDS.get(snap.status, snap.status),
            "epochs": f"{snap.epoch}/{snap.epochs}" if snap.epochs else "-",
            "last score": "" if value is None else f"{METRIC_NAMES.get(metric, metric)} {value:.3f}",
            "time": duration(snap.elapsed_s),
            "id": snap.id[:8],
        })
    return rows


def applicable_settings(columns: list[list[str]], task_name: str | None) -> tuple[list[list[str]], list[str]]:
    """(the settings columns without those the chosen task ignores, the ignored ones): from the task's record
    (nnbuilder.tasks.record.Task.ignored_settings); 'auto' resolves to a task that uses them all."""
    task = find_task(task_name)
    ignored = task.ignored_settings if task is not None else frozenset()
    return ([[name for name in names if name not in ignored] for names in columns],
            [name for names in columns for name in names if name in ignored])
