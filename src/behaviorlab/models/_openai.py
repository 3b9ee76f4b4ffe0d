"""OpenAI-compatible HTTP backend (issue 7).

Placeholder created by the integrator; the owner of this module fills it in."""
