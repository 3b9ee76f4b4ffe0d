"""The rating form in Debian's headless Chromium (Selenium through /usr/bin/chromedriver,
never Selenium Manager): a person rates a stored patient transcript at /rate/RUN/TRIAL, the
rating lands in the run's ratings.sqlite, and the transcript's markup stays text. The viewer
runs on 127.0.0.1 in a thread, started and stopped by the test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import behaviorlab as bl
from behaviorlab.report._rating import read_ratings

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_S = 30
EVIL = "<b>bold</b> <script>window.pwned = 1</script> hello"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
        "/usr/bin/chromedriver): apt-get install chromium chromium-driver",
    ),
]


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
        "--no-first-run",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(WAIT_S)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A mock patient run under ``tmp/runs`` and the viewer over it on a free loopback port."""
    import uvicorn

    from behaviorlab.report._viewer import create_app

    spec = {
        "name": "rated",
        "task": "patient_session",
        "task_options": {"turns": 2, "judges": [{"kind": "keywords"}]},
        "data": {
            "source": "patient_models",
            "options": {"models": 2, "sessions": 1, "planted": 0},
            "split": {"test": 1.0},
        },
        "parties": [
            {
                "label": "p",
                "roles": {
                    "therapist": {"name": "script", "cycle": True, "lines": [EVIL]},
                    "patient": {"name": "scripted_patient", "level": "explicit"},
                },
            }
        ],
        "cache": False,
    }
    root = tmp_path / "runs"
    bl.run(spec, out=root, progress=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(root), log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the viewer did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", root / "rated"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        assert not thread.is_alive()


def _click(driver: Any, css: str) -> None:
    """Click as a person would, scrolled into view first."""
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.CSS_SELECTOR, css)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def test_a_person_rates_a_transcript_at_the_page(driver: Any, served: tuple[str, Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, folder = served
    driver.get(f"{base}/rate")
    links = driver.find_elements(By.CSS_SELECTOR, "table.rate-trials a")
    assert len(links) == 2
    links[0].click()
    WebDriverWait(driver, WAIT_S).until(lambda d: d.find_elements(By.ID, "rate-form"))
    text = driver.find_element(By.ID, "rating-text").text
    assert EVIL in text  # shown as text, not run
    assert driver.execute_script("return window.pwned === undefined")
    driver.find_element(By.ID, "rater").send_keys("dana")
    for value in ("helpless", "sad", "anxious"):
        _click(driver, f"input[value='{value}']")
    _click(driver, "input[name='style'][value='plain']")
    _click(driver, "#submit")
    WebDriverWait(driver, WAIT_S).until(lambda d: "stored" in d.find_element(By.ID, "message").text)
    (rating,) = read_ratings(folder)
    assert rating.rater == "dana"
    assert rating.answers == {
        "core_beliefs": ["helpless"],
        "emotions": ["anxious", "sad"],
        "style": "plain",
    }
