"""Real-browser harness: a Streamlit server on a free loopback port, headless Chromium, page helpers.

Every test in this folder drives the app the way a visitor does: it clicks sidebar
links, fills widgets found by their visible labels and waits for Streamlit to
finish each rerun. The tests skip (with the reason) where Chromium or Playwright
is missing, unless NNBUILDER_REQUIRE_BROWSER=1 (CI sets it): then they fail.

Sync Playwright runs its own event loop, so no test here may run inside asyncio.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
REQUIRE_ENV = "NNBUILDER_REQUIRE_BROWSER"
SCREENSHOT_ENV = "NNBUILDER_SCREENSHOT_DIR"  # where page screenshots go (default docs/screenshots)
HOST = "127.0.0.1"  # the tests talk to this address only
STARTUP_S = 60
VIEWPORT = {"width": 1400, "height": 900}
RERUN_MS = 30_000  # one script run: generous for a 2-core box, still bounded
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-proxy-server", "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config, items):
    """Mark every test in this folder `browser` (the modules say so too), so `-m "not browser"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str | None:
    return next((p for p in CHROMIUM_CANDIDATES if p and os.access(p, os.X_OK)), None)


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "the Python package 'playwright' is not installed (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "no Chromium found (/usr/bin/chromium or `chromium` on PATH); on Debian: apt-get install chromium"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Skip, or under NNBUILDER_REQUIRE_BROWSER=1 fail, when there is no browser to drive."""
    reason = _missing()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"browser tests are required ({REQUIRE_ENV}=1) but cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (set {REQUIRE_ENV}=1 to make this an error)")


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _healthy(base_url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
    try:
        with opener.open(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def streamlit_server(log_path: Path):
    """Run `streamlit run app.py` on a free loopback port; yields its base URL once healthy."""
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", HOST, "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    env = {**os.environ, "NNBUILDER_MAX_JOBS": "2", "PYTHONUNBUFFERED": "1", "NO_PROXY": HOST, "no_proxy": HOST}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_S
        while not _healthy(base_url):
            if process.poll() is not None:
                pytest.fail(f"the Streamlit server exited with code {process.returncode} during startup:\n"
                            f"{_tail(log_path)}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"the Streamlit server was not healthy at {base_url}/_stcore/health after "
                            f"{STARTUP_S}s:\n{_tail(log_path)}", pytrace=False)
            time.sleep(0.25)
        yield base_url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("streamlit") / "server.log"


@pytest.fixture(scope="session")
def app_url(browser_ready, server_log) -> str:
    """The base URL of one Streamlit server shared by the session's tests."""
    with streamlit_server(server_log) as base_url:
        yield base_url


# ---------------------------------------------------------------- the browser

@pytest.fixture(scope="session")
def browser(browser_ready):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser, app_url, server_log, request):
    """A fresh context (new Streamlit session) per test; prints the server log's tail when the test fails."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(RERUN_MS)
    tab = context.new_page()
    console_errors: list[str] = []
    tab.on("pageerror", lambda exc: console_errors.append(str(exc)))
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"\n--- page URL: {tab.url}\n--- browser page errors: {console_errors[-10:]}\n"
              f"--- server log tail:\n{_tail(server_log)}")
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    folder = Path(os.environ.get(SCREENSHOT_ENV) or REPO / "docs" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ---------------------------------------------------------------- the app, as a visitor drives it

class App:
    """One browser tab on the app, with the steps the tests share. Waits are bounded (RERUN_MS)."""

    def __init__(self, page, base_url: str, screenshot_dir: Path):
        self.page = page
        self.base_url = base_url
        self.screenshot_dir = screenshot_dir

    def wait(self, timeout: int = RERUN_MS, settle_ms: int = 200) -> None:
        """Wait until Streamlit is connected and no script run is under way (nor requested)."""
        self.page.wait_for_timeout(settle_ms)  # a click's rerun request reaches the server first
        self.page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout)
        self.page.wait_for_function(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                return app && app.dataset.testScriptState === 'notRunning'
                    && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
            }""", timeout=timeout)

    def open(self, path: str = "") -> None:
        self.page.goto(f"{self.base_url}/{path}", wait_until="domcontentloaded")
        self.page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=RERUN_MS)
        self.wait()

    def heading(self, title: str):
        return self.page.get_by_role("heading", name=re.compile(rf"^\d+ · {re.escape(title)}$"))

    def go_to(self, title: str) -> None:
        """Switch page through the sidebar link (keeps the session), then wait for the page's title."""
        self.page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
        self.heading(title).wait_for(timeout=RERUN_MS)
        self.wait()

    def main_text(self) -> str:
        return self.page.locator('[data-testid="stMain"]').inner_text()

    def choose(self, label: str, option: str) -> None:
        """Pick `option` in the selectbox labelled `label` (a combobox in Streamlit 1.67)."""
        box = self.page.get_by_role("combobox", name=label, exact=True)
        box.click()
        box.fill(option)  # the combobox filters its options by the typed text, and opens the list
        self.page.get_by_role("option", name=option, exact=True).click()
        self.wait()
        assert box.input_value() == option, f"{label!r} shows {box.input_value()!r}, not {option!r}"

    def set_number(self, label: str, value) -> None:
        """Type into the number input labelled `label` and commit it (Enter), then wait for the rerun."""
        field = self.page.get_by_label(label, exact=True)
        field.fill(str(value))
        field.press("Enter")
        self.wait()

    def upload(self, label: str, path: Path) -> None:
        """Put a file into the `st.file_uploader` labelled `label`, then wait for the rerun it triggers."""
        widget = self.page.locator('[data-testid="stFileUploader"]').filter(has_text=label)
        widget.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
        self.page.wait_for_timeout(300)  # the file's HTTP upload goes first
        self.wait()

    def download(self, button_name: str, folder: Path) -> Path:
        """Click the download button named `button_name`; returns the saved file."""
        with self.page.expect_download(timeout=RERUN_MS) as info:
            self.page.get_by_role("button", name=button_name).click()
        download = info.value
        target = folder / download.suggested_filename
        download.save_as(str(target))
        return target

    def assert_no_traceback(self) -> None:
        text = self.main_text()
        assert "Traceback" not in text, f"a Python traceback is shown on the page:\n{text[:3000]}"
        assert self.page.locator('[data-testid="stException"]').count() == 0, "an uncaught exception box is shown"

    def screenshot(self, name: str) -> Path:
        """Save the whole page as `<name>.png`: 1400 px wide, as tall as its content.

        Streamlit scrolls inside its main container, so a plain full-page shot would
        stop at the viewport: the viewport is stretched to the content, then restored.
        """
        page = self.page
        self.wait()
        page.mouse.move(VIEWPORT["width"] - 5, VIEWPORT["height"] - 5)  # no hover effects in the picture
        charts = page.locator('[data-testid="stPlotlyChart"]')
        for index in range(charts.count()):  # charts in a hidden tab never draw: wait for the visible ones
            chart = charts.nth(index)
            if chart.is_visible():
                chart.locator(".main-svg").first.wait_for(timeout=RERUN_MS)
        height = page.evaluate(
            """() => Math.max(...['stMain', 'stAppViewContainer', 'stMainBlockContainer'].map(id => {
                const el = document.querySelector(`[data-testid="${id}"]`);
                return el ? el.scrollHeight : 0;
            }))""")
        page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], min(int(height), 5000))})
        page.wait_for_timeout(600)  # charts and tables lay themselves out again at the new size
        path = self.screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        page.set_viewport_size(VIEWPORT)
        page.wait_for_timeout(200)
        return path


@pytest.fixture
def app(page, app_url, screenshot_dir) -> App:
    """The shared server's app in a fresh tab (a new Streamlit session)."""
    return App(page, app_url, screenshot_dir)


@pytest.fixture
def fresh_app(page, browser_ready, tmp_path, screenshot_dir):
    """A server of its own that nobody has visited yet (some bugs show only on a process's first request)."""
    with streamlit_server(tmp_path / "fresh-server.log") as base_url:
        yield App(page, base_url, screenshot_dir)
