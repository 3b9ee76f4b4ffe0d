"""End to end in real headless Chromium with the extension loaded unpacked.

The ingest server and the demo shop run on loopback (``behaviorlab collect serve`` and
``behaviorlab collect shop`` in subprocesses); a scripted participant approves the study's
server in the extension's options page (opened with ``?server=``), opens the join link,
consents, fills the questionnaire (the done page hands the token to the extension), searches
the shop, opens a product, picks a size, adds it to the cart and answers the rationale
prompt (in a closed shadow root: with the mouse and keyboard, as a person would). The
study's export, read back with ``load_opera``, holds those actions in order with their click
types, semantic ids and the rationale. On failure a screenshot and the page
source go to tests-artifacts/.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from behaviorlab.collect._store import open_store
from behaviorlab.collect._study import Study

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "src/behaviorlab/collect/extension"
ARTIFACTS = ROOT / "tests-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WHY = "I need running shoes in my size"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as err:  # a page still loading, a server still starting
            last = err
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def start(args: list[str], url: str, log: Path) -> subprocess.Popen[bytes]:
    """Run ``behaviorlab ARGS`` and wait until ``url`` answers."""
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-c", "from behaviorlab.cli import main; main()", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        wait_for(lambda: httpx.get(url, timeout=2).status_code < 500, 60, f"{url} to answer")
    except AssertionError:
        proc.kill()
        raise AssertionError(f"{' '.join(args)} did not start:\n{log.read_text()}") from None
    return proc


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("needs Debian's chromium and chromium-driver")
    db = tmp_path / "capture.sqlite"
    ingest_port, shop_port = free_port(), free_port()
    store = open_store(db)
    study = Study(
        study_id="e2e",
        name="End-to-end study",
        allowed_hosts=[f"127.0.0.1:{shop_port}"],
        rationale_share=1.0,
    )
    store.create_study(study)
    store.close()
    ingest = f"http://127.0.0.1:{ingest_port}"
    shop = f"http://127.0.0.1:{shop_port}"
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def start_ingest() -> None:
        procs["ingest"] = start(
            ["collect", "serve", "--db", str(db), "--port", str(ingest_port)],
            f"{ingest}/healthz",
            tmp_path / "ingest.log",
        )

    def stop(name: str) -> None:
        proc = procs.pop(name)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    try:
        start_ingest()
        procs["shop"] = start(
            ["collect", "shop", "--port", str(shop_port)], f"{shop}/", tmp_path / "shop.log"
        )
        yield {
            "db": db,
            "ingest": ingest,
            "shop": shop,
            "study": study,
            "start_ingest": start_ingest,
            "stop_ingest": lambda: stop("ingest"),
        }
    finally:
        for name in list(procs):
            stop(name)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--load-extension={EXTENSION}",
        f"--disable-extensions-except={EXTENSION}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@contextmanager
def artifacts_on_failure(driver: Any, name: str) -> Iterator[None]:
    """On any failure: a screenshot and the page source in tests-artifacts/ (git-ignored)."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        (ARTIFACTS / f"{name}.html").write_text(driver.page_source)
        raise


def fill_questionnaire(driver: Any) -> None:
    """Answer every question: first real option, first radio / checkbox, a number, text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for q in driver.find_elements(By.CSS_SELECTOR, "#questionnaire .q"):
        selects = q.find_elements(By.TAG_NAME, "select")
        radios = q.find_elements(By.CSS_SELECTOR, "input[type=radio]")
        boxes = q.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
        numbers = q.find_elements(By.CSS_SELECTOR, "input[type=number]")
        texts = q.find_elements(By.TAG_NAME, "textarea")
        if selects:
            Select(selects[0]).select_by_index(1)
        elif radios:
            radios[len(radios) // 2].click()
        elif boxes:
            boxes[0].click()
        elif numbers:
            low = numbers[0].get_attribute("min")
            numbers[0].send_keys(str(max(int(float(low or 0)), 34)))
        elif texts:
            texts[0].send_keys("I compare prices and read reviews before buying.")
    driver.find_element(By.ID, "questionnaire-submit").click()


def extension_id(folder: Path) -> str:
    """Chromium's id for an unpacked extension: the SHA-256 of its absolute path, first 32
    hex digits written with the letters a-p."""
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def approve_server(driver: Any, server: str) -> None:
    """The participant opens the extension's settings with the study's server proposed and
    approves it (a click in the extension's own page: no web page can do this)."""
    from selenium.webdriver.common.by import By

    driver.get(f"chrome-extension://{extension_id(EXTENSION)}/options.html?server={server}")
    proposed = lambda: driver.find_element(By.ID, "server").get_attribute("value") == server  # noqa: E731
    wait_for(proposed, 15, "the options page to propose the server")
    driver.find_element(By.ID, "save").click()
    status = "#status[data-server='" + server + "']"
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, status), 15, "the server approved")


