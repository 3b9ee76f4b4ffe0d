"""behaviorlab: a lab for the behavioral science of AI agents."""
