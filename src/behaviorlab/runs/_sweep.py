"""Sensitivity sweeps: temperature, model, prompt wording and seed crossed in a factorial
design (a spec's ``sweep:`` block, docs/sensitivity.md).

The block names one simulator entry and the levels of each factor; every combination of
levels (a *cell*) becomes one simulator entry of the spec, labelled
``LABEL[model=...,prompt=...,temperature=...,seed=...]`` (the factors given, in that order),
so the stored rows' ``simulator`` column records each trial's factor levels and
``behaviorlab.analysis.sensitivity`` reads them back. What each factor sets on the entry:

- ``temperature``: the ``temperature`` option (the ``llm`` simulator samples at it with
  ``answer: sample``; its other answer modes do not sample, so a temperature sweep of them
  is refused);
- ``model``: the ``model`` option (a name), or, for a mapping ``{level: NAME, ...}``, the
  options given beside ``level`` (e.g. another ``backend:``);
- ``prompt``: the condition the cell answers under: ``default`` is ``full`` (the trial as the
  task made it), any other level a registered condition, e.g. the shared ``paraphrase``;
- ``seed``: the simulator's own ``seed`` option (the sampling seed), so every cell answers
  the *same* trials and seed-to-seed differences are the noise floor; the spec's ``seeds:``
  (which can change the trials themselves) stay as they are.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FACTORS = ("model", "prompt", "temperature", "seed")
"""The factors a sweep may cross, in the order a cell's label lists them."""
DEFAULT_PROMPT = "default"
"""The prompt level that keeps the task's own wording (condition ``full``)."""
_BAD_LEVEL = re.compile(r"[\[\],=\s]")
_SET_BY_FACTOR = {"temperature": "temperature", "seed": "seed", "model": "model"}


class LocatedError(ValueError):
    """A validation error that knows where below its model it sits (``loc``, e.g.
    ``("seed", 1)``); the spec reader adds it to pydantic's location to name the line."""

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc


def level_text(value: Any) -> str:
    """A level as its label writes it (``0.7``, ``3``, ``paraphrase``). A float is written
    short (``format(v, "g")``: ``0``, ``1``, as the labels of earlier sweeps, so their trial
    ids stay) when that reads back as the same number, else with every digit it needs
    (``repr``: ``0.1234567``), so two levels never share a label nor a label misstate one."""
    if isinstance(value, float):
        short = format(value, "g")
        return short if float(short) == value else repr(value)
    return str(value)


def cell_label(prefix: str, levels: dict[str, str]) -> str:
    """``prefix[factor=level,...]`` with the factors in :data:`FACTORS` order."""
    inner = ",".join(f"{f}={levels[f]}" for f in FACTORS if f in levels)
    return f"{prefix}[{inner}]"


