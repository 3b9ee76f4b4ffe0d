"""Choice metrics: per-person accuracy, log-likelihood, choice shares (issue 6).

Placeholder created by the integrator; the owner of this module fills it in."""
