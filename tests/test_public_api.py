"""The public surface is exactly what we mean it to be, package by package (as httpx's
``tests/test_exported_members.py`` does): each package's ``__all__`` equals the list below,
every name in it exists, nothing public leaks beside it (an imported helper, a stray
constant), and every module is private (``_name.py``) so the package's ``__init__`` is the
one way in. Adding to the API is a deliberate edit of this list; so is a new package.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

import behaviorlab

SRC = Path(behaviorlab.__file__).parent

EXPECTED: dict[str, list[str]] = {
    "behaviorlab": [
        "ExperimentSpec",
        "Run",
        "SpecError",
        "__version__",
        "gap",
        "load_spec",
        "open_run",
        "run",
        "run_async",
    ],
    "behaviorlab.analysis": [
        "AdjustedRanking",
        "ClusterStats",
        "DistributionMetric",
        "EarlyWarning",
        "Estimate",
        "GapReport",
        "GapRow",
        "HumanCeiling",
        "MeanMetric",
        "Metric",
        "PairedEffect",
        "SMALL_SAMPLE_CLUSTERS",
        "StaggeredDiD",
        "VersionSeries",
        "Wasserstein",
        "WithinPersonEffect",
        "adjusted_ranking",
        "binned_counts",
        "cluster_bootstrap",
        "compare",
        "cr2_interval",
        "distribution_tests",
        "early_warning",
        "error_agreement",
        "estimate",
        "gap",
        "human_ceiling",
        "item_level",
        "js_distance",
        "metric",
        "metrics",
        "noise_floor",
        "paired_effect",
        "position_shares",
        "role_table",
        "staggered_did",
        "subgroup_gaps",
        "total_variation",
        "turns",
        "valid_rows",
        "versions",
        "within_person_effect",
    ],
    "behaviorlab.cli": ["app", "main"],
    "behaviorlab.collect": [
        "CaptureStore",
        "Participant",
        "PiiConfig",
        "PiiMasker",
        "Questionnaire",
        "RateLimit",
        "Study",
        "capture_dataset",
        "check_answers",
        "clean_html",
        "create_app",
        "create_shop_app",
        "export_study",
        "load_questionnaire",
        "open_store",
        "serve_shop",
    ],
    "behaviorlab.data": [
        "Action",
        "Dataset",
        "Episode",
        "Observation",
        "OperaData",
        "OperaFormatError",
        "OperaReport",
        "Option",
        "Person",
        "PersonaField",
        "QuestionSpec",
        "Rationale",
        "SCHEMA_VERSION",
        "Step",
        "SurveyMapping",
        "SurveyMappingError",
        "dataset",
        "datasets",
        "export_opera",
        "load_dataset",
        "load_opera",
        "load_survey_file",
        "make_synthetic_opera",
        "normalise_code",
        "stable_hash",
        "survey_from_frame",
    ],
    "behaviorlab.families": [],
    "behaviorlab.families.choice": [
        "CHOICE",
        "ChoiceAttribute",
        "ChoiceDataError",
        "ChoiceMapping",
        "ChoiceOption",
        "ChoiceTask",
        "FAMILY",
        "LogitSimulator",
        "MODECHOICE_MAPPING",
        "PersonaAttribute",
        "RhoSquared",
        "choice_from_frame",
        "choice_shares",
        "load_choice_file",
    ],
    "behaviorlab.families.debate": [
        "DEBATE",
        "DeGrootAgent",
        "DebateConfigError",
        "DebateTask",
        "DriftAgent",
        "FAMILY",
        "Scale",
        "StubbornAgent",
        "Topic",
        "debate_reports",
        "debate_topics",
        "default_attitudes",
        "degroot_closed_form",
        "drift_differences",
        "drift_table",
        "reference_reports",
        "spread",
        "spread_change",
        "trajectories",
    ],
    "behaviorlab.families.game": [
        "BestResponder",
        "FAMILY",
        "FirstMove",
        "GAME",
        "GAME_METRICS",
        "GameTask",
        "RandomMove",
        "ScriptedPartner",
        "game_failures",
        "game_rounds",
        "learning_curves",
    ],
    "behaviorlab.families.next_action": [
        "CutReport",
        "FAMILY",
        "FirstProductLinkSimulator",
        "MajorityActionSimulator",
        "MarkovSimulator",
        "NEXT_ACTION",
        "NEXT_ACTION_METRICS",
        "NearestStepSimulator",
        "NextActionPrompting",
        "NextActionTask",
        "PageElement",
        "RationaleEmbeddingCosine",
        "RenderedPage",
        "Survival",
        "accuracy_by_type",
        "action_schema",
        "cut_summary",
        "embedding_cosine",
        "fit_budget",
        "history_k",
        "normalize_text",
        "render_page",
        "rouge_l",
        "session_outcomes",
        "split_by_session",
        "target_survival",
        "token_f1",
        "tokenize",
        "validation_schema",
        "with_human_actions",
    ],
    "behaviorlab.families.scenario": [
        "FAMILY",
        "FIRST_OPTION",
        "JudgeVerdict",
        "REFUSAL_PATTERNS",
        "SCENARIO",
        "ScenarioDataError",
        "ScenarioJudge",
        "ScenarioMapping",
        "ScenarioTask",
        "awareness_table",
        "detect_refusal",
        "load_scenarios",
        "scenario_table",
        "scenarios_from_frame",
    ],
    "behaviorlab.families.survey": ["FAMILY", "SURVEY", "SurveyTask"],
    "behaviorlab.families.transcript": [
        "ChoiceRecord",
        "DEFAULT_RULES",
        "FAMILY",
        "OptionRule",
        "PassStats",
        "PositionFrequency",
        "RepeatLast",
        "Session",
        "TRANSCRIPT",
        "TRANSCRIPT_METRICS",
        "TranscriptFormatError",
        "TranscriptLogit",
        "TranscriptTask",
        "load_transcripts",
        "parse_options",
        "prompt_for",
        "score_one_pass",
        "split_transcript",
        "transcript_table",
    ],
    "behaviorlab.models": [
        "Backend",
        "BackendError",
        "CachedBackend",
        "CallCache",
        "ContextWindowError",
        "GenerateRequest",
        "Generation",
        "Message",
        "MissingExtraError",
        "MockBackend",
        "MockScriptError",
        "ModelIdentity",
        "OpenAIBackend",
        "PositionsRequest",
        "PositionsResult",
        "Pricing",
        "RateLimiter",
        "ScorePoint",
        "ScoreRequest",
        "ScoreResult",
        "TokenBucket",
        "UnsupportedError",
        "VLLMBackend",
        "backend",
        "backends",
        "default_cache_path",
        "score_per_point",
    ],
    "behaviorlab.plugins": [
        "Demo",
        "DemoPlan",
        "DemoRequest",
        "ENTRY_POINT_GROUP",
        "Family",
        "PluginError",
        "PluginFailure",
        "PluginWarning",
        "default_task",
        "demos",
        "families",
        "families_for",
        "family",
        "family_of",
        "find_demo",
        "import_plugins",
        "load_plugins",
        "plugin_failures",
    ],
    "behaviorlab.report": [
        "Block",
        "Bullets",
        "Code",
        "Heading",
        "Paragraph",
        "Plot",
        "ReportFiles",
        "RunData",
        "Section",
        "Table",
        "gap_summary_lines",
        "render_gap",
        "write_report",
    ],
    "behaviorlab.runs": [
        "AnswerColumns",
        "AnswerImportError",
        "Condition",
        "DataSpec",
        "ExecutorSpec",
        "ExperimentSpec",
        "ImportSummary",
        "Job",
        "PartiesSpec",
        "Plan",
        "Run",
        "RunSummary",
        "SimulatorSpec",
        "SpecError",
        "SplitSpec",
        "SubsetSpec",
        "SweepFactors",
        "SweepSpec",
        "ThroughputSpec",
        "UnmatchedRow",
        "condition",
        "conditions",
        "derangement",
        "import_answers",
        "load_spec",
        "open_run",
        "parse_spec",
        "plan",
        "run",
        "run_async",
    ],
    "behaviorlab.simulators": [
        "Answer",
        "DEFAULT_PROMPTING",
        "FirstOptionSimulator",
        "KnnPersonaSimulator",
        "LLMSimulator",
        "MajoritySimulator",
        "PartySet",
        "Prompting",
        "RandomOptionSimulator",
        "Script",
        "Simulator",
        "StructuredPrompt",
        "TurnLog",
        "prompting_of",
        "simulator",
        "simulators",
    ],
    "behaviorlab.store": [
        "BrokenStoreError",
        "COLUMNS",
        "JSON_COLUMNS",
        "MIGRATIONS",
        "NewerStoreError",
        "RESULTS_SCHEMA_VERSION",
        "ResultStore",
        "StoreError",
        "StoreLock",
        "StoreLockedError",
        "StoreWriteError",
        "TrialResult",
        "lock_path",
        "set_aside",
    ],
    "behaviorlab.tasks": [
        "InteractiveTask",
        "MultiPartyTask",
        "Task",
        "TokenCounter",
        "Trial",
        "TrialInput",
        "Turn",
        "approx_tokens",
        "char_counter",
        "split_by_person",
        "task",
        "tasks",
        "trial_key",
    ],
}


def _packages() -> list[str]:
    found = ["behaviorlab"]
    for init in sorted(SRC.rglob("__init__.py")):
        if init.parent != SRC:
            found.append(".".join(["behaviorlab", *init.parent.relative_to(SRC).parts]))
    return found


def test_every_package_is_listed() -> None:
    assert sorted(_packages()) == sorted(EXPECTED)


def test_every_module_is_private() -> None:
    public = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.name != "__init__.py" and not p.name.startswith("_")
    ]
    assert public == []


def _public_members(mod: ModuleType) -> set[str]:
    names = {k for k in vars(mod) if not k.startswith("_") and k != "annotations"}
    return {k for k in names if not isinstance(getattr(mod, k), ModuleType)}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_package_exports_exactly_its_list(name: str) -> None:
    mod = importlib.import_module(name)
    exported = getattr(mod, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    assert sorted(exported) == EXPECTED[name]
    missing = [s for s in exported if not hasattr(mod, s)]
    assert missing == [], f"{name}.__all__ names what it does not define"
    leaked = sorted(_public_members(mod) - set(exported))
    assert leaked == [], f"{name} has public names outside __all__"


def test_extension_decorators_exist() -> None:
    from behaviorlab.analysis import metric
    from behaviorlab.data import dataset
    from behaviorlab.models import backend
    from behaviorlab.plugins import family
    from behaviorlab.runs import condition
    from behaviorlab.simulators import simulator
    from behaviorlab.tasks import task

    assert all(callable(f) for f in (task, simulator, backend, metric, condition, dataset, family))
