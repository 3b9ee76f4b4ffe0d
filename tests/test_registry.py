from __future__ import annotations

import pytest

from behaviorlab._registry import Registry, UnknownComponentError, call_with_options


def test_register_get_and_list() -> None:
    reg: Registry[object] = Registry("widget")

    @reg.register("alpha")
    def alpha() -> int:
        """Makes alphas."""
        return 1

    assert reg.get("alpha") is alpha
    assert reg.names() == ["alpha"]
    assert reg.entries()[0].description == "Makes alphas."
    assert "alpha" in reg


def test_duplicate_registration_is_an_error_unless_replaced() -> None:
    reg: Registry[object] = Registry("widget")
    reg.register("a")(object())
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a")(object())
    marker = object()
    reg.register("a", replace=True)(marker)
    assert reg.get("a") is marker


def test_unknown_name_lists_valid_ones_and_suggests() -> None:
    reg: Registry[object] = Registry("simulator")
    for name in ("majority", "knn_persona", "llm"):
        reg.register(name)(object())
    with pytest.raises(UnknownComponentError) as info:
        reg.get("majorty")
    msg = str(info.value)
    assert "unknown simulator 'majorty'" in msg
    assert "Did you mean 'majority'" in msg
    assert "knn_persona, llm, majority" in msg


def test_bad_option_names_component_and_accepted_options() -> None:
    def factory(k: int = 1, alpha: float = 0.0) -> tuple[int, float]:
        return k, alpha

    assert call_with_options("simulator", "knn", factory, k=3) == (3, 0.0)
    with pytest.raises(
        ValueError, match=r"'knn' does not take option\(s\) 'kk'.*accepts: k, alpha"
    ):
        call_with_options("simulator", "knn", factory, kk=3)


def test_listing_shows_the_whole_first_paragraph_of_a_wrapped_docstring() -> None:
    from behaviorlab._registry import Registry

    reg: Registry[object] = Registry("thing")

    @reg.register("wrapped")
    class Wrapped:
        """A summary that is long enough to be
        wrapped over two lines.

        Details that are not part of the listing."""

    (entry,) = reg.entries()
    assert entry.description == "A summary that is long enough to be wrapped over two lines."
