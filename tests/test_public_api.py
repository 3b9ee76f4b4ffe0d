"""The public surface is what we mean it to be."""

from __future__ import annotations

import importlib

import behaviorlab as bl

PACKAGES = ["data", "tasks", "simulators", "models", "runs", "store", "analysis", "report", "cli"]


def test_top_level_api() -> None:
    assert {"run", "gap", "open_run", "load_spec", "ExperimentSpec", "Run"} <= set(bl.__all__)


def test_every_package_exports_exactly_its_all() -> None:
    for name in PACKAGES:
        mod = importlib.import_module(f"behaviorlab.{name}")
        exported = getattr(mod, "__all__", None)
        assert exported, f"behaviorlab.{name} has no __all__"
        for symbol in exported:
            assert hasattr(mod, symbol), f"behaviorlab.{name}.{symbol} missing"
        public = {k for k in vars(mod) if not k.startswith("_")}
        submodules = {k for k in public if type(getattr(mod, k)).__name__ == "module"}
        assert public - submodules - {"annotations"} <= set(exported), name


def test_extension_decorators_exist() -> None:
    from behaviorlab.analysis import metric
    from behaviorlab.models import backend
    from behaviorlab.runs import condition
    from behaviorlab.simulators import simulator
    from behaviorlab.tasks import task

    assert all(callable(f) for f in (task, simulator, backend, metric, condition))