class SweepFactors(BaseModel):
    """The levels of each factor swept (leave a factor out to keep it fixed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    model: list[str | dict[str, Any]] | None = Field(
        default=None,
        min_length=1,
        description="Model names (each sets the entry's model:), or mappings with level: "
        "NAME and the options that level sets (e.g. backend:, model:).",
    )
    prompt: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Conditions the cells answer under: default (the task's wording) or a "
        "registered condition such as paraphrase.",
    )
    temperature: list[float] | None = Field(
        default=None, min_length=1, description="Sampling temperatures."
    )
    seed: list[int] | None = Field(
        default=None,
        min_length=1,
        description="The simulator's sampling seeds: the noise floor the other factors are "
        "read against (give 2 or more).",
    )

    @field_validator("temperature")
    @classmethod
    def _finite(cls, v: list[float] | None) -> list[float] | None:
        for i, t in enumerate(v or []):
            if not math.isfinite(t) or t < 0:
                raise LocatedError(f"a temperature is a number >= 0, not {t}", (i,))
        return v

    @field_validator("model")
    @classmethod
    def _model_levels(
        cls, v: list[str | dict[str, Any]] | None
    ) -> list[str | dict[str, Any]] | None:
        for i, entry in enumerate(v or []):
            if isinstance(entry, dict):
                if not isinstance(entry.get("level"), str) or not entry["level"]:
                    raise LocatedError(
                        f"model level {i} is a mapping without level: NAME; name it, e.g. "
                        "{level: small, model: smollm2-135m}",
                        (i,),
                    )
                if len(entry) < 2:
                    raise LocatedError(
                        f"model level {entry['level']!r} sets no option; give model: or "
                        "backend: beside level:",
                        (i,),
                    )
                taken = sorted({"label", "conditions", "name"} & set(entry))
                if taken:
                    raise LocatedError(
                        f"model level {entry['level']!r}: label, conditions and name are set "
                        "by the sweep, not by a level",
                        (i, taken[0]),
                    )
        return v

    def levels(self) -> dict[str, list[str]]:
        """Each factor given and its levels as labels write them, in :data:`FACTORS` order."""
        out: dict[str, list[str]] = {}
        for f in FACTORS:
            values = getattr(self, f)
            if values is None:
                continue
            texts = [str(v["level"]) if isinstance(v, dict) else level_text(v) for v in values]
            out[f] = texts
        return out

    @model_validator(mode="after")
    def _distinct(self) -> SweepFactors:
        levels = self.levels()
        if not levels:
            raise ValueError(
                "no factor to sweep: give at least one of model, prompt, temperature, seed"
            )
        prompts = ["full" if t == DEFAULT_PROMPT else t for t in levels.get("prompt", [])]
        same = next((i for i, t in enumerate(prompts) if t in prompts[:i]), None)
        if (
            same is not None
            and prompts[same] == "full"
            and levels["prompt"][same] != levels["prompt"][prompts.index("full")]
        ):
            raise LocatedError(
                f"prompt levels {DEFAULT_PROMPT} and full both answer under condition full (the "
                "task's own wording): keep one",
                ("prompt", same),
            )
        for f, texts in levels.items():
            again = next((i for i, t in enumerate(texts) if t in texts[:i]), None)
            if again is not None:
                raise LocatedError(f"factor {f} lists the level {texts[again]!r} twice", (f, again))
            bad = next((i for i, t in enumerate(texts) if not t or _BAD_LEVEL.search(t)), None)
            if bad is not None:
                raise LocatedError(
                    f"factor {f}: level {texts[bad]!r} holds a space, comma, '=' or bracket; a "
                    "level names a cell in its label: give it a plain name (for a model, "
                    "{level: NAME, model: ...})",
                    (f, bad),
                )
        return self


class SweepSpec(BaseModel):
    """A factorial sweep over one simulator entry (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    simulator: dict[str, Any] = Field(
        description="The simulator entry every cell starts from (name: and its options)."
    )
    label: str = Field(default="sweep", description="The cells' labels start with this.")
    factors: SweepFactors

    @field_validator("label")
    @classmethod
    def _plain_label(cls, v: str) -> str:
        if not v or _BAD_LEVEL.search(v):
            raise ValueError("a sweep label is a plain name (no space, comma, '=' or bracket)")
        return v

    @model_validator(mode="after")
    def _entry(self) -> SweepSpec:
        sim = self.simulator
        if not isinstance(sim.get("name"), str) or not sim["name"]:
            raise LocatedError(
                "sweep.simulator needs name: (a registered simulator, e.g. llm)", ("simulator",)
            )
        taken = [k for k in ("label", "conditions") if k in sim]
        if taken:
            raise LocatedError(
                f"sweep.simulator sets {' and '.join(taken)}: the sweep names each cell and "
                "gives it its prompt level's condition; leave them out",
                ("simulator", taken[0]),
            )
        for factor, option in _SET_BY_FACTOR.items():
            if getattr(self.factors, factor) is not None and option in sim:
                raise LocatedError(
                    f"sweep.simulator sets {option}: and factor {factor} sweeps it; leave it "
                    "out of the entry",
                    ("simulator", option),
                )
        # a model level's mapping overrides the entry's options: check each level's own
        mapping: list[tuple[tuple[str | int, ...], dict[str, Any]]] = [
            (("factors", "model", i), entry)
            for i, entry in enumerate(self.factors.model or [])
            if isinstance(entry, dict)
        ]
        for where, entry in mapping:
            for factor, option in _SET_BY_FACTOR.items():
                if (
                    factor != "model"
                    and getattr(self.factors, factor) is not None
                    and option in entry
                ):
                    raise LocatedError(
                        f"model level {entry['level']!r} sets {option}: and factor {factor} "
                        "sweeps it; leave it out of the level",
                        (*where, option),
                    )
        # each cell's own entry: the entry, with a model level's mapping over it
        plain = not mapping or len(mapping) < len(self.factors.model or [])
        for where, entry in [*([((), {})] if plain else []), *mapping]:
            self._samples_check({**sim, **entry}, where, set(entry))
        return self

    def _samples_check(
        self, sim: dict[str, Any], level: tuple[str | int, ...], own: set[str]
    ) -> None:
        """A temperature or seed sweep needs an llm that samples, with seeds spaced by its
        ``n``; ``level``: where the model level's mapping is whose ``own`` options are in
        ``sim`` (empty for the entry itself)."""
        if sim["name"] != "llm":
            return
        mode = sim.get("answer", "score")
        whose = f"model level {sim['level']!r}" if "level" in own else "the llm simulator"
        for factor in ("temperature", "seed"):
            levels = getattr(self.factors, factor) or []
            if len(levels) > 1 and mode != "sample":
                loc = (*level, "answer") if "answer" in own else ("factors", factor)
                raise LocatedError(
                    f"factor {factor} has {len(levels)} levels but {whose} answers "
                    f"with answer: {mode}, which does not sample (the {factor} would change "
                    "nothing); set answer: sample in sweep.simulator",
                    loc,
                )
        seeds = sorted(self.factors.seed or [])
        n = sim.get("n", 10)
        if mode == "sample" and isinstance(n, int):
            close = [(a, b) for a, b in itertools.pairwise(seeds) if b - a < n]
            if close:
                a, b = close[0]
                spaced = ", ".join(str(seeds[0] + i * n) for i in range(len(seeds)))
                raise LocatedError(
                    f"factor seed: levels {a} and {b} are closer than n: {n} ({whose}); the llm "
                    f"simulator draws its {n} samples with seeds seed .. seed+{n - 1}, so these "
                    f"cells would share samples and the seed noise floor would come out too "
                    f"small; space the seeds by n, e.g. seed: [{spaced}]",
                    (*level, "n") if "n" in own else ("factors", "seed"),
                )

    def check_registered(self) -> None:
        """Check the sweep against the registries, where a mistake would otherwise surface
        only when the run is planned: each prompt level a registered condition, each model
        mapping's options ones the simulator takes (a ``LocatedError`` under ``sweep``)."""
        import inspect

        from behaviorlab.runs._conditions import conditions
        from behaviorlab.simulators._base import simulators

        for i, level in enumerate(self.factors.prompt or []):
            if level != DEFAULT_PROMPT and level not in conditions:
                raise LocatedError(
                    f"prompt level {level!r} is not a registered condition; known: "
                    f"{DEFAULT_PROMPT} (the task's wording), "
                    f"{', '.join(conditions.names())} (`behaviorlab conditions` lists them)",
                    ("factors", "prompt", i),
                )
        name = str(self.simulator["name"])
        if name not in simulators:
            return  # the plan names the unknown simulator and the registered ones
        try:
            params = inspect.signature(simulators.get(name)).parameters
        except (TypeError, ValueError):
            return
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return
        for i, entry in enumerate(self.factors.model or []):
            if not isinstance(entry, dict):
                continue
            for option in entry:
                if option != "level" and option not in params:
                    accepted = ", ".join(k for k in params if k not in ("cache", "label"))
                    raise LocatedError(
                        f"model level {entry['level']!r}: simulator {name!r} does not take "
                        f"option {option!r}; it accepts: {accepted}",
                        ("factors", "model", i, option),
                    )

    def cells(self) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """Every cell: its levels (factor -> level as labels write it) and its simulator
        entry (a dict for ``SimulatorSpec``), in the order of the factors' levels."""
        f = self.factors
        given = self.levels()
        raw: dict[str, list[Any]] = {k: list(getattr(f, k)) for k in given}
        out = []
        for combo in itertools.product(*(range(len(v)) for v in given.values())):
            levels = {k: given[k][i] for k, i in zip(given, combo, strict=True)}
            entry = dict(self.simulator)
            for k, i in zip(given, combo, strict=True):
                value = raw[k][i]
                if k == "model":
                    if isinstance(value, dict):
                        entry.update({o: x for o, x in value.items() if o != "level"})
                    else:
                        entry["model"] = value
                elif k == "prompt":
                    entry["conditions"] = ["full" if value == DEFAULT_PROMPT else value]
                else:
                    entry[k] = value
            entry["label"] = cell_label(self.label, levels)
            out.append((levels, entry))
        return out

    def levels(self) -> dict[str, list[str]]:
        """Each factor swept and its levels (see :meth:`SweepFactors.levels`)."""
        return self.factors.levels()

    def describe(self, trials_per_cell: int | None = None) -> str:
        """``2 model × 2 prompt × 3 seed = 12 cells`` (× trials, when given)."""
        levels = self.levels()
        parts = " × ".join(f"{len(v)} {k}" for k, v in levels.items())
        n = math.prod(len(v) for v in levels.values())
        text = f"{parts} = {n} cell{'s' if n != 1 else ''}"
        if trials_per_cell is not None:
            text += f" × {trials_per_cell} trials = {n * trials_per_cell} trials"
        return text
