"""Embeddings, a residual block and the ONNX export in a real browser: the downloaded file predicts like the model.

rentals -> categorical embeddings -> a residual block on Build -> train -> Export: prepare and download the
ONNX file and the training script -> ONNX Runtime on the raw columns agrees with the app's own bundle.
"""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest

pytestmark = pytest.mark.browser

TRAIN_TIMEOUT_MS = 120_000


def test_embeddings_residual_and_onnx_download(app, tmp_path):
    page = app.page
    app.open()
    app.heading("Data").wait_for()
    app.choose("Built-in dataset", next(o for o in _dataset_options(page) if o.startswith("rentals")))
    app.choose("Categorical columns", "Embeddings (a learned vector per category)")
    page.get_by_text(re.compile(r"^Ready: 4 input columns")).wait_for()
    app.assert_no_traceback()

    app.go_to("Build")
    app.choose("Layer type", "Residual block (skip connection)")
    page.get_by_role("button", name="Add layer", exact=True).click()
    app.wait()
    page.get_by_text("Embeddings", exact=True).first.wait_for()  # the layer table's embedding row
    app.assert_no_traceback()
    app.screenshot("build_residual")

    app.go_to("Train")
    app.set_number("Epochs", 15)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"^Training finished after \d+ epochs")).wait_for(timeout=TRAIN_TIMEOUT_MS)
    app.wait()

    app.go_to("Export")
    bundle_zip = app.download("Download model bundle (.zip)", tmp_path)
    assert zipfile.is_zipfile(bundle_zip)
    page.get_by_role("button", name="Prepare ONNX file").click()
    app.wait(timeout=TRAIN_TIMEOUT_MS)
    onnx_file = app.download("Download model.onnx", tmp_path)
    page.get_by_role("button", name="Prepare Python script").click()
    app.wait(timeout=TRAIN_TIMEOUT_MS)
    script = app.download("Download train_model.py", tmp_path)
    page.get_by_text(re.compile(r"^# Model card|Model card: Regression")).first.wait_for()
    app.assert_no_traceback()
    app.screenshot("export_formats")

    import onnxruntime as ort

    from nnbuilder.bundle.bundle import load_bundle
    from nnbuilder.data.pipeline import load_table

    rows = load_table("sample:rentals")[0].head(50)
    session = ort.InferenceSession(str(onnx_file))
    feeds = {i.name: (rows[i.name].astype(str).to_numpy() if i.type == "tensor(string)"
                      else rows[i.name].to_numpy(dtype=np.float32)).reshape(-1, 1) for i in session.get_inputs()}
    onnx_rent = session.run(["prediction"], feeds)[0].reshape(-1)
    bundle_rent = load_bundle(bundle_zip).predict(rows)["prediction"].to_numpy()
    np.testing.assert_allclose(onnx_rent, bundle_rent, rtol=1e-4, atol=1e-2)
    assert "class Net(nn.Module)" in script.read_text(encoding="utf-8")


def _dataset_options(page) -> list[str]:
    box = page.get_by_role("combobox", name="Built-in dataset", exact=True)
    box.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options
