"""One typed registry shared by every extension point (tasks, simulators, backends, metrics,
conditions, datasets).

Each package exposes its own decorator (``@task``, ``@simulator``, ``@backend``, ``@metric``,
``@condition``, ``@dataset``) built on :class:`Registry`; a user registers a component by
decorating it, without editing behaviorlab. A registered factory is called with keyword
arguments from an experiment spec, so a run can be rebuilt from its manifest.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownComponentError(KeyError):
    """A name that no registry entry carries. The message lists the valid names."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        self.kind, self.name, self.known = kind, name, known
        super().__init__(
            f"unknown {kind} {name!r}.{hint} Registered {kind}s: {', '.join(sorted(known)) or '-'}"
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

    def register(self, name: str, *, replace: bool = False) -> Callable[[T], T]:
        """Decorator: register ``obj`` under ``name``.

        Registering a name twice is an error unless ``replace=True`` (so two plugins cannot
        silently shadow each other).
        """

        def deco(obj: T) -> T:
            if name in self._entries and not replace:
                raise ValueError(
                    f"{self.kind} {name!r} is already registered; pass replace=True to override"
                )
            self._entries[name] = Entry(name, obj, summary(getattr(obj, "__doc__", None)))
            return obj

        return deco

    def get(self, name: str) -> T:
        try:
            return self._entries[name].factory
        except KeyError:
            raise UnknownComponentError(self.kind, name, list(self._entries)) from None

    def entries(self) -> list[Entry[T]]:
        return [self._entries[k] for k in sorted(self._entries)]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
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
