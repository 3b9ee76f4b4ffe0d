"""Text from participants made safe to print on a terminal.

Event ids, study names and error messages can hold what a participant sent; an ANSI escape
(``\\x1b]0;...``, ``\\x1b[2J``) printed raw would retitle or clear the researcher's terminal,
and a bidirectional override (U+202E) would reorder what they read. Every character Python
does not count as printable (control, format, separator and unassigned characters) is shown
as its escape, the way :func:`repr` writes it."""

from __future__ import annotations


def printable(value: object) -> str:
    """``str(value)`` with each non-printable character written as its ``\\x..`` /
    ``\\u....`` escape (spaces are kept)."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)
