"""Finding OPeRA's tables under a directory, or fetching them from the Hugging Face Hub.

Tables are Parquet (OPeRA's own format), CSV or JSON (a JSON array of row objects, or JSON
Lines: ``.json``, ``.jsonl``, ``.ndjson``). When one table and split has files in more than
one format, only the first format of that order (Parquet, CSV, JSON) is read and the others
are reported as ignored. A file belongs to a table and a split when the words of its path
below the root name them:
``OPeRA_filtered/action/train-00000-of-00002.parquet``, ``filtered/user/test.parquet`` and
``filtered_session_train.parquet`` all qualify. Words are split on anything that is not a
letter or a digit and compared case-insensitively; ``users`` / ``sessions`` / ``actions`` count
too. A path naming a version (``filtered`` or ``full``) is used only for that version; a path
naming none is used for any (so the root may be the version's own directory). Where both exist
for one table and split, the files naming the version win. Several files for one table and
split are shards, read in path order. Screenshot folders (``images``) are ignored. A user
table whose path names no split (``user.csv``) is read as listing users of no split, so a user
table can be loaded alone to inspect the personas.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path

from behaviorlab.data._opera_schema import SPLITS, TABLES, VERSIONS, OperaFormatError, OperaVersion

HF_PREFIX = "hf://datasets/"
HF_REPO = "NEU-HAI/OPeRA"
_TABLE_WORDS = {t: t for t in TABLES} | {f"{t}s": t for t in TABLES}
_IGNORED_WORDS = {"images", "image", "screenshots"}
FORMATS = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_FORMAT_ORDER = ("parquet", "csv", "json")
UNSPLIT = ""
"""The split of a user table whose path names none."""


@dataclass(frozen=True)
class OperaFiles:
    """The parquet files of one version: ``(table, split)`` → paths, in reading order."""

    root: Path
    version: OperaVersion
    found: dict[tuple[str, str], tuple[Path, ...]]
    ignored: tuple[str, ...] = ()
    """Files not read (another format of the same table and split), with the reason."""

    def splits(self) -> list[str]:
        """Splits with at least one table, known splits first (then the unsplit users)."""
        names = {s for _, s in self.found}
        rest = sorted(names - {*SPLITS, UNSPLIT})
        return [s for s in SPLITS if s in names] + rest + ([UNSPLIT] if UNSPLIT in names else [])

    def users_only(self) -> bool:
        """Only user tables were found (no session or action table of any split)."""
        return bool(self.found) and all(t == "user" for t, _ in self.found)

    def paths(self, table: str, split: str) -> tuple[Path, ...]:
        paths = self.found.get((table, split))
        if not paths:
            have = ", ".join(f"{t}/{s or '(no split)'}" for t, s in sorted(self.found))
            have = have or _nothing_found(self.root)
            raise OperaFormatError(
                f"OPeRA {table} table for split {split!r} not found under {str(self.root)!r} "
                f"(version {self.version!r}); found: {have}. Expected a path such as "
                f"OPeRA_{self.version}/{table}/{split}/{split}.parquet (see docs/opera.md)",
                table=table,
                path=str(self.root),
                reason="missing_table",
            )
        return paths


def _nothing_found(root: Path) -> str:
    """What ``found:`` says when no file names a table: the files that are there."""
    names = sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "." in p.name
    )
    formats = "/".join(sorted(FORMATS))
    if not names:
        return f"no OPeRA tables ({formats}) and no files"
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"no OPeRA tables ({formats} files whose path names user, session or action): {shown}"


def _words(relative: Path) -> list[str]:
    text = str(relative.with_suffix("")).lower()
    return [w for w in re.split(r"[^a-z0-9]+", text) if w]


def table_format(path: Path) -> str:
    """``parquet``, ``csv`` or ``json``, by the file's extension."""
    return FORMATS[path.suffix.lower()]


def check_root(root: Path) -> None:
    """An error a user can act on when ``root`` is not a directory."""
    if root.is_file():
        raise NotADirectoryError(
            f"OPeRA path {str(root)!r} is a file, not a folder: pass the folder that holds "
            f"OPeRA's tables (here {str(root.parent)!r}); to read a user table alone, put it "
            "in a folder of its own (see docs/opera.md)"
        )
    if not root.exists():
        raise FileNotFoundError(
            f"OPeRA folder {str(root)!r} does not exist; pass the folder that holds OPeRA's "
            "tables, or hf://datasets/NEU-HAI/OPeRA"
        )
    if not root.is_dir():
        raise NotADirectoryError(f"OPeRA path {str(root)!r} is not a folder")


