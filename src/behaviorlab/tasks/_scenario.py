"""The scenario task family: multiple-choice and open-ended dilemmas (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
