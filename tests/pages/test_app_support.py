"""Helpers shared by the AppTest tests (this module holds no tests itself)."""

from __future__ import annotations

import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

from streamlit.testing.v1 import AppTest  # noqa: E402

from nnbuilder.data.pipeline import load_table  # noqa: E402
from nnbuilder.spec.network import default_spec, parse_spec  # noqa: E402
from nnbuilder.runs.workflow import train_from_spec  # noqa: E402

APP = ROOT / "app.py"
PAGES = {
    "Data": "pages/1_Data.py", "Build": "pages/2_Build.py", "Train": "pages/3_Train.py",
    "Evaluate": "pages/4_Evaluate.py", "Predict": "pages/5_Predict.py", "Export": "pages/6_Export.py",
    "Lessons": "pages/7_Lessons.py",
}
TIMEOUT = 60  # the first run imports torch and scikit-learn


def open_app(page: str = "Data", query: dict | None = None, session: dict | None = None) -> AppTest:
    """The whole app (app.py + st.navigation), run once, then switched to `page`."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page != "Data":
        goto(at, page)
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value.endswith(page)
    return at


def by_label(widgets, label: str):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}; have {[w.label for w in widgets]}"
    return found[0]


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def charts(at: AppTest) -> list:
    return at.get("plotly_chart")


def run_ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def wait_for_job(at: AppTest, timeout: float = 120):
    """Block until the session's current job has finished, then rerun the page once."""
    from ui.jobs import registry

    job_id = at.session_state["job_id"]
    snap = registry().wait(job_id, timeout)
    assert snap is not None and snap.finished, snap
    run_ok(at)
    return snap


@functools.lru_cache(maxsize=None)
def trained_model(dataset: str, target: str, epochs: int = 5, split: tuple = (0.7, 0.15, 0.15)):
    """A small model trained directly with the engine, to seed Evaluate/Predict/Export."""
    df, _ = load_table(f"sample:{dataset}")
    data = default_spec(target).model_dump(mode="json")
    data["training"]["epochs"] = epochs
    data["data"]["split"] = dict(zip(("train", "val", "test"), split))
    return train_from_spec(df, parse_spec(data)), df


def train_in_app(at: AppTest, epochs: int):
    """Set the epochs on the Train page, press Train and wait for the run to finish; returns its snapshot."""
    goto(at, "Train")
    by_label(at.number_input, "Epochs").set_value(epochs)
    run_ok(at)
    by_label(at.button, "Train").click()
    run_ok(at)
    snap = wait_for_job(at)
    assert snap.status == "done", snap
    return snap
