"""Choice data: a generic per-person choice loader and the modechoice adapter (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
