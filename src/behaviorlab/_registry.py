"""One typed registry shared by every extension point (families, tasks, simulators, backends,
metrics, conditions, datasets), and the plugins found by entry point.

Each package exposes its own decorator (``@task``, ``@simulator``, ``@backend``, ``@metric``,
``@condition``, ``@dataset``, ``family(...)``) built on :class:`Registry`; a user registers a
component by decorating it, without editing behaviorlab. A registered factory is called with
keyword arguments from an experiment spec, so a run can be rebuilt from its manifest.

**Plugins.** The first lookup in any registry (``get``, ``names``, ``entries``, ``in``) imports
every entry point of the group ``behaviorlab`` (:data:`ENTRY_POINT_GROUP`), once per process:
the CLI, the Python API and every Ray worker see the same components. behaviorlab's own task
families are entry points too (``pyproject.toml``), found exactly like a user's. A plugin
that fails to import is reported (:class:`PluginWarning`, and in the message of any lookup
that then fails) with its name and entry point; the others, built-ins included, still load.
A spec may also name modules to import (``plugins: [module, ...]``, :func:`import_plugins`).
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")

ENTRY_POINT_GROUP = "behaviorlab"


class PluginWarning(UserWarning):
    """A plugin (an entry point of the group ``behaviorlab``) failed to import."""


class PluginError(ImportError):
    """A module a spec lists under ``plugins:`` could not be imported."""


@dataclass(frozen=True)
class PluginFailure:
    """An entry point that could not be loaded: its name, its value and why."""

    name: str
    value: str
    error: str

    def __str__(self) -> str:
        return (
            f"plugin {self.name!r} (entry point '{self.name} = {self.value}' in group "
            f"{ENTRY_POINT_GROUP!r}) failed to import: {self.error}"
        )


class _Plugins:
    """The entry points of the group ``behaviorlab``, loaded once per process on demand."""

    def __init__(self) -> None:
        self.loaded = False
        self.failures: list[PluginFailure] = []
        self.names: list[str] = []
        self.seen: set[tuple[str, str]] = set()

    def load(self) -> None:
        if self.loaded:
            return
        self.loaded = True  # first: a plugin's own lookups while it imports do not recurse
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            self.load_one(ep)

    def load_one(self, ep: EntryPoint) -> None:
        if (ep.name, ep.value) in self.seen:
            return  # the same distribution seen twice on the path
        clash = [v for n, v in self.seen if n == ep.name]
        self.seen.add((ep.name, ep.value))
        if clash:  # another plugin under a taken name: load both, never shadow one silently
            warnings.warn(
                f"two plugins share the name {ep.name!r} (entry points '{ep.name} = "
                f"{clash[0]}' and '{ep.name} = {ep.value}' in group {ENTRY_POINT_GROUP!r}); "
                "both are loaded: rename one",
                PluginWarning,
                stacklevel=_caller_level(),
            )
        try:
            ep.load()
        except (Exception, SystemExit) as exc:  # a broken plugin must not take the rest down
            # (a plugin calling sys.exit() while it imports included)
            failure = PluginFailure(ep.name, ep.value, f"{type(exc).__name__}: {exc}")
            self.failures.append(failure)
            warnings.warn(str(failure), PluginWarning, stacklevel=_caller_level())
            return
        self.names.append(ep.name)


def _caller_level() -> int:
    """The ``stacklevel`` that makes a warning raised in the caller of this function point at
    the first frame outside behaviorlab (the user's line that triggered the lookup)."""
    here = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)  # the function that warns: stacklevel 1
    level = 1
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        here + os.sep
    ):
        frame = frame.f_back
        level += 1
    return level


_PLUGINS = _Plugins()


def load_plugins() -> list[str]:
    """Import every entry point of the group ``behaviorlab`` (once per process); returns the
    names of those loaded. Registries call this on their first lookup."""
    _PLUGINS.load()
    return list(_PLUGINS.names)


def plugin_failures() -> list[PluginFailure]:
    """The entry points that failed to import in this process (after :func:`load_plugins`)."""
    return list(_PLUGINS.failures)


def import_plugins(modules: Iterable[str]) -> None:
    """Import the modules a spec lists under ``plugins:`` (registering what they define)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:
            raise PluginError(
                f"plugin module {name!r} (listed under 'plugins:' in the spec) failed to "
                f"import: {type(exc).__name__}: {exc}. Is it installed, or on PYTHONPATH?"
            ) from exc


class UnknownComponentError(KeyError):
    """A name that no registry entry carries. The message lists the valid names."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        self.kind, self.name, self.known = kind, name, known
        broken = "".join(f" Note: {f}." for f in plugin_failures())
        super().__init__(
            f"unknown {kind} {name!r}.{hint} Registered {kind}s: "
            f"{', '.join(sorted(known)) or '-'}.{broken}"
        )

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered component: its name, the factory, and a one-line description."""

    name: str
    factory: T
    description: str


def summary(doc: str | None) -> str:
    """A docstring's first paragraph on one line (its summary, however it was wrapped)."""
    first = (doc or "").strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in first.splitlines())


class Registry(Generic[T]):
    """Name → factory mapping for one kind of component."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self, name: str, *, replace: bool = False, description: str | None = None
    ) -> Callable[[T], T]:
        """Decorator: register ``obj`` under ``name`` (described by ``description``, else its
        docstring's first paragraph).

        Registering a name twice is an error unless ``replace=True`` (so two plugins cannot
        silently shadow each other).
        """

        def deco(obj: T) -> T:
            if name in self._entries and not replace:
                raise ValueError(
                    f"{self.kind} {name!r} is already registered; pass replace=True to override"
                )
            about = description if description is not None else getattr(obj, "__doc__", None)
            self._entries[name] = Entry(name, obj, summary(about))
            return obj

        return deco

    def get(self, name: str) -> T:
        load_plugins()
        try:
            return self._entries[name].factory
        except KeyError:
            raise UnknownComponentError(self.kind, name, list(self._entries)) from None

    def entries(self) -> list[Entry[T]]:
        load_plugins()
        return [self._entries[k] for k in sorted(self._entries)]

    def names(self) -> list[str]:
        load_plugins()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def call_with_options(kind: str, name: str, factory: Callable[..., Any], **options: Any) -> Any:
    """Call a registered factory with options from a spec, turning a bad keyword into an
    error that names the component and the accepted options."""
    import inspect

    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without signatures
        return factory(**options)
    params = sig.parameters
    accepts_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if not accepts_kwargs:
        unknown = [k for k in options if k not in params]
        if unknown:
            valid = [k for k, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
            raise ValueError(
                f"{kind} {name!r} does not take option(s) {', '.join(map(repr, unknown))}; "
                f"it accepts: {', '.join(valid) or 'no options'}"
            )
    return factory(**options)
