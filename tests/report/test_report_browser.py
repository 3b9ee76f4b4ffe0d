"""The report in a real browser: Debian's headless Chromium, driven by Selenium through
/usr/bin/chromedriver (Selenium Manager is never asked to find or download anything).

The page must render every plot (plotly draws an SVG ``.main-svg`` into each plot ``<div>``),
as many plots as the page says, with no SEVERE console message and no request leaving the
page (file:// for the report on disk, the viewer's own origin when served). Screenshots go to
``tests-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.report import ReportFiles, write_report
from behaviorlab.runs import Run

from .conftest import PAYLOAD, RESAMPLES

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "tests-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
        "/usr/bin/chromedriver): apt-get install chromium chromium-driver",
    ),
]

RENDER_TIMEOUT_S = 60


@pytest.fixture
def driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def no_manager(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Selenium Manager was asked to find (or download) a driver")

    monkeypatch.setattr(SeleniumManager, "binary_paths", no_manager)
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(RENDER_TIMEOUT_S)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def files(main_run: Run, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return write_report(main_run, tmp_path_factory.mktemp("browser"), n_resamples=RESAMPLES)


def _wait_for_plots(driver: Any) -> int:
    """Wait until every plot div holds plotly's SVG; return the number of plots."""
    from selenium.webdriver.support.ui import WebDriverWait

    script = """
        const divs = [...document.querySelectorAll('.plotly-graph-div')];
        return divs.length > 0 && divs.every(d => d.querySelector('.main-svg') !== null)
            ? divs.length : 0;
    """
    return int(WebDriverWait(driver, RENDER_TIMEOUT_S).until(lambda d: d.execute_script(script)))


def _check_page(driver: Any, allowed_origin: str) -> int:
    from selenium.webdriver.common.by import By

    n = _wait_for_plots(driver)
    body = driver.find_element(By.TAG_NAME, "body")
    assert n == int(body.get_attribute("data-plot-count")) > 0
    meta = driver.find_element(By.CSS_SELECTOR, 'meta[name="behaviorlab-plots"]')
    assert int(meta.get_attribute("content")) == n
    for div in driver.find_elements(By.CSS_SELECTOR, ".plotly-graph-div"):
        size = div.size
        assert size["width"] > 200 and size["height"] > 150, div.get_attribute("id")
        plot_id = div.get_attribute("id")
        assert div.find_elements(By.CSS_SELECTOR, ".main-svg .cartesianlayer .subplot"), plot_id
        drawn = driver.execute_script("return arguments[0]._fullData.length", div)
        assert drawn > 0, plot_id
    sections = driver.find_elements(By.CSS_SELECTOR, "main section")
    assert len(sections) >= 11 and all(s.is_displayed() for s in sections)
    # the raw output shows as text; no script from the data ran
    assert PAYLOAD in driver.find_element(By.ID, "failures").text
    assert driver.execute_script("return window.alert.toString().includes('native code')")
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe
    resources = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert all(r.startswith(allowed_origin) for r in resources), resources
    return n


def _screenshot(driver: Any, name: str) -> Path:
    """A full-page PNG (Chromium's DevTools capture beyond the viewport)."""
    import base64

    ARTIFACTS.mkdir(exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# test artifacts (screenshots): not versioned\n*\n")
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path = ARTIFACTS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def test_report_file_renders_offline(driver: Any, files: ReportFiles) -> None:
    driver.get(files.html.as_uri())
    n = _check_page(driver, "file://")
    assert n == files.html.read_text(encoding="utf-8").count('class="plotly-graph-div"')
    driver.save_screenshot(str(ARTIFACTS / "report-top.png"))
    path = _screenshot(driver, "report.png")
    assert path.stat().st_size > 50_000


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def viewer(main_run: Run, tmp_path: Path) -> Iterator[str]:
    """The viewer on 127.0.0.1 (a free port), in a thread; stopped with ``should_exit``."""
    import uvicorn

    from behaviorlab.report._viewer import create_app

    root = tmp_path / "runs"
    shutil.copytree(main_run.results_path.parent, root / "syn-report")
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(root, n_resamples=RESAMPLES),
        log_level="warning",
        lifespan="off",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the viewer did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        assert not thread.is_alive()


def test_viewer_lists_runs_and_opens_the_report(driver: Any, viewer: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(viewer + "/")
    link = driver.find_element(By.LINK_TEXT, "syn-report")
    assert "finished" in driver.find_element(By.TAG_NAME, "table").text
    link.click()
    _check_page(driver, viewer)
    assert driver.current_url == viewer + "/runs/syn-report"
    _screenshot(driver, "viewer-report.png")
