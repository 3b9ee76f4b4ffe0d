"""Scenario data: a generic loader and the PacifAIst / difference-awareness adapters (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
