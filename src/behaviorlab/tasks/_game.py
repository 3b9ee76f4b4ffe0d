"""The game task family: repeated games against scripted partners (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
