"""Extending behaviorlab: task families and plugins found by entry point.

A family is one folder (``behaviorlab/families/<name>/`` for ours, any package for yours) that
registers one :class:`Family`; see docs/plugins.md for a new family in one file.
"""

from behaviorlab._registry import (
    ENTRY_POINT_GROUP,
    PluginError,
    PluginFailure,
    PluginWarning,
    import_plugins,
    load_plugins,
    plugin_failures,
)
from behaviorlab.plugins._family import (
    Demo,
    DemoPlan,
    DemoRequest,
    Family,
    RatingForm,
    RatingQuestion,
    default_task,
    demos,
    families,
    families_for,
    family,
    family_of,
    find_demo,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Demo",
    "DemoPlan",
    "DemoRequest",
    "Family",
    "PluginError",
    "PluginFailure",
    "PluginWarning",
    "RatingForm",
    "RatingQuestion",
    "default_task",
    "demos",
    "families",
    "families_for",
    "family",
    "family_of",
    "find_demo",
    "import_plugins",
    "load_plugins",
    "plugin_failures",
]
