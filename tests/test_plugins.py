"""Plugins: entry points loaded once, a broken one reported by name and entry point while the
rest load, and a spec's ``plugins:`` imported before planning."""

from __future__ import annotations

import sys
import warnings
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from behaviorlab import _registry
from behaviorlab._registry import PluginError, PluginWarning, UnknownComponentError
from behaviorlab.plugins import families, family_of, find_demo
from behaviorlab.runs import load_spec, plan
from behaviorlab.tasks import tasks


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group="behaviorlab")


def test_our_families_are_found_by_entry_point() -> None:
    assert {"survey", "next_action", "scenario", "choice", "game"} <= set(families.names())
    assert family_of("choice") is families.get("choice")
    assert families.get("choice").builds_on == ("survey",)
    assert find_demo(None).name == "survey"


def test_a_broken_plugin_is_named_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bl_good_plugin.py").write_text(
        "from behaviorlab.tasks import task\n"
        "@task('good_plugin_task')\n"
        "class Good:\n"
        "    name = 'good_plugin_task'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    state = _registry._Plugins()
    monkeypatch.setattr(_registry, "_PLUGINS", state)
    points = [_ep("broken", "bl_no_such_module_xyz"), _ep("good", "bl_good_plugin")]
    monkeypatch.setattr(_registry, "entry_points", lambda group: points)
    try:
        with pytest.warns(PluginWarning, match=r"plugin 'broken' \(entry point 'broken = "):
            assert _registry.load_plugins() == ["good"]
        assert "good_plugin_task" in tasks
        assert [f.name for f in _registry.plugin_failures()] == ["broken"]
        with pytest.raises(UnknownComponentError, match="bl_no_such_module_xyz"):
            tasks.get("no_such_task")
        assert _registry.load_plugins() == ["good"]  # once per process, no second warning
    finally:
        tasks._entries.pop("good_plugin_task", None)
        sys.modules.pop("bl_good_plugin", None)


def test_a_spec_lists_its_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = {
        "name": "plug",
        "task": "survey",
        "data": {"source": "anes96", "people": 20},
        "simulators": [{"name": "majority"}],
    }
    plain = load_spec(base)
    listed = load_spec({**base, "plugins": ["bl_spec_plugin"]})
    assert listed.spec_hash() != plain.spec_hash()
    assert load_spec({**base, "plugins": []}).run_id() == plain.run_id()  # default: unchanged
    with pytest.raises(PluginError, match=r"'bl_spec_plugin'.*plugins:"):
        plan(listed, None)
    (tmp_path / "bl_spec_plugin.py").write_text("IMPORTED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert plan(listed, None).jobs
        assert sys.modules["bl_spec_plugin"].IMPORTED is True
    finally:
        sys.modules.pop("bl_spec_plugin", None)


def test_a_spec_without_task_runs_the_default_family_task() -> None:
    spec = load_spec({"name": "x", "data": {"source": "anes96"}, "simulators": [{"name": "m"}]})
    assert spec.task == "survey"


def test_a_plugin_under_a_taken_name_is_loaded_with_a_warning_never_shadowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for mod, name in (("bl_clash_a", "clash_task_a"), ("bl_clash_b", "clash_task_b")):
        (tmp_path / f"{mod}.py").write_text(
            f"from behaviorlab.tasks import task\n@task({name!r})\nclass T:\n    name = {name!r}\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_registry, "_PLUGINS", _registry._Plugins())
    points = [_ep("game", "bl_clash_a"), _ep("game", "bl_clash_a"), _ep("game", "bl_clash_b")]
    monkeypatch.setattr(_registry, "entry_points", lambda group: points)
    try:
        with pytest.warns(PluginWarning, match=r"two plugins share the name 'game'") as caught:
            _registry.load_plugins()
        assert len(caught) == 1  # the exact duplicate (one distribution seen twice) is not one
        assert "clash_task_a" in tasks and "clash_task_b" in tasks  # both loaded
    finally:
        for mod, name in (("bl_clash_a", "clash_task_a"), ("bl_clash_b", "clash_task_b")):
            tasks._entries.pop(name, None)
            sys.modules.pop(mod, None)


def test_a_plugin_that_exits_while_importing_is_a_failure_not_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bl_exiting_plugin.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_registry, "_PLUGINS", _registry._Plugins())
    monkeypatch.setattr(
        _registry, "entry_points", lambda group: [_ep("exits", "bl_exiting_plugin")]
    )
    try:
        with pytest.warns(PluginWarning, match=r"plugin 'exits'.*SystemExit: 3") as caught:
            assert _registry.load_plugins() == []
        # the warning points at the line that looked something up, not into behaviorlab
        assert caught[0].filename == __file__
    finally:
        sys.modules.pop("bl_exiting_plugin", None)


def test_families_lists_a_failed_plugin_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from behaviorlab.cli import app

    monkeypatch.setattr(_registry, "_PLUGINS", _registry._Plugins())
    real = _registry.entry_points
    monkeypatch.setattr(
        _registry,
        "entry_points",
        lambda group: [*real(group=group), _ep("broken", "bl_no_such_module_xyz")],
    )
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        res = CliRunner().invoke(app, ["families"])
    assert res.exit_code == 0, res.output
    # listed once by the command, not also as a warning on stderr
    assert res.output.count("plugin failed:") == 1 and "bl_no_such_module_xyz" in res.output
    assert not [w for w in shown if issubclass(w.category, PluginWarning)]
    assert "survey" in res.output
