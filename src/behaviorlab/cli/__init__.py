"""The command line: ``behaviorlab demo | run | results | gap | tasks | simulators | models``."""

from behaviorlab.cli._app import app, main

__all__ = ["app", "main"]
