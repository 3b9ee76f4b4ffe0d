"""Choice baselines: the statsmodels logit (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
