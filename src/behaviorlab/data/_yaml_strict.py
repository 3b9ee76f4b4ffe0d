"""YAML that refuses a key given twice in one mapping.

PyYAML's safe loader keeps the last of two equal keys without a word, so a spec or mapping
edited by hand can lose a setting silently (``seeds:`` written twice runs only the second
list). :class:`StrictLoader` is the safe loader that raises instead, naming the key and both
lines. Merge keys (``<<: *base``) may still be overridden by the mapping that merges them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError

MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(ConstructorError):
    """A key given twice in one YAML mapping; ``problem`` names it and both lines, and
    ``problem_mark`` points at the second."""


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that raises :class:`DuplicateKeyError` on a repeated key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: the safe loader reports it itself
                if first is not None:
                    line, again = first.start_mark.line + 1, key_node.start_mark.line + 1
                    raise DuplicateKeyError(
                        "while reading a mapping",
                        node.start_mark,
                        f"key {key!r} is given twice (lines {line} and {again}); YAML would "
                        "keep only the last, so remove or rename one",
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def load_strict(text: str) -> Any:
    """Parse one YAML document like ``yaml.safe_load``, refusing duplicate keys."""
    return yaml.load(text, Loader=StrictLoader)  # safe: a SafeLoader subclass
