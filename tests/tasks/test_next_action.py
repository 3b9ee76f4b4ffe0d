"""The next_action task: trials, no leakage, options, scoring."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from behaviorlab.data import Action, Dataset, Rationale, load_opera, make_synthetic_opera
from behaviorlab.families.next_action import NextActionTask, normalize_text, split_by_session
from behaviorlab.simulators import Answer
from behaviorlab.tasks import Trial, tasks

ACTIONS = ("click", "input", "terminate")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out: Path = make_synthetic_opera(tmp_path_factory.mktemp("opera"), users=4, sessions_per_user=2)
    return out


@pytest.fixture(scope="module")
def shop(root: Path) -> Dataset:
    return load_opera(root).dataset


@pytest.fixture(scope="module")
def trials(shop: Dataset) -> list[Trial]:
    return NextActionTask(budget=None).trials(shop, seed=0)


def test_registered_and_one_trial_per_step(shop: Dataset, trials: list[Trial]) -> None:
    assert tasks.get("next_action") is NextActionTask
    assert len(trials) == sum(len(e.steps) for e in shop.episodes)
    assert len({t.key for t in trials}) == len(trials)
    for t in trials:
        step = next(e for e in shop.episodes if e.episode_id == t.episode_id).steps[t.step_index]
        assert t.target == step.action and t.item_id == step.step_id
        assert t.input.observation.options is None
        content = t.input.observation.content
        assert not re.search(r"</?(div|a|span|button|html)\b", content)  # no raw HTML
        ids = [e["id"] for e in t.input.observation.meta["elements"]]
        assert t.input.answer_schema["properties"]["semantic_id"]["enum"] == ids
        assert all(f"[{i}]" in content for i in ids)
        assert t.input.meta["cut"]["elements_dropped"] == 0  # budget None: nothing cut


def test_history_is_the_steps_before_in_order(shop: Dataset, trials: list[Trial]) -> None:
    for t in trials:
        ep = next(e for e in shop.episodes if e.episode_id == t.episode_id)
        past = ep.steps[: t.step_index]
        assert [s.step_id for s in t.input.history] == [s.step_id for s in past]
        for shown, real in zip(t.input.history, past, strict=True):
            assert shown.action.target == real.action.target
            assert shown.action.value == real.action.value
            assert set(shown.action.attributes) <= {"click_type"}
            assert shown.rationale == real.rationale


MARK = re.compile(r"(PAGE|TYPED|WHY|PROD|META|NEXTPAGE)MARKE(\d\d)S(\d\d\d)")


def _planted(shop: Dataset) -> Dataset:
    """Markers in every step (episode e, step s): its page, typed text, rationale, extras."""
    episodes = []
    for e, ep in enumerate(shop.episodes):
        steps = []
        for s in ep.steps:
            k = f"E{e:02d}S{s.index:03d}"
            html = s.observation.content.replace("</body>", f"<div>PAGEMARK{k}</div></body>")
            attrs = {
                **s.action.attributes,
                "products": [{"title": f"PRODMARK{k}"}],
                "element_meta": {"name": f"METAMARK{k}", "data": ""},
                "simplified_html_new_page": f"<div>NEXTPAGEMARK{k}</div>",
            }
            typed = f"TYPEDMARK{k}" if s.action.action_type == "input" else None
            steps.append(
                s.model_copy(
                    update={
                        "observation": s.observation.model_copy(update={"content": html}),
                        "action": s.action.model_copy(update={"attributes": attrs, "value": typed}),
                        "rationale": Rationale(text=f"WHYMARK{k}"),
                    }
                )
            )
        episodes.append(ep.model_copy(update={"steps": steps}))
    return shop.model_copy(update={"episodes": episodes})


def test_no_leakage_markers_of_this_step_and_later_never_appear(shop: Dataset) -> None:
    """The input of step i holds step i's page, earlier steps' pages, actions and rationales,
    and nothing of step i's action or rationale, nor of any later step or other session."""
    planted = _planted(shop)
    number = {ep.episode_id: e for e, ep in enumerate(planted.episodes)}
    made = NextActionTask(budget=None).trials(planted, seed=0)
    assert len(made) == sum(len(e.steps) for e in planted.episodes)
    for t in made:
        found = {(kind, int(e), int(s)) for kind, e, s in MARK.findall(t.input.model_dump_json())}
        e, i = number[t.episode_id], t.step_index
        assert {x[1] for x in found} == {e}  # nothing from other sessions
        assert ("PAGE", e, i) in found  # the page seen now
        assert all(s <= i for _, _, s in found)  # nothing later
        assert all(s < i for kind, _, s in found if kind != "PAGE")  # not this action
        assert not {kind for kind, _, _ in found} & {"PROD", "META", "NEXTPAGE"}  # extras
        assert {("WHY", e, s) for s in range(i)} <= found  # earlier rationales are shown
        assert {("PAGE", e, s) for s in range(i)} <= found  # earlier pages, as shown then


