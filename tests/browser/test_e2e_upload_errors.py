"""A file that is not a usable CSV gets a readable message, and the table already chosen stays."""

from __future__ import annotations

import os
import re

import pytest

pytestmark = pytest.mark.browser

GOOD_CSV = "height,weight,smoker,label\n" + "".join(
    f"{150 + i},{50 + (i * 7) % 40},{'yes' if i % 3 else 'no'},{'a' if i % 2 else 'b'}\n" for i in range(40))


@pytest.mark.parametrize("name, content", [
    ("empty.csv", b""),
    ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
    ("random.csv", os.urandom(4096).replace(b"\n", b"\x00")),
], ids=["empty", "png", "random-bytes"])
def test_bad_upload_keeps_data(app, tmp_path, name, content):
    page = app.page
    good = tmp_path / "measurements.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    bad = tmp_path / name
    bad.write_bytes(content)

    app.open()
    app.upload("Upload a CSV", good)
    page.get_by_role("heading", name="Preview of measurements.csv").wait_for()
    app.choose("Target column", "smoker")

    app.upload("Upload a CSV", bad)
    error = page.locator('[data-testid="stAlert"]').filter(has_text=name).first
    error.wait_for()
    message = error.inner_text()
    assert "still using measurements.csv" in message, message
    assert re.search(r"empty|binary|no data rows", message), message
    app.assert_no_traceback()

    # The previous table, its target and the sidebar line are all unchanged.
    page.get_by_role("heading", name="Preview of measurements.csv").wait_for()
    assert page.get_by_role("combobox", name="Target column").input_value() == "smoker"
    sidebar = page.locator('[data-testid="stSidebarUserContent"]').inner_text()
    assert "measurements.csv" in sidebar, sidebar
    page.get_by_text(re.compile(r"^Ready: \d+ input columns")).wait_for()