def discover(root: Path, version: OperaVersion) -> OperaFiles:
    """Every table file under ``root`` that names an OPeRA table, by table and split."""
    check_root(root)
    tagged: dict[tuple[str, str], list[Path]] = {}
    untagged: dict[tuple[str, str], list[Path]] = {}
    every = sorted(p for p in root.rglob("*") if p.suffix.lower() in FORMATS and p.is_file())
    for path in every:
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        words = _words(relative)
        if _IGNORED_WORDS & set(words):
            continue
        tables = sorted({_TABLE_WORDS[w] for w in words if w in _TABLE_WORDS})
        if not tables:
            continue
        if len(tables) > 1:
            raise OperaFormatError(
                f"cannot tell which OPeRA table {str(path)!r} holds: its path names "
                f"{' and '.join(tables)}; rename it so it names one of {', '.join(TABLES)}",
                path=str(path),
                reason="ambiguous_file",
            )
        versions = {w for w in words if w in VERSIONS}
        if len(versions) > 1:
            raise OperaFormatError(
                f"cannot tell the OPeRA version of {str(path)!r}: its path names both "
                "filtered and full",
                path=str(path),
                reason="ambiguous_file",
            )
        if versions and version not in versions:
            continue
        splits = [w for w in dict.fromkeys(words) if w in SPLITS]
        if not splits and tables[0] == "user":
            splits = [UNSPLIT]
        if len(splits) != 1:
            what = "names no split" if not splits else "names both train and test"
            raise OperaFormatError(
                f"cannot tell the split of OPeRA file {str(path)!r}: its path {what}; "
                "name train or test in the file or folder name (see docs/opera.md)",
                table=tables[0],
                path=str(path),
                reason="ambiguous_file",
            )
        key = (tables[0], splits[0])
        (tagged if versions else untagged).setdefault(key, []).append(path)
    found = {k: tuple(v) for k, v in untagged.items()}
    found.update({k: tuple(v) for k, v in tagged.items()})
    ignored: list[str] = []
    for key, paths in found.items():
        formats = [f for f in _FORMAT_ORDER if any(table_format(p) == f for p in paths)]
        if len(formats) > 1:
            found[key] = tuple(p for p in paths if table_format(p) == formats[0])
            ignored += [
                f"{p}: ignored, the {key[0]} table is read from its {formats[0]} file(s)"
                for p in paths
                if table_format(p) != formats[0]
            ]
    return OperaFiles(root=root, version=version, found=found, ignored=tuple(ignored))


# --- the Hugging Face Hub ---------------------------------------------------------------------


@dataclass(frozen=True)
class HubLocation:
    repo_id: str
    revision: str | None
    subfolder: str


def parse_hub_uri(uri: str) -> HubLocation:
    """``hf://datasets/OWNER/NAME[@REVISION][/SUBFOLDER]`` → its parts."""
    rest = uri[len(HF_PREFIX) :].strip("/")
    parts = rest.split("/")
    if len(parts) < 2 or not all(parts[:2]):
        raise ValueError(
            f"cannot read Hugging Face location {uri!r}: write hf://datasets/OWNER/NAME, "
            f"e.g. {HF_PREFIX}{HF_REPO}"
        )
    name, _, revision = parts[1].partition("@")
    return HubLocation(f"{parts[0]}/{name}", revision or None, "/".join(parts[2:]))


def download(uri: str, version: OperaVersion) -> tuple[Path, str | None]:
    """Fetch the version's user, session and action tables (never the screenshots) with
    ``huggingface_hub.snapshot_download``; return the local root and the commit, if known."""
    where = parse_hub_uri(uri)
    try:
        hub = importlib.import_module("huggingface_hub")
    except ImportError:
        from behaviorlab.models import MissingExtraError

        raise MissingExtraError(
            "loading OPeRA from the Hugging Face Hub", "opera", "huggingface_hub"
        ) from None
    prefix = f"{where.subfolder}/" if where.subfolder else ""
    patterns = [f"{prefix}*{version}*{table}*.parquet" for table in TABLES]
    if where.subfolder:  # the subfolder may already be the version's folder
        patterns += [f"{prefix}*{table}*.parquet" for table in TABLES]
    local = Path(
        hub.snapshot_download(
            repo_id=where.repo_id,
            repo_type="dataset",
            revision=where.revision,
            allow_patterns=patterns,
        )
    )
    commit = local.name if re.fullmatch(r"[0-9a-f]{40}", local.name) else where.revision
    return (local / where.subfolder if where.subfolder else local), commit
