"""Scenario metrics: P-Score, refusal rate, DiffAware, CtxtAware (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
