"""Every page renders on the default dataset, and the app opens ready to train."""

import pytest
from test_app_support import PAGES, by_label, goto, open_app, texts

from ui import state


@pytest.fixture(scope="module")
def app():
    return open_app()


def test_opens_ready_on_the_default_dataset(app):
    spec = app.session_state[state.SPEC]
    assert app.session_state[state.DATA_NAME] == "sample:moons"
    assert spec["data"]["target"] == "label"
    assert len(spec["layers"]) == 3
    assert app.query_params["owner"] == app.session_state["owner"]
    assert by_label(app.selectbox, "Target column").value == "label"


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders(app, page):
    goto(app, page)
    assert not app.error, texts(app.error)


@pytest.mark.parametrize("page", ["Evaluate", "Predict", "Export"])
def test_pages_before_training_say_what_to_do(app, page):
    goto(app, page)
    assert any("Nothing trained yet" in text for text in texts(app.info))


def test_export_offers_the_spec_before_training(app):
    goto(app, "Export")
    assert [b.label for b in app.get("download_button")] == ["Download spec JSON"]


def test_owner_token_from_the_url_is_kept():
    at = open_app(query={"owner": "ab" * 16})
    assert at.session_state["owner"] == "ab" * 16 and at.query_params["owner"] == "ab" * 16


def test_a_malformed_owner_token_is_replaced():
    at = open_app(query={"owner": "<script>"})
    assert at.session_state["owner"] != "<script>" and len(at.session_state["owner"]) == 32
