"""Game metrics: partner-prediction accuracy and payoff against the best response (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
