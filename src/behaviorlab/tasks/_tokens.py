"""Counting tokens without a tokenizer: the approximation every task may use for budgets and
plans (a task with its own ``count(text)`` method overrides it in plan estimates)."""

from __future__ import annotations

import math
from collections.abc import Callable

TokenCounter = Callable[[str], int]


def approx_tokens(text: str, chars_per_token: float = 4.0) -> int:
    """``ceil(len(text) / chars_per_token)``: the documented approximation of a token count."""
    return math.ceil(len(text) / chars_per_token) if text else 0


def char_counter(chars_per_token: float = 4.0) -> TokenCounter:
    """A :data:`TokenCounter` counting ``chars_per_token`` characters as one token."""
    if chars_per_token <= 0:
        raise ValueError(f"chars_per_token must be positive, not {chars_per_token}")
    return lambda text: approx_tokens(text, chars_per_token)
