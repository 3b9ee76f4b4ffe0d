"""The chat page in Debian's headless Chromium (driven by Selenium through
/usr/bin/chromedriver; Selenium Manager is never asked for anything): a person of a
registered dataset is chosen, three turns with the mock backend are written at the page, end
up in the chat store, and are shown again after a reload and from the list of conversations.
The viewer runs on 127.0.0.1 in a thread, started and stopped by the test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.report._chat_store import ChatStore

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_S = 30
ARTIFACTS = Path(__file__).resolve().parents[2] / "tests-artifacts"
PAYLOAD = "<b>bold</b> & <script>window.pwned = 1</script>"

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
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(WAIT_S)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def viewer(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The viewer (an empty runs folder, chats in ``tmp/chats``) on a free loopback port."""
    import uvicorn

    from behaviorlab.report._viewer import create_app

    chat_dir = tmp_path / "chats"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(tmp_path / "runs", chat_dir=chat_dir)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the viewer did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", chat_dir
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        assert not thread.is_alive()


def _texts(driver: Any) -> list[tuple[str, str]]:
    """The transcript's stored messages (speaker, text), read at once in the page (a
    pending bubble is replaced while the test reads)."""
    script = """
        return [...document.querySelectorAll('#transcript li.msg:not(.pending)')].map(
            li => [li.querySelector('.who').textContent, li.querySelector('.text').textContent]);
    """
    return [(who, text) for who, text in driver.execute_script(script)]