def test_the_input_of_step_i_does_not_change_when_step_i_and_later_change(shop: Dataset) -> None:
    ep = max(shop.episodes, key=lambda e: len(e.steps))
    i = len(ep.steps) // 2
    changed = []
    for s in ep.steps:
        if s.index < i:
            changed.append(s)
            continue
        new_obs = s.observation.content.replace("</body>", "<a name='x.new'>New</a></body>")
        changed.append(
            s.model_copy(
                update={
                    "action": Action(action_type="click", target="x.new", attributes={}),
                    "rationale": Rationale(text="a different reason"),
                    "observation": s.observation
                    if s.index == i
                    else s.observation.model_copy(update={"content": new_obs}),
                }
            )
        )
    other = shop.model_copy(
        update={
            "episodes": [
                e.model_copy(update={"steps": changed}) if e.episode_id == ep.episode_id else e
                for e in shop.episodes
            ]
        }
    )
    for budget in (None, 800):
        task = NextActionTask(budget=budget)
        a = next(
            t
            for t in task.trials(shop, seed=0)
            if t.episode_id == ep.episode_id and t.step_index == i
        )
        b = next(
            t
            for t in task.trials(other, seed=0)
            if t.episode_id == ep.episode_id and t.step_index == i
        )
        assert a.input == b.input and a.target != b.target


def test_options_splits_max_steps_window_rationales_interview(shop: Dataset) -> None:
    test_only = NextActionTask(splits="test", budget=None).trials(shop, seed=0)
    assert test_only and {t.input.meta["split"] for t in test_only} == {"test"}
    assert len(NextActionTask(splits=["train", "test"]).trials(shop, seed=0)) == sum(
        len(e.steps) for e in shop.episodes
    )
    short = NextActionTask(max_steps=2, budget=None).trials(shop, seed=0)
    assert len(short) == 2 * len(shop.episodes) and max(t.step_index for t in short) == 1
    window = NextActionTask(history=2, budget=None).trials(shop, seed=0)
    assert max(len(t.input.history) for t in window) == 2
    assert all(
        [s.index for s in t.input.history] == list(range(max(0, t.step_index - 2), t.step_index))
        for t in window
    )
    assert all(t.input.history == [] for t in NextActionTask(history=0).trials(shop, seed=0))
    quiet = NextActionTask(rationales=False, budget=None).trials(shop, seed=0)
    assert all(s.rationale is None for t in quiet for s in t.input.history)
    plain = NextActionTask(budget=None).trials(shop, seed=0)
    assert all(t.input.persona is not None and t.input.persona.text is None for t in plain)
    talk = NextActionTask(interview=True, budget=None).trials(shop, seed=0)
    texts = {t.person_id: t.input.persona.text for t in talk if t.input.persona is not None}
    assert texts == {pid: p.text for pid, p in shop.persons.items() if pid in texts}
    with pytest.raises(ValueError, match="max_steps"):
        NextActionTask(max_steps=0)


def test_budget_records_cuts_per_trial(shop: Dataset) -> None:
    tight = NextActionTask(budget=900).trials(shop, seed=0)
    cuts = [t.input.meta["cut"] for t in tight]
    assert all(c["budget"] == 900 for c in cuts)
    assert any(c["elements_dropped"] > 0 for c in cuts)
    for t, c in zip(tight, cuts, strict=True):
        assert c["tokens_after"] <= 900 or c["over_budget"]
        assert c["elements_after"] == len(t.input.observation.meta["elements"])
        assert c["history_after"] == len(t.input.history)