def shop_element(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return wait_for(lambda: driver.find_element(By.CSS_SELECTOR, css), 15, css)


def test_participant_session_is_exported_with_click_types_and_rationale(
    servers: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver, study = browser, servers["study"]
    with artifacts_on_failure(driver, "e2e_browser"):
        # before enrolment the extension has no token: nothing is recorded on the shop
        driver.get(f"{servers['shop']}/")
        time.sleep(1.5)
        assert (
            driver.find_element(By.TAG_NAME, "html").get_attribute("data-behaviorlab-recording")
            is None
        )

        # the participant approves the study's server in the extension's options page
        approve_server(driver, servers["ingest"])

        # enrolment on the ingest server: join → consent → questionnaire → done (token handover)
        driver.get(f"{servers['ingest']}/join/{study.study_id}?t={study.token}")
        driver.find_element(By.ID, "agree").click()
        driver.find_element(By.ID, "consent-submit").click()
        wait_for(lambda: driver.find_element(By.ID, "questionnaire"), 15, "the questionnaire")
        fill_questionnaire(driver)
        shop_element(driver, "html[data-behaviorlab='linked']")  # the extension took the token

        # the shop: search, open a product, pick a size, add to cart (before each action,
        # wait until the new page's content script records)
        def on_page(url_part: str) -> None:
            wait_for(lambda: url_part in driver.current_url, 15, f"a page at {url_part}")
            shop_element(driver, "html[data-behaviorlab-recording='on']")

        driver.get(f"{servers['shop']}/")
        on_page(servers["shop"])
        box = driver.find_element(By.CSS_SELECTOR, "[data-name=search_input]")
        box.send_keys("running shoes")
        driver.find_element(By.CSS_SELECTOR, "[data-name=search_button]").click()
        on_page("/search?q=running")
        card = "[data-name=strideline_running_shoes] [data-name=product_title]"
        driver.find_element(By.CSS_SELECTOR, card).click()
        on_page("/product/BLDEMO0001")
        driver.find_element(By.CSS_SELECTOR, "#product_options [data-name='9']").click()
        on_page("size=9")
        driver.find_element(By.CSS_SELECTOR, "#buy_box [data-name=add_to_cart]").click()
        on_page("added=1")

        # the rationale prompt for "add to cart" reappears on the new page: answer it. Its
        # shadow root is closed (the page's scripts cannot reach it): click into its text
        # area (the middle of the box), type, Tab to Send, Enter
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        host = shop_element(driver, "[data-behaviorlab-ui=rationale-prompt]")
        asked_for = host.get_attribute("data-event-id")
        assert driver.execute_script("return arguments[0].shadowRoot", host) is None
        ActionChains(driver).move_to_element(host).click().perform()
        ActionChains(driver).send_keys(WHY).send_keys(Keys.TAB).send_keys(Keys.ENTER).perform()

        # the extension flushes its buffer: wait until the server holds the rationale
        store = open_store(servers["db"])
        try:
            wait_for(lambda: store.rationales_of(study.study_id), 30, "the rationale to arrive")
            n_sent = len(store.events_of(study.study_id))
        finally:
            store.close()

        # the server goes down: the next click is buffered, and sent once it is back
        servers["stop_ingest"]()
        driver.find_element(By.CSS_SELECTOR, "#cart_side_bar [data-name=go_to_cart]").click()
        on_page("/cart")
        time.sleep(3)  # at least one failed attempt (flush interval 2 s)
        servers["start_ingest"]()
        store = open_store(servers["db"])
        try:
            wait_for(
                lambda: len(store.events_of(study.study_id)) >= n_sent + 2,  # click, navigation
                40,
                "the buffered events to arrive after the restart",
            )
            from behaviorlab.collect._export import export_study
            from behaviorlab.data import load_opera

            export_study(store, study.study_id, tmp_path / "export", versions=("filtered",))
            urls = {json.loads(e.payload)["url"] for e in store.events_of(study.study_id)}
        finally:
            store.close()

    # only the shop was recorded: not the shop before enrolment (one page view), nor the
    # enrolment pages on the server's host
    assert urls and all(u.startswith(servers["shop"] + "/") for u in urls), urls
    data = load_opera(tmp_path / "export" / "OPeRA_filtered")
    (episode,) = data.dataset.episodes
    got = [
        (
            s.action.action_type,
            s.action.target,
            s.action.attributes.get("click_type"),
            s.action.value,
        )
        for s in episode.steps
    ]
    assert got == [
        ("input", "nav_bar.search_input", None, "running shoes"),
        ("click", "nav_bar.search_button", "search", None),
        ("click", "search_results.strideline_running_shoes.product_title", "product_link", None),
        ("click", "product_options.size.9", "product_option", None),
        ("click", "buy_box.add_to_cart", "purchase", None),
        ("click", "cart_side_bar.go_to_cart", "cart_side_bar", None),
        ("terminate", None, None, None),
    ], got
    add = episode.steps[4]
    assert add.rationale is not None and add.rationale.text == WHY
    assert add.step_id == asked_for  # the prompt asked about this very action
    assert [s.rationale is None for s in episode.steps if s is not add] == [True] * 6
    # the page the participant saw, simplified, names the element they acted on
    assert 'name="buy_box.add_to_cart"' in add.observation.content
    assert "<script" not in add.observation.content
    assert add.observation.url.startswith(servers["shop"] + "/product/BLDEMO0001")
    products = add.action.attributes["products"]
    assert {"asin": "BLDEMO0001", "title": "Strideline Running Shoes", "price": 63.99} in [
        {k: p.get(k) for k in ("asin", "title", "price")} for p in products
    ]
    (person,) = data.dataset.persons.values()
    assert person.meta.get("survey")  # the questionnaire reached the user table