def _screenshot(driver: Any, name: str) -> None:
    """A screenshot into tests-artifacts/ (git-ignored), for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# test artifacts (screenshots): not versioned\n*\n")
    driver.save_screenshot(str(ARTIFACTS / name))


def _people(driver: Any) -> list[str]:
    script = "return [...document.querySelectorAll('#person option')].map(o => o.value);"
    return list(driver.execute_script(script))


def _click(driver: Any, element_id: str) -> None:
    """Click a button as a person would, scrolled into view first."""
    from selenium.webdriver.common.by import By

    button = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def _has(n: int) -> Callable[[Any], bool]:
    return lambda d: len(_texts(d)) == n


def test_three_turns_are_stored_and_shown_again_after_a_reload(
    driver: Any, viewer: tuple[str, Path]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, chat_dir = viewer
    wait = WebDriverWait(driver, WAIT_S)
    driver.get(base + "/chat")
    Select(driver.find_element(By.ID, "source")).select_by_value("dataset:synthetic-test")
    driver.find_element(By.ID, "people-query").send_keys("p002")
    wait.until(
        lambda d: _people(d) == ["p002"] and "years old" in d.find_element(By.ID, "persona").text
    )
    _screenshot(driver, "chat-index.png")
    assert Select(driver.find_element(By.ID, "backend")).first_selected_option.text == "mock"
    driver.find_element(By.ID, "start").click()
    wait.until(lambda d: "/chat/" in d.current_url and d.find_elements(By.ID, "say"))
    chat_id = driver.current_url.rsplit("/", 1)[1]

    said = ["Hello, who are you?", "What do you do on weekends?", PAYLOAD]
    for i, text in enumerate(said):
        box = driver.find_element(By.ID, "say")
        box.send_keys(text)
        _click(driver, "send")
        wait.until(_has(2 * (i + 1)))
    shown = _texts(driver)
    assert [t for _, t in shown[0::2]] == said
    assert all(who == "p002" and text for who, text in shown[1::2])

    stored = ChatStore(chat_dir).messages(chat_id)
    assert [(m.speaker, m.content) for m in stored] == shown
    assert [m.human for m in stored] == [True, False] * 3

    driver.refresh()
    wait.until(lambda d: len(_texts(d)) == 6)
    assert _texts(driver) == shown
    _screenshot(driver, "chat-twin.png")
    driver.get(base + "/chat")
    driver.find_element(By.LINK_TEXT, chat_id).click()
    wait.until(lambda d: len(_texts(d)) == 6)
    assert _texts(driver) == shown
    # the payload is text on the page, and no script from it ran
    assert driver.execute_script("return window.pwned === undefined")
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe


def test_a_person_takes_a_role_in_a_dialogue_trial(driver: Any, viewer: tuple[str, Path]) -> None:
    import bl_exchange  # noqa: F401  (registers the three-party task 'exchange')
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, chat_dir = viewer
    wait = WebDriverWait(driver, WAIT_S)
    driver.get(base + "/chat")
    Select(driver.find_element(By.ID, "source")).select_by_value("dataset:synthetic-test")
    driver.find_element(By.ID, "people-query").send_keys("p004")
    wait.until(lambda d: _people(d) == ["p004"])
    Select(driver.find_element(By.ID, "task")).select_by_value("exchange")
    wait.until(lambda d: len(Select(d.find_element(By.ID, "role")).options) == 3)
    Select(driver.find_element(By.ID, "role")).select_by_value("debater_a")
    driver.find_element(By.ID, "start").click()
    wait.until(lambda d: "/chat/" in d.current_url and d.find_elements(By.ID, "seen"))
    chat_id = driver.current_url.rsplit("/", 1)[1]
    assert driver.find_element(By.ID, "seen").text.endswith("debater_a, your turn:")
    assert [who for who, _ in _texts(driver)] == ["moderator"]

    for i, text in enumerate(["Ban them.", "Still ban."]):
        driver.find_element(By.ID, "say").send_keys(text)
        _click(driver, "send")
        wait.until(_has([4, 6][i]))
    assert not driver.find_element(By.ID, "waiting").is_displayed()
    shown = _texts(driver)
    assert [who for who, _ in shown] == [
        "moderator",
        "debater_a (you)",
        "debater_b",
        "moderator",
        "debater_a (you)",
        "debater_b",
    ]
    driver.refresh()
    wait.until(_has(6))
    assert _texts(driver) == shown
    assert driver.find_element(By.ID, "status").text == "finished"
    _screenshot(driver, "chat-dialogue.png")
    info = ChatStore(chat_dir).get(chat_id)
    assert info.kind == "dialogue" and info.meta["scores"]["turns"] == 6.0


def test_the_page_says_the_model_is_answering_until_your_turn(
    driver: Any, viewer: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bl_exchange  # noqa: F401  (registers the three-party task 'exchange')
    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from behaviorlab.report import _chat_dialogue

    monkeypatch.setattr(_chat_dialogue, "SETTLE_S", 0.1)  # answer before the model does
    base, _ = viewer
    wait = WebDriverWait(driver, WAIT_S)
    slow = {
        "source": "dataset:synthetic-test",
        "person_id": "p004",
        "task": "exchange",
        "task_options": {"rounds": 1},
        "role": "debater_a",
        "options": {"delay_s": 2.5},  # a model turn outlasts the page load
    }
    chat_id = httpx.post(base + "/api/chat", json=slow, timeout=WAIT_S).json()["chat_id"]
    driver.get(f"{base}/chat/{chat_id}")
    message = driver.find_element(By.ID, "message")
    assert "the model is answering" in message.text and "over" not in message.text
    assert not driver.find_element(By.ID, "send").is_enabled()
    wait.until(lambda d: d.find_element(By.ID, "seen").text.endswith("debater_a, your turn:"))
    assert [who for who, _ in _texts(driver)] == ["moderator"]
    driver.find_element(By.ID, "say").send_keys("Ban them.")
    _click(driver, "send")
    wait.until(lambda d: "the model is answering" in d.find_element(By.ID, "message").text)
    wait.until(lambda d: "trial is over" in d.find_element(By.ID, "message").text)
    assert [who for who, _ in _texts(driver)] == ["moderator", "debater_a (you)", "debater_b"]
    assert driver.find_element(By.ID, "status").text == "finished"