def test_split_by_session(shop: Dataset, trials: list[Trial]) -> None:
    train, test = split_by_session(trials)
    assert len(train) + len(test) == len(trials)
    assert {t.person_id for t in train} == {t.person_id for t in test}  # time split
    for t in test:  # every test session starts after the person's train sessions
        assert all(
            u.input.meta["session_start"] < t.input.meta["session_start"]
            for u in train
            if u.person_id == t.person_id
        )


def _answer(trial: Trial, **value: str) -> Answer:
    base = {
        "action_type": "",
        "click_type": "",
        "semantic_id": "",
        "input_text": "",
        "rationale": "",
    }
    return Answer(value={**base, **value})


def test_scores(trials: list[Trial]) -> None:
    task = NextActionTask()
    click = next(t for t in trials if t.target.action_type == "click")
    ctype = click.target.attributes["click_type"]
    target = click.target.target or ""
    exact = task.score(
        click, _answer(click, action_type="click", click_type=ctype, semantic_id=target)
    )
    assert exact == {
        "action_type_correct": 1.0,
        "click_type_correct": 1.0,
        "correct": 1.0,
        "target_correct": 1.0,
        "target_in_view": 1.0,
        "reachable": 1.0,
    }
    wrong = task.score(
        click,
        _answer(click, action_type="click", click_type="other", semantic_id="nav_bar.homepage"),
    )
    assert wrong["correct"] == 0.0 and wrong["action_type_correct"] == 1.0
    assert wrong["click_type_correct"] == float(ctype == "other")
    typed = next(t for t in trials if t.target.action_type == "input")
    human = typed.target.value or ""
    sloppy = f"  {human.upper()}!! "
    assert normalize_text(sloppy) == normalize_text(human)
    box = typed.target.target or ""
    got = task.score(typed, _answer(typed, action_type="input", semantic_id=box, input_text=sloppy))
    assert got["correct"] == 1.0 and "click_type_correct" not in got
    more = human + " cheap"
    other = task.score(typed, _answer(typed, action_type="input", semantic_id=box, input_text=more))
    assert other["correct"] == 0.0 and other["target_correct"] == 1.0
    end = next(t for t in trials if t.target.action_type == "terminate")
    assert task.score(end, _answer(end, action_type="terminate")) == {
        "action_type_correct": 1.0,
        "correct": 1.0,
        "reachable": 1.0,
    }
    # a choice string alone is scored too
    assert task.score(end, Answer(choice="terminate"))["correct"] == 1.0
    assert task.score(click, Answer(choice=f"click:{click.target.target}"))["target_correct"] == 1.0


def test_human_answer_is_compact(trials: list[Trial]) -> None:
    task = NextActionTask()
    for t in trials:
        got = task.human_answer(t)
        a = t.target
        if a.action_type == "terminate":
            assert got == "terminate"
        elif a.action_type == "input":
            assert got == f"input:{a.target}={a.value}"
        else:
            assert got == f"click:{a.target}"
    assert {g.split(":")[0] for g in map(task.human_answer, trials) if g} == set(ACTIONS)


def test_normalize_text() -> None:
    assert normalize_text("  Running   Shoes, size-10! ") == "running shoes size 10"
    assert normalize_text("Café «au lait»") == "café au lait"
    assert normalize_text("") == ""


def test_full_version_scrolls_stay_in_history_only(tmp_path: Path) -> None:
    root = make_synthetic_opera(tmp_path, users=2, sessions_per_user=1, version="full")
    full = load_opera(root, version="full").dataset
    made = NextActionTask(budget=None).trials(full, seed=0)
    assert made and {t.target.action_type for t in made} <= set(ACTIONS)
    kinds = {s.action.action_type for t in made for s in t.input.history}
    assert kinds & {"scroll", "navigation", "tab_activate"}
    assert all("simplified_html_new_page" not in t.input.model_dump_json() for t in made)
