"""Where OPeRA comes from: file discovery under other names, hf:// locations (never
downloading), and the registered ``opera`` dataset as a run spec uses it."""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behaviorlab.data import OperaFormatError, datasets, load_dataset, load_opera
from behaviorlab.data import make_synthetic_opera as make
from behaviorlab.data._opera_files import parse_hub_uri
from behaviorlab.models import MissingExtraError

HUB = "hf://datasets/NEU-HAI/OPeRA"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("opera")
    make(root, users=4, sessions_per_user=2)
    make(root, users=4, sessions_per_user=2, version="full")
    return root


def _tables(root: Path) -> dict[tuple[str, str], Path]:
    base = root / "OPeRA_filtered"
    out = {}
    for split in ("train", "test"):
        out[("action", split)] = base / "action" / f"{split}-00000-of-00001.parquet"
        for table in ("user", "session"):
            out[(table, split)] = base / table / split / f"{split}.parquet"
    return out


def _relayout(src: Path, dst: Path, name: str) -> Path:
    """Copy the filtered tables of ``src`` to ``dst`` under the names ``name`` gives."""
    for (table, split), path in _tables(src).items():
        target = dst / name.format(table=table, split=split)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return dst


@pytest.mark.parametrize(
    "layout",
    [
        "filtered_{table}_{split}.parquet",
        "filtered/{table}/{split}.parquet",
        "{table}/{split}-00000-of-00001.parquet",
        "OPeRA/filtered_{table}/{split}/part-0.parquet",
        "Filtered-{table}s-{split}.parquet",
    ],
)
def test_discovery_finds_tables_by_the_words_of_their_paths(
    synthetic: Path, tmp_path: Path, layout: str
) -> None:
    expected = load_opera(synthetic).dataset
    found = load_opera(_relayout(synthetic, tmp_path, layout)).dataset
    assert found.persons == expected.persons and found.episodes == expected.episodes


def test_the_root_may_be_the_version_folder_and_versions_do_not_mix(synthetic: Path) -> None:
    inner = load_opera(synthetic / "OPeRA_filtered").dataset
    assert inner.episodes == load_opera(synthetic).dataset.episodes
    full = load_opera(synthetic, version="full").dataset
    kinds = {s.action.action_type for e in full.episodes for s in e.steps}
    assert {"scroll", "navigation"} <= kinds and "terminate" not in kinds


def test_shards_are_read_in_order_and_screenshots_ignored(synthetic: Path, tmp_path: Path) -> None:
    root = _relayout(synthetic, tmp_path, "OPeRA_filtered/{table}/{split}/{split}.parquet")
    action = root / "OPeRA_filtered/action/train/train.parquet"
    table = pq.read_table(action)
    half = table.num_rows // 2
    shard = root / "OPeRA_filtered/action/train-0000{}-of-00002.parquet"
    pq.write_table(table.slice(0, half), str(shard).format(0))
    pq.write_table(table.slice(half), str(shard).format(1))
    action.unlink()
    images = root / "OPeRA_filtered/images/train-00000-of-00001.parquet"
    images.parent.mkdir()
    pq.write_table(pa.table({"image": [b"x"], "image_name": ["1.jpg"]}), images)
    data = load_opera(root)
    assert data.dataset.episodes == load_opera(synthetic).dataset.episodes
    assert len(data.report.files["action/train"]) == 2


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("filtered/action.parquet", "names no split"),
        ("filtered/action_train_test.parquet", "names both train and test"),
        ("filtered/user_action_train.parquet", "names action and user"),
        ("filtered_full_action_train.parquet", "names both filtered and full"),
    ],
)
def test_ambiguous_file_names_are_errors(
    synthetic: Path, tmp_path: Path, name: str, text: str
) -> None:
    root = _relayout(synthetic, tmp_path, "filtered_{table}_{split}.parquet")
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(_tables(synthetic)[("action", "train")], root / name)
    with pytest.raises(OperaFormatError, match=text):
        load_opera(root)


# --- the Hugging Face Hub --------------------------------------------------------------------


def test_hub_without_huggingface_hub_asks_for_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails, nothing downloads
    with pytest.raises(MissingExtraError, match=r"pip install 'behaviorlab\[opera\]'"):
        load_opera(HUB)


def test_hub_goes_through_snapshot_download(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = tmp_path / "snapshots" / commit
    shutil.copytree(synthetic, snapshot)
    calls: list[dict[str, Any]] = []

    def snapshot_download(**kwargs: Any) -> str:
        calls.append(kwargs)
        return str(snapshot)

    fake = types.ModuleType("huggingface_hub")
    fake.snapshot_download = snapshot_download  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "huggingface_hub", fake)
    data = load_opera(f"{HUB}@main", splits=["test"]).dataset
    assert data.source == f"{HUB}@main" and data.version == f"filtered@{commit}"
    assert data.episodes == load_opera(synthetic, splits=["test"]).dataset.episodes
    (call,) = calls
    assert call["repo_id"] == "NEU-HAI/OPeRA" and call["repo_type"] == "dataset"
    assert call["revision"] == "main"
    assert "*filtered*action*.parquet" in call["allow_patterns"]
    assert not any("image" in p or "full" in p for p in call["allow_patterns"])


def test_hub_locations_are_parsed() -> None:
    where = parse_hub_uri(f"{HUB}@v1/OPeRA_full")
    assert (where.repo_id, where.revision, where.subfolder) == ("NEU-HAI/OPeRA", "v1", "OPeRA_full")
    with pytest.raises(ValueError, match="hf://datasets/OWNER/NAME"):
        parse_hub_uri("hf://datasets/NEU-HAI")


# --- the registered dataset -----------------------------------------------------------------


def test_registered_as_opera(synthetic: Path) -> None:
    assert "opera" in datasets
    data = load_dataset("opera", path=str(synthetic))
    assert data == load_opera(synthetic).dataset
    test = load_dataset("opera", path=str(synthetic), split="test", version="full")
    assert test.meta["splits"] == ["test"] and test.meta["opera_version"] == "full"
    some = load_dataset("opera", path=str(synthetic), people=2, seed=3)
    assert len(some.persons) == 2
    assert {e.person_id for e in some.episodes} == set(some.persons)
    assert some == load_dataset("opera", path=str(synthetic), people=2, seed=3)
    with pytest.raises(ValueError, match="needs path="):
        load_dataset("opera")
    with pytest.raises(ValueError, match="does not take option"):
        load_dataset("opera", path=str(synthetic), target="vote")


def test_a_run_spec_loads_it(synthetic: Path) -> None:
    from behaviorlab.runs import load_spec
    from behaviorlab.runs._build import load_data

    spec = load_spec(
        {
            "name": "opera-slice",
            "data": {"source": "opera", "people": 3, "options": {"path": str(synthetic)}},
            "simulators": [{"name": "majority"}],
        }
    )
    data = load_data(spec)
    assert data.name == "opera-synthetic" and len(data.persons) == 3
