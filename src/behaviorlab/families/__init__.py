"""behaviorlab's own task families, one folder each.

Every folder is found by its entry point (group ``behaviorlab``, in ``pyproject.toml``) exactly
as a user's family in their own package is; nothing in the core imports from here. Each
package registers one :class:`~behaviorlab.plugins.Family` and, on import, its tasks,
simulators, metrics, conditions and datasets.
"""

__all__: list[str] = []  # each family is imported by its entry point, never from here
