"""Which host a page URL names, as a browser would read it (the study's host allowlist).

Python's :func:`urllib.parse.urlsplit` and a browser (the WHATWG URL rules) disagree on some
URLs: in ``http://evil.example\\@127.0.0.1:8000/`` a browser turns the backslash into a
slash and goes to ``evil.example``, while ``urlsplit`` reads user ``evil.example\\`` at host
``127.0.0.1``. Rather than re-implement the WHATWG parser, what the two could read apart is
refused: a URL the extension sends is a browser's serialised ``location.href``, which never
holds a backslash, a control character or a space (they are percent-encoded), so refusing
them loses no real page. Credentials (``user@host``) are refused too, and a host must be
plain ASCII letters, digits, dots and hyphens (no percent-encoding, brackets or IDN text that
a browser would rewrite).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})")
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


class UnsafeUrl(ValueError):
    """A URL whose host a browser could read differently than the server."""


@dataclass(frozen=True)
class PageHost:
    scheme: str
    host: str
    port: int | None

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" if self.port is not None else self.host


def page_host(url: str) -> PageHost:
    """The scheme, host and port of an ``http(s)`` page URL; :class:`UnsafeUrl` saying why
    when a browser could read it as another host (or it is not an http(s) URL)."""
    bad = _UNSAFE.search(url)
    if bad is not None:
        what = "a backslash" if bad[0] == "\\" else f"the control character {bad[0]!r}"
        raise UnsafeUrl(f"the URL holds {what} (a browser reads such URLs differently)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:  # e.g. http://[bad/ or a port out of range
        raise UnsafeUrl(f"the URL does not parse: {err}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not url[len(scheme) + 1 :].startswith("//"):
        raise UnsafeUrl("only http:// and https:// page URLs are recorded")
    if "@" in parts.netloc:
        raise UnsafeUrl("the URL holds credentials (user@host); such pages are not recorded")
    host = parts.hostname or ""
    if not _HOST.fullmatch(host):
        raise UnsafeUrl(f"the host {host!r} is not plain letters, digits, dots and hyphens")
    return PageHost(scheme=scheme, host=host.lower(), port=port)
