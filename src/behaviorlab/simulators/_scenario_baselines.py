"""Scenario baselines (always-first-option) and the optional judge (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
