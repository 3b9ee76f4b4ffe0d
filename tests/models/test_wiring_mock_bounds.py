"""The mock backend's structured answers respect a number's minimum and maximum; schemas
without bounds draw as before (the pinned demo rows rest on them)."""

from __future__ import annotations

import pytest

from behaviorlab.models._mock import _fill, _unit


@pytest.mark.parametrize(
    ("schema", "lo", "hi"),
    [
        ({"type": "number", "minimum": 20, "maximum": 30}, 20, 30),
        ({"type": "integer", "minimum": 1, "maximum": 7}, 1, 7),
        ({"type": "integer", "minimum": 100}, 100, 110),
        ({"type": "number", "maximum": -5}, -6, -5),
    ],
)
def test_bounded_numbers_stay_in_their_bounds(schema: dict[str, object], lo: int, hi: int) -> None:
    values = [_fill(schema, ("k", i)) for i in range(200)]
    assert all(lo <= v <= hi for v in values)
    assert len(set(values)) > 1  # not pinned to one end
    if schema["type"] == "integer":
        assert all(isinstance(v, int) for v in values)
        assert set(values) == set(range(lo, hi + 1))


def test_unbounded_numbers_draw_as_before() -> None:
    key = ("m", "prompt")
    assert _fill({"type": "number"}, key) == _unit("num", *key)
    assert _fill({"type": "integer"}, key) == int(_unit("int", *key) * 10)
    nested = {"type": "object", "properties": {"x": {"type": "number", "minimum": 5, "maximum": 6}}}
    assert 5 <= _fill(nested, key)["x"] <= 6


def test_an_empty_integer_range_is_refused() -> None:
    with pytest.raises(ValueError, match="no integer in"):
        _fill({"type": "integer", "minimum": 1.2, "maximum": 1.8}, ("k",))
