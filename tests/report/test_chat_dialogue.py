"""A person takes a role in a dialogue trial from the chat (the ``human`` party; the other
roles played by the mock model): every turn stored as it is taken, the trial scored at its
end, a dialogue left half-way played on from its stored turns by a new viewer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import ClassVar

import bl_exchange  # registers the three-party task 'exchange'
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from behaviorlab.data import Dataset, Observation, Option, dataset, load_dataset
from behaviorlab.models import BackendError, GenerateRequest, Generation, backend
from behaviorlab.models._mock import MockBackend
from behaviorlab.report._chat_store import ChatStore
from behaviorlab.report._viewer import create_app
from behaviorlab.simulators import HumanChannel, HumanParty
from behaviorlab.simulators._human import InvalidReply, read_reply
from behaviorlab.tasks import TrialInput, task

LOCAL = "http://127.0.0.1"


def viewer(app: FastAPI) -> TestClient:
    """A client naming the viewer by its loopback address (as a browser at the page does)."""
    return TestClient(app, base_url=LOCAL)


START = {
    "source": "dataset:synthetic-test",
    "person_id": "p003",
    "task": "exchange",
    "role": "debater_a",
}


def _messages(client: TestClient, chat_id: str) -> list[tuple[str, str, bool]]:
    got = client.get(f"/api/chat/{chat_id}").json()["messages"]
    return [(m["role"], m["content"], m["human"]) for m in got]


def test_a_person_plays_a_role_and_the_trial_is_stored_turn_by_turn(tmp_path: Path) -> None:
    with viewer(create_app(tmp_path / "runs", chat_dir=tmp_path / "chats")) as client:
        tasks = [t["name"] for t in client.get("/api/chat/tasks").json()]
        assert "exchange" in tasks and "survey" not in tasks
        roles = client.get("/api/chat/roles", params={"task": "exchange"}).json()["roles"]
        assert roles == ["moderator", "debater_a", "debater_b"]
        res = client.post("/api/chat", json=START)
        assert res.status_code == 201, res.text
        chat_id = res.json()["chat_id"]
        first = client.get(f"/api/chat/{chat_id}").json()
        # the moderator (the model) spoke first; the person's role is asked now
        assert [(m["role"], m["human"]) for m in first["messages"]] == [("moderator", False)]
        assert first["waiting"]["role"] == "debater_a"
        assert first["waiting"]["seen"].endswith("debater_a, your turn:")
        assert first["messages"][0]["content"] in first["waiting"]["seen"]
        playing = client.get(f"/chat/{chat_id}")
        assert playing.status_code == 200 and "your turn as debater_a" in playing.text

        one = client.post(
            f"/api/chat/{chat_id}/messages", json={"text": "Ban them.", "turn": 1}
        ).json()
        assert [(m["role"], m["human"]) for m in one["messages"]] == [
            ("debater_a", True),
            ("debater_b", False),
            ("moderator", False),
        ]
        assert "debater_a: Ban them." in one["waiting"]["seen"]
        two = client.post(
            f"/api/chat/{chat_id}/messages", json={"text": "Still ban.", "turn": 4}
        ).json()
        assert two["waiting"] is None
        meta = two["chat"]["meta"]
        assert meta["status"] == "finished"
        assert meta["scores"] == {"turns": 6.0, "failed_turns": 0.0}
        assert meta["answer"]["roles"]["debater_a"] == "human"
        assert meta["answer"]["value"]["transcript"][1] == "debater_a: Ban them."
        late = client.post(f"/api/chat/{chat_id}/messages", json={"text": "more", "turn": 7})
        assert late.status_code == 409 and "not your turn" in late.json()["detail"]
        stored = _messages(client, chat_id)
        episode = client.get(f"/api/chat/{chat_id}/episode").json()
        page = client.get(f"/chat/{chat_id}").text
    assert [r for r, _, _ in stored] == roles * 2
    assert [c for _, c, h in stored if h] == ["Ban them.", "Still ban."]
    assert [s["action"]["attributes"]["role"] for s in episode["steps"]] == [
        "moderator",
        "debater_b",
        "moderator",
        "debater_b",
    ]
    assert episode["steps"][1]["observation"]["content"] == "Ban them."
    assert "finished" in page and "turns 6" in page


def test_a_dialogue_left_half_way_goes_on_in_a_new_viewer(tmp_path: Path) -> None:
    chats = tmp_path / "chats"
    with viewer(create_app(tmp_path / "runs", chat_dir=chats)) as client:
        chat_id = client.post("/api/chat", json=START).json()["chat_id"]
        waiting = client.post(
            f"/api/chat/{chat_id}/messages", json={"text": "Ban them.", "turn": 1}
        )
        seen = waiting.json()["waiting"]["seen"]
        before = _messages(client, chat_id)
    assert len(before) == 4  # the viewer stopped while the person's second turn waited
    with viewer(create_app(tmp_path / "runs", chat_dir=chats)) as again:
        state = again.get(f"/api/chat/{chat_id}").json()
        assert state["waiting"]["seen"] == seen  # replayed from the store: the same question
        assert _messages(again, chat_id) == before  # nothing stored twice
        said = {"text": "Still ban.", "turn": 4}
        done = again.post(f"/api/chat/{chat_id}/messages", json=said).json()
        assert done["chat"]["meta"]["status"] == "finished"
        assert [(m["role"], m["human"]) for m in done["messages"]] == [
            ("debater_a", True),
            ("debater_b", False),
        ]


def test_a_reply_answers_only_the_turn_its_page_showed(tmp_path: Path) -> None:
    import httpx

    app = create_app(tmp_path / "runs", chat_dir=tmp_path / "chats")

    async def two_tabs() -> tuple[list[int], list[int], str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as tab:
            made = (await tab.post("/api/chat", json=START)).json()
            url = f"/api/chat/{made['chat_id']}/messages"
            shown = (await tab.get(f"/api/chat/{made['chat_id']}")).json()["waiting"]
            assert shown["turn"] == 1
            unnamed = await tab.post(url, json={"text": "which turn?"})
            assert unnamed.status_code == 400 and "send turn 1" in unnamed.json()["detail"]
            # two tabs answer the same question at once: one is taken, the other refused
            both = await asyncio.gather(
                tab.post(url, json={"text": "Tab one.", "turn": 1}),
                tab.post(url, json={"text": "Tab two.", "turn": 1}),
            )
            stale = await tab.post(url, json={"text": "Late tab.", "turn": 1})
            stored = (await tab.get(f"/api/chat/{made['chat_id']}")).json()
        humans = [m["content"] for m in stored["messages"] if m["human"]]
        return sorted(r.status_code for r in both), [stale.status_code, len(humans)], humans[0]

    codes, stale, first = asyncio.run(two_tabs())
    assert codes == [200, 409] and stale == [409, 1]
    assert first in ("Tab one.", "Tab two.")


def test_dialogue_requests_that_cannot_be_played_are_refused(tmp_path: Path) -> None:
    with viewer(create_app(tmp_path / "runs")) as client:
        no_role = client.post("/api/chat", json={**START, "role": "judge"})
        assert no_role.status_code == 400
        assert "moderator, debater_a, debater_b" in no_role.json()["detail"]
        one_party = client.post("/api/chat", json={**START, "task": "survey"})
        assert one_party.status_code == 400 and "exchange" in one_party.json()["detail"]
        assert client.get("/api/chat").json() == []


def _asked(options: list[Option] | None = None) -> TrialInput:
    return TrialInput(
        task="t",
        item_id="i",
        person_id="p",
        persona=None,
        observation=Observation(kind="exchange", content="your turn", options=options),
        answer_schema={"type": "object", "properties": {"reply": {"type": "string"}}},
    )


def test_the_human_party_reads_replies_and_fails_without_a_person() -> None:
    options = [Option(code="C", label="cooperate"), Option(code="D", label="defect")]
    assert read_reply("hello", _asked()).value == {"reply": "hello"}
    assert read_reply("Defect", _asked(options)).choice == "D"
    assert read_reply("C", _asked(options)).choice == "C"
    wrong = read_reply("maybe", _asked(options))
    assert wrong.error_kind == "invalid" and "C (cooperate)" in (wrong.error or "")
    alone = asyncio.run(HumanParty().answer(_asked()))
    assert alone.error_kind == "backend" and "viewer" in (alone.error or "")


def test_a_human_role_in_a_batch_run_fails_saying_where_it_is_played(tmp_path: Path) -> None:
    import behaviorlab as bl

    spec = {
        "name": "human-in-batch",
        "plugins": ["bl_exchange"],
        "task": "exchange",
        "task_options": {"rounds": 1},
        "data": {"source": "synthetic-test", "people": 4, "split": {"test": 0.5}},
        "parties": [
            {
                "label": "with-a-person",
                "roles": {
                    "moderator": {"name": "script", "lines": ["Opening."]},
                    "debater_a": {"name": "human"},
                    "debater_b": {"name": "script", "lines": ["No ban."]},
                },
            }
        ],
        "cache": False,
    }
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    assert len(frame) == 2 and frame["error"].notna().all()
    assert all("'debater_a' (human) failed" in e and "viewer" in e for e in frame["error"])


def test_the_human_party_waits_for_the_reply_then_times_out() -> None:
    async def play() -> tuple[str | None, str | None]:
        channel = HumanChannel()
        party = HumanParty(timeout_s=5).attach(channel)
        pending = asyncio.ensure_future(party.answer(_asked()))
        await channel.changed()
        assert channel.question is not None
        channel.reply("I hear you")
        answered = await pending
        slow = await HumanParty(timeout_s=0.05).attach(HumanChannel()).answer(_asked())
        return answered.raw, slow.error_kind

    assert asyncio.run(play()) == ("I hear you", "timeout")
    with pytest.raises(RuntimeError, match="no question"):
        HumanChannel().reply("nobody asked")


@backend("chat_flaky_test")
class FlakyMock(MockBackend):
    """The mock backend, failing every call while ``FAILING`` is set."""

    FAILING: ClassVar[list[bool]] = [False]

    async def generate(self, request: GenerateRequest) -> Generation:
        if self.FAILING[0]:
            raise BackendError("flaky: the server is down")
        return await super().generate(request)


def test_a_failed_model_call_pauses_the_dialogue_and_is_taken_again(tmp_path: Path) -> None:
    FlakyMock.FAILING[0] = False
    with viewer(create_app(tmp_path / "runs", chat_dir=tmp_path / "chats")) as client:
        chat_id = client.post("/api/chat", json={**START, "backend": "chat_flaky_test"}).json()[
            "chat_id"
        ]
        FlakyMock.FAILING[0] = True
        said = client.post(f"/api/chat/{chat_id}/messages", json={"text": "Ban.", "turn": 1})
        assert said.status_code == 200, said.text
        status = said.json()["chat"]["meta"]["status"]
        assert status.startswith("paused: model failed") and "server is down" in status
        # the person's turn is kept; the failed turn of debater_b is not stored
        assert _messages(client, chat_id) == [
            ("moderator", _messages(client, chat_id)[0][1], False),
            ("debater_a", "Ban.", True),
        ]
        FlakyMock.FAILING[0] = False
        again = client.get(f"/api/chat/{chat_id}").json()  # opening it plays on
        assert again["waiting"]["turn"] == 4
        stored = _messages(client, chat_id)
    assert [r for r, _, _ in stored] == ["moderator", "debater_a", "debater_b", "moderator"]
    assert not any(c.startswith("(failed") for _, c, _ in stored)


def test_an_invalid_or_missing_reply_is_asked_again_not_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from behaviorlab.report import _chat_dialogue

    async def invalid() -> tuple[str, str | None]:
        options = [Option(code="C", label="cooperate"), Option(code="D", label="defect")]
        channel = HumanChannel()
        pending = asyncio.ensure_future(
            HumanParty(timeout_s=5).attach(channel).answer(_asked(options))
        )
        await channel.changed()
        with pytest.raises(InvalidReply, match="not one of the options"):
            channel.reply("maybe")
        assert channel.question is not None  # still asked
        channel.reply("defect")
        return (await pending).raw, (await pending).error

    assert asyncio.run(invalid()) == ("defect", None)

    monkeypatch.setattr(_chat_dialogue, "HUMAN_TIMEOUT_S", 0.3)
    with viewer(create_app(tmp_path / "runs", chat_dir=tmp_path / "chats")) as client:
        chat_id = client.post("/api/chat", json=START).json()["chat_id"]
        time.sleep(0.8)  # nobody answers the person's turn
        paused = ChatStore(tmp_path / "chats").get(chat_id).meta["status"]
        assert paused.startswith("paused: no reply from you")
        info = client.get(f"/api/chat/{chat_id}")  # ... and opening it asks again
        assert info.json()["waiting"]["turn"] == 1
        assert [r for r, _, _ in _messages(client, chat_id)] == ["moderator"]


def test_a_model_taking_its_turn_is_thinking_not_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from behaviorlab.report import _chat_dialogue

    monkeypatch.setattr(_chat_dialogue, "SETTLE_S", 0.1)
    slow = {**START, "options": {"delay_s": 1.5}}
    with viewer(create_app(tmp_path / "runs", chat_dir=tmp_path / "chats")) as client:
        chat_id = client.post("/api/chat", json=slow).json()["chat_id"]
        first = client.get(f"/api/chat/{chat_id}").json()
        assert first["waiting"] is None and first["phase"] == "thinking"
        assert first["chat"]["meta"]["status"] == "playing"
        page = client.get(f"/chat/{chat_id}").text
        assert '"phase": "thinking"' in page
        deadline = time.monotonic() + 10
        now = first
        while now["phase"] == "thinking" and time.monotonic() < deadline:
            time.sleep(0.2)
            now = client.get(f"/api/chat/{chat_id}").json()
        assert now["phase"] == "waiting" and now["waiting"]["turn"] == 1


LOADS: list[float] = []


@dataset("chat_slow_test")
def slow_people(delay_s: float = 0.0) -> Dataset:
    """The synthetic-test people, loaded slowly."""
    LOADS.append(delay_s)
    time.sleep(delay_s)
    return load_dataset("synthetic-test")


def test_reopening_a_dialogue_does_not_block_the_viewer(tmp_path: Path) -> None:
    import httpx

    chats = tmp_path / "chats"
    slow = {**START, "source": "dataset:chat_slow_test", "source_options": {"delay_s": 1.5}}
    with viewer(create_app(tmp_path / "runs", chat_dir=chats)) as client:
        chat_id = client.post("/api/chat", json=slow).json()["chat_id"]
    LOADS.clear()
    app = create_app(tmp_path / "runs", chat_dir=chats)  # a new viewer: the dialogue is rebuilt

    async def reopen() -> tuple[float, list[int]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as tab:
            began = time.monotonic()
            opening = [asyncio.ensure_future(tab.get(f"/api/chat/{chat_id}")) for _ in range(2)]
            await asyncio.sleep(0.1)
            listed = await tab.get("/api/chat")
            took = time.monotonic() - began
            assert listed.status_code == 200
            opened = await asyncio.gather(*opening)
        return took, [r.json()["waiting"]["turn"] for r in opened]

    took, turns = asyncio.run(reopen())
    assert took < 1.0  # answered while the dialogue's people were loading
    assert turns == [1, 1] and LOADS == [1.5]  # two opens, one load


def test_the_loaded_datasets_are_few() -> None:
    from behaviorlab.report._chat import DATA_CACHE, ChatService

    service = ChatService(Path("unused"), Path("unused-chats"), run_folders=lambda _: [])
    LOADS.clear()
    for i in range(DATA_CACHE + 3):
        service.dataset("dataset:chat_slow_test", {"delay_s": i / 1000})
    service.dataset("dataset:chat_slow_test", {"delay_s": (DATA_CACHE + 2) / 1000})
    assert len(LOADS) == DATA_CACHE + 3  # the latest was kept
    assert len(service._data) == DATA_CACHE
    service.dataset("dataset:chat_slow_test", {"delay_s": 0.0})  # the oldest was dropped
    assert len(LOADS) == DATA_CACHE + 4


CLOSED: list[str] = []


@task("chat_closing_test")
class ClosingExchange(bl_exchange.Exchange):
    """The exchange, saying when it is closed."""

    name = "chat_closing_test"

    async def aclose(self) -> None:
        CLOSED.append(self.name)


def test_tasks_and_models_are_released(tmp_path: Path) -> None:
    from behaviorlab.report._chat import BackendPool, ChatRequestError

    CLOSED.clear()
    one_round = {**START, "task": "chat_closing_test", "task_options": {"rounds": 1}}
    with viewer(create_app(tmp_path / "runs", chat_dir=tmp_path / "chats")) as client:
        roles = client.get("/api/chat/roles", params={"task": "chat_closing_test"})
        assert roles.json()["roles"] == ["moderator", "debater_a", "debater_b"]
        assert CLOSED == ["chat_closing_test"]  # the task made to list the roles
        refused = client.post("/api/chat", json={**one_round, "role": "judge"})
        assert refused.status_code == 400 and len(CLOSED) == 2
        chat_id = client.post("/api/chat", json=one_round).json()["chat_id"]
        assert len(CLOSED) == 2  # being played
        done = client.post(f"/api/chat/{chat_id}/messages", json={"text": "Ban.", "turn": 1})
        assert done.json()["phase"] == "finished" and len(CLOSED) == 3  # ended: released
        client.post("/api/chat", json=one_round)  # left waiting for the person ...
    assert len(CLOSED) == 4  # ... and released when the viewer stops

    pool = BackendPool(limit=2)
    pool.get("mock", {"model": "a"})
    pool.get("mock", {"model": "b"})
    assert pool.get("mock", {"model": "a"}) is pool.get("mock", {"model": "a"})
    with pytest.raises(ChatRequestError, match="holds 2 models") as full:
        pool.get("mock", {"model": "c"})
    assert full.value.status == 503
