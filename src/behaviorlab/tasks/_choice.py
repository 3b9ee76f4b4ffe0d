"""The choice task family: people's own choices between options (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
