"""The viewer's chat through its JSON API (FastAPI's TestClient, the mock backend): people
from any registered dataset or a run's data, turns stored in the chat's own store (never a
run's), the conversation as an Episode, and what the API refuses."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from behaviorlab.data import Dataset, Episode, make_synthetic_opera
from behaviorlab.report._chat import TWIN_SYSTEM, persona_of
from behaviorlab.report._chat_store import STORE_NAME, ChatError, ChatStore
from behaviorlab.report._viewer import create_app
from behaviorlab.runs import Run
from behaviorlab.simulators._prompts import PERSONA_HEADER

SOURCE = "dataset:synthetic-test"


LOCAL = "http://127.0.0.1"


def viewer(app: FastAPI) -> TestClient:
    """A client naming the viewer by its loopback address (as a browser at the page does)."""
    return TestClient(app, base_url=LOCAL)


@pytest.fixture
def runs_dir(main_run: Run, tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    shutil.copytree(main_run.results_path.parent, root / "syn-report")
    return root


def start(client: TestClient, **body: object) -> dict[str, object]:
    res = client.post("/api/chat", json={"source": SOURCE, "person_id": "p001", **body})
    assert res.status_code == 201, res.text
    made: dict[str, object] = res.json()
    return made


def test_three_turns_are_stored_and_read_back_by_a_new_viewer(
    runs_dir: Path, tmp_path: Path
) -> None:
    chat_dir = tmp_path / "chats"
    with viewer(create_app(runs_dir, chat_dir=chat_dir)) as client:
        made = start(client)
        chat_id = str(made["chat_id"])
        replies = []
        for i in range(3):
            res = client.post(f"/api/chat/{chat_id}/messages", json={"text": f"question {i}?"})
            assert res.status_code == 200, res.text
            said, reply = res.json()["messages"]
            assert said["human"] and said["content"] == f"question {i}?"
            assert said["index"] == 2 * i
            assert reply["index"] == 2 * i + 1 and not reply["human"] and reply["content"]
            replies.append(reply["content"])
    assert len(set(replies)) == 3  # each reply answers a longer conversation
    assert (chat_dir / STORE_NAME).is_file()
    with sqlite3.connect(chat_dir / STORE_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 6
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # nothing was written next to the run
    assert sorted(p.name for p in (runs_dir / "syn-report").iterdir() if "chat" in p.name) == []

    with viewer(create_app(runs_dir, chat_dir=chat_dir)) as again:
        listed = again.get("/api/chat").json()
        assert [(c["chat_id"], c["turns"], c["person_id"]) for c in listed] == [
            (chat_id, 6, "p001")
        ]
        got = again.get(f"/api/chat/{chat_id}").json()
        assert [m["content"] for m in got["messages"][1::2]] == replies
        episode = Episode.model_validate(again.get(f"/api/chat/{chat_id}/episode").json())
        everything = Dataset.model_validate(again.get("/api/chat/dataset").json())
        page = again.get(f"/chat/{chat_id}")
    assert episode.person_id == "p001" and episode.kind == "chat"
    assert [s.observation.content for s in episode.steps] == [f"question {i}?" for i in range(3)]
    assert [s.action.value for s in episode.steps] == replies
    assert episode.meta["source"] == SOURCE and episode.meta["model"]["backend"] == "mock"
    assert list(everything.persons) == [f"{SOURCE}/p001"]
    assert everything.persons[f"{SOURCE}/p001"].description == episode.meta["persona"]
    assert [e.steps for e in everything.episodes] == [episode.steps]
    assert page.status_code == 200
    for text in ["question 2?", *replies]:
        assert text in page.text


def test_the_system_prompt_is_the_persona_the_llm_simulator_shows(runs_dir: Path) -> None:
    with viewer(create_app(runs_dir)) as client:
        people = client.get("/api/chat/people", params={"source": SOURCE, "q": "p00"}).json()
        made = start(client)
    assert people["total"] == 40 and people["matched"] == 10
    first = next(p for p in people["people"] if p["person_id"] == "p001")
    assert first["persona"].startswith("You are ") and "years old" in first["persona"]
    assert made["system_prompt"] == f"{TWIN_SYSTEM}\n\n{PERSONA_HEADER}\n{first['persona']}"
    # the default chat folder sits beside the runs, not in one
    assert (runs_dir / "_chat" / STORE_NAME).is_file()


def test_people_of_a_run_and_of_a_dataset_that_needs_options(
    runs_dir: Path, tmp_path: Path
) -> None:
    opera_dir = make_synthetic_opera(tmp_path / "opera", users=3, sessions_per_user=1)
    with viewer(create_app(runs_dir)) as client:
        keys = [s["key"] for s in client.get("/api/chat/sources").json()]
        assert "run:syn-report" in keys and SOURCE in keys and "dataset:opera" in keys
        of_run = client.get("/api/chat/people", params={"source": "run:syn-report"}).json()
        assert of_run["total"] == 40
        bare = client.get("/api/chat/people", params={"source": "dataset:opera"})
        assert bare.status_code == 400 and "needs path=" in bare.json()["detail"]
        shoppers = client.get(
            "/api/chat/people",
            params={"source": "dataset:opera", "options": f'{{"path": "{opera_dir}"}}'},
        ).json()
        assert shoppers["total"] == 3
        made = start(
            client,
            source="dataset:opera",
            source_options={"path": str(opera_dir)},
            person_id=shoppers["people"][0]["person_id"],
        )
        assert made["persona"] == shoppers["people"][0]["persona"]
        missing = client.post("/api/chat", json={"source": SOURCE, "person_id": "nobody"})
        assert missing.status_code == 404 and "p000" in missing.json()["detail"]
        unknown = client.get("/api/chat/people", params={"source": "dataset:no-such"})
        assert unknown.status_code == 400 and "Registered datasets" in unknown.json()["detail"]


def test_non_json_posts_and_secrets_are_refused_and_store_nothing(runs_dir: Path) -> None:
    with viewer(create_app(runs_dir)) as client:
        form = client.post("/api/chat", data={"source": SOURCE, "person_id": "p001"})
        assert form.status_code == 415 and "application/json" in form.json()["detail"]
        chat_id = str(start(client)["chat_id"])
        plain = client.post(
            f"/api/chat/{chat_id}/messages",
            content='{"text": "hi"}',
            headers={"content-type": "text/plain"},
        )
        assert plain.status_code == 415
        secret = client.post(
            "/api/chat",
            json={"source": SOURCE, "person_id": "p001", "options": {"api_key": "sk-x"}},
        )
        assert secret.status_code == 400 and "OPENAI_API_KEY" in secret.json()["detail"]
        bad_backend = client.post(
            "/api/chat", json={"source": SOURCE, "person_id": "p001", "backend": "nope"}
        )
        assert bad_backend.status_code == 400 and "mock" in bad_backend.json()["detail"]
        assert client.get(f"/api/chat/{chat_id}").json()["messages"] == []
        assert len(client.get("/api/chat").json()) == 1
        assert client.get("/api/chat/../etc").status_code == 404
        assert client.get("/chat/zzzz").status_code == 404


def test_a_failed_model_call_stores_nothing(runs_dir: Path) -> None:
    with viewer(create_app(runs_dir)) as client:
        chat_id = start(client, options={"fail_rate": 1.0})["chat_id"]
        res = client.post(f"/api/chat/{chat_id}/messages", json={"text": "hello"})
        assert res.status_code == 502 and "nothing was stored" in res.json()["detail"]
        assert client.get(f"/api/chat/{chat_id}").json()["messages"] == []


def test_every_string_is_escaped_on_the_pages(runs_dir: Path) -> None:
    payload = '<script>alert("x")</script>'
    with viewer(create_app(runs_dir)) as client:
        chat_id = start(client)["chat_id"]
        client.post(f"/api/chat/{chat_id}/messages", json={"text": payload})
        page = client.get(f"/chat/{chat_id}").text
        index = client.get("/chat").text
    assert payload not in page and "&lt;script&gt;alert(" in page
    assert "<script>alert" not in index


def test_a_run_folder_is_never_the_chat_store(runs_dir: Path) -> None:
    with pytest.raises(ChatError, match="is a run folder"):
        create_app(runs_dir, chat_dir=runs_dir / "syn-report")
    with pytest.raises(ChatError, match="--chat-dir"):
        ChatStore(runs_dir / "syn-report")


def test_a_person_without_persona_text_is_described_by_attributes() -> None:
    from behaviorlab.data import Person

    assert persona_of(Person(person_id="g1", attributes={"game": "rps"})) == (
        "What is recorded about you: game: rps."
    )
    assert persona_of(Person(person_id="g2", description="A.", text="B.")) == "A.\nB."


def test_an_openai_compatible_server_on_loopback_speaks_for_the_twin(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bl_fault_server as fs

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    server = fs.FaultServer(reply="I live in a small town.")
    with fs.serve(server) as srv, viewer(create_app(runs_dir)) as client:
        made = start(client, backend="openai", model="twin-model", base_url=srv.url)
        chat_id = made["chat_id"]
        for text in ("Where do you live?", "Do you like it?"):
            res = client.post(f"/api/chat/{chat_id}/messages", json={"text": text})
            assert res.status_code == 200, res.text
            assert res.json()["messages"][1]["content"] == "I live in a small town."
    assert made["model"]["endpoint"] == srv.url and "test-key" not in str(made)
    first, second = server.bodies
    assert first["model"] == "twin-model"
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert second["messages"][0]["content"] == made["system_prompt"]
    assert second["messages"][2]["content"] == "I live in a small town."


def test_view_refuses_a_run_folder_as_the_chat_folder(runs_dir: Path) -> None:
    from typer.testing import CliRunner

    from behaviorlab.cli._app import app

    res = CliRunner().invoke(
        app, ["view", "--out", str(runs_dir), "--chat-dir", str(runs_dir / "syn-report")]
    )
    assert res.exit_code == 2
    assert "is a run folder" in res.output and "--chat-dir" in res.output


def test_the_chat_store_is_never_inside_a_run_folder(runs_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from behaviorlab.cli._app import app

    run = runs_dir / "syn-report"
    with pytest.raises(ChatError, match="inside the run folder"):
        create_app(runs_dir, chat_dir=run / "sub" / "deeper")
    with pytest.raises(ChatError, match="inside the run folder"):
        create_app(run)  # the default chat folder would be RUN/_chat
    linked = tmp_path / "into-run"
    linked.symlink_to(run / "sub", target_is_directory=True)
    with pytest.raises(ChatError, match="inside the run folder"):
        ChatStore(linked)
    for args in (["--out", str(run)], ["--out", str(runs_dir), "--chat-dir", str(run / "x")]):
        res = CliRunner().invoke(app, ["view", *args])
        assert res.exit_code == 2, res.output
        assert "inside the run folder" in res.output
    assert not (run / "_chat").exists() and not (run / "sub").exists()


def test_no_page_can_send_an_environment_variable_to_a_server(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bl_fault_server as fs

    monkeypatch.setenv("OPENAI_API_KEY", "the-real-key")
    server = fs.FaultServer(reply="hi")
    body = {"source": SOURCE, "person_id": "p001", "backend": "openai", "model": "m"}
    with fs.serve(server) as srv, viewer(create_app(runs_dir)) as client:
        body["base_url"] = srv.url
        # the page cannot choose the variable sent as the key, nor pass secrets anywhere
        env = client.post("/api/chat", json={**body, "options": {"api_key_env": "HOME"}})
        assert env.status_code == 400 and "api_key_env" in env.json()["detail"]
        for field, key in [
            ("options", "openai_key"),
            ("options", "token"),
            ("task_options", "password"),
            ("source_options", "client_secret"),
        ]:
            res = client.post("/api/chat", json={**body, field: {key: "x"}})
            assert res.status_code == 400 and key in res.json()["detail"], (field, key)
        roles = client.get("/api/chat/roles", params={"task": "x", "options": '{"api_key": 1}'})
        assert roles.status_code == 400 and "api_key" in roles.json()["detail"]
        assert client.get("/api/chat").json() == []
        chat_id = start(client, **body)["chat_id"]
        # DNS rebinding: another site's name pointed at 127.0.0.1 is refused
        rebound = client.post(
            f"/api/chat/{chat_id}/messages",
            json={"text": "hi"},
            headers={"Host": "attacker.example"},
        )
        assert rebound.status_code == 400 and "attacker.example" in rebound.json()["detail"]
        assert client.get("/chat", headers={"Host": "attacker.example:8765"}).status_code == 400
        foreign = client.post(
            f"/api/chat/{chat_id}/messages",
            json={"text": "hi"},
            headers={"Origin": "http://attacker.example"},
        )
        assert foreign.status_code == 403 and "attacker.example" in foreign.json()["detail"]
        assert server.bodies == []  # the model was never called
        own = client.post(
            f"/api/chat/{chat_id}/messages", json={"text": "hi"}, headers={"Origin": LOCAL}
        )
        assert own.status_code == 200, own.text
        for name in ("localhost:8765", "[::1]:8765"):
            assert client.get("/api/chat", headers={"Host": name}).status_code == 200
    assert len(server.bodies) == 1
    with viewer(create_app(runs_dir, host="192.168.1.5")) as lan:
        assert lan.get("/api/chat", headers={"Host": "192.168.1.5:8765"}).status_code == 200
        assert lan.get("/api/chat", headers={"Host": "evil.example"}).status_code == 400
    import socket

    with viewer(create_app(runs_dir, host="0.0.0.0")) as every:
        named = {"Host": f"{socket.gethostname()}:8765"}
        assert every.get("/api/chat", headers=named).status_code == 200
        assert every.get("/api/chat", headers={"Host": "evil.example"}).status_code == 400


def test_a_link_or_a_foreign_file_is_never_the_chat_store(runs_dir: Path, tmp_path: Path) -> None:
    import hashlib

    results = runs_dir / "syn-report" / "results.sqlite"
    before = hashlib.sha256(results.read_bytes()).hexdigest()
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / STORE_NAME).symlink_to(results)
    with pytest.raises(ChatError, match=r"symbolic link .*run's results store"):
        create_app(runs_dir, chat_dir=linked)
    other = tmp_path / "other.sqlite"
    shutil.copy(results, other)
    to_other = tmp_path / "to-other"
    to_other.mkdir()
    (to_other / STORE_NAME).symlink_to(other)
    with pytest.raises(ChatError, match="symbolic link"):
        ChatStore(to_other)
    copied = tmp_path / "copied"
    copied.mkdir()
    shutil.copy(results, copied / STORE_NAME)  # a run's store renamed: not the chat schema
    with pytest.raises(ChatError, match=r"not a chat store .*user_version"):
        ChatStore(copied)
    # a link made after the viewer started is refused before the first write too
    late = tmp_path / "late"
    store = ChatStore(late)
    late.mkdir()
    (late / STORE_NAME).symlink_to(results)
    with pytest.raises(ChatError, match="symbolic link"):
        store.chats()
    assert hashlib.sha256(results.read_bytes()).hexdigest() == before
    fresh = ChatStore(tmp_path / "fresh")
    assert fresh.chats() == [] and ChatStore(tmp_path / "fresh").chats() == []


def test_a_long_conversation_sends_only_its_latest_messages(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from behaviorlab.report import _chat

    made = create_app(runs_dir)
    with viewer(made) as client:
        chat_id = start(client)["chat_id"]
        prompt = len(str(client.get(f"/api/chat/{chat_id}").json()["chat"]["system_prompt"]))
        monkeypatch.setattr(_chat, "HISTORY_CHARS", prompt + 400)
        left_out = []
        for i in range(6):
            res = client.post(f"/api/chat/{chat_id}/messages", json={"text": f"{i} " + "x" * 60})
            assert res.status_code == 200, res.text
            left_out.append(res.json()["messages"][1]["meta"].get("history_left_out", 0))
        assert len(client.get(f"/api/chat/{chat_id}").json()["messages"]) == 12  # all kept
    assert left_out[0] == 0 and left_out[-1] > 0 and left_out == sorted(left_out)
    gc.collect()
    service = made.state.chat
    assert len(service._turn_locks) == 0  # a conversation's lock lives while its turn does
