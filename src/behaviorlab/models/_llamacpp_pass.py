"""Many points of one text, read once, on the embedded llama.cpp backend
(:meth:`~behaviorlab.models._llamacpp.LlamaCppBackend.score_positions`).

The text's tokens are decoded from position 0 in ``block``-token batches aligned to position
0, as prompts are evaluated, so a position's batch is the one a prompt evaluation from scratch
would put it in, except for a prompt's last, partial batch. That difference is numerical: the
same token's logits from a batch of one token and from a batch of several differ in the last
bits, which reaches a few hundredths of a nat on an option's log-probability (measured in
docs/backends.md, "Many points of one text").
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from behaviorlab.models._base import BackendError


def read_once(
    c: Any, llm: Any, block: int, tokens: list[int], starts: list[int], conts: list[list[list[int]]]
) -> tuple[list[list[float]], int]:
    """Each continuation's summed log-probability after ``tokens[:start]``, reading ``tokens``
    once, and the number of tokens evaluated.

    One decode from position 0 in ``block``-token batches aligned to position 0 (as prompts
    are evaluated) asks for logits only where a scored token is predicted: the token before
    ``start`` gives each continuation's first token; a continuation that follows the text after
    its first token takes its other tokens' log-probabilities from the same pass. Only one that
    leaves the text (an option not taken) is decoded on a branch at ``start`` (its tokens but
    the last), counted as evaluated, and the branch is dropped before the pass goes on.
    """
    wanted: dict[int, set[int]] = {}
    branches: dict[int, list[tuple[int, ...]]] = {}
    for start, cands in zip(starts, conts, strict=True):
        for cand in cands:
            if not cand:
                continue
            wanted.setdefault(start - 1, set()).add(cand[0])
            if cand[:-1] == tokens[start : start + len(cand) - 1]:
                for j in range(1, len(cand)):
                    wanted.setdefault(start + j - 1, set()).add(cand[j])
            else:
                branches.setdefault(start, []).append(tuple(cand))
    clear(c, llm, 0)
    on_text: dict[tuple[int, int], float] = {}
    off_text: dict[tuple[int, tuple[int, ...]], float] = {}
    evaluated, cursor = 0, 0
    for stop in sorted({*branches, len(tokens)}):
        evaluated += _read(c, llm, block, tokens[cursor:stop], cursor, wanted, on_text)
        cursor = stop
        for branch in dict.fromkeys(branches.get(stop, [])):
            got: dict[tuple[int, int], float] = {}
            want = {stop + j - 1: {branch[j]} for j in range(1, len(branch))}
            lead = 1 if (len(branch) - 1) % block == 1 else 0  # no one-token batch
            ahead = [*tokens[stop - lead : stop], *branch[:-1]]
            evaluated += _read(c, llm, block, ahead, stop - lead, want, got)
            off_text[(stop, branch)] = sum(
                got[(stop + j - 1, branch[j])] for j in range(1, len(branch))
            )
            clear(c, llm, stop)
    sums = []
    for start, cands in zip(starts, conts, strict=True):
        row = []
        for cand in cands:
            if not cand:
                row.append(0.0)
                continue
            rest = off_text.get((start, tuple(cand)))
            if rest is None:
                rest = sum(on_text[(start + j - 1, cand[j])] for j in range(1, len(cand)))
            row.append(on_text[(start - 1, cand[0])] + rest)
        sums.append(row)
    return sums, evaluated


def _read(
    c: Any,
    llm: Any,
    block: int,
    tokens: list[int],
    n_past: int,
    wanted: dict[int, set[int]],
    out: dict[tuple[int, int], float],
) -> int:
    """Decode ``tokens`` at positions ``n_past..`` in batches aligned to multiples of
    ``block``; for each position ``p`` in ``wanted``, put the log-probability (after ``p``)
    of each token in ``wanted[p]`` into ``out[(p, token)]``. Returns ``len(tokens)``."""
    if not tokens:
        return 0
    batch = c.llama_batch_init(block, 0, 1)
    try:
        for pos, stop in batches(n_past, n_past + len(tokens), block):
            batch.n_tokens = stop - pos
            rows = []
            for i, p in enumerate(range(pos, stop)):
                batch.token[i] = tokens[p - n_past]
                batch.pos[i] = p
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                # the batch's last token always gives logits, as Llama.eval asks: in a short,
                # noisy check ten 64-token batches without any output took 4.1-5.8 s, with
                # one 2.1 s (the bench's one pass was slower than per-choice eval before)
                batch.logits[i] = p in wanted or p == stop - 1
                if p in wanted:
                    rows.append((i, p))
            status = c.llama_decode(llm.ctx, batch)
            if status != 0:
                raise BackendError(f"llama_decode failed with status {status}")
            for i, p in rows:
                logp = log_softmax(logits_row(c, llm, i))
                for token in wanted[p]:
                    out[(p, token)] = float(logp[token])
    finally:
        c.llama_batch_free(batch)
    return len(tokens)


def batches(start: int, end: int, block: int) -> list[tuple[int, int]]:
    """Positions ``start..end`` cut at multiples of ``block``, with no batch of a single
    token when there is more than one (a first or last batch of one takes a token from its
    neighbour): llama.cpp computes a one-token batch on another code path, whose logits
    differ from those of a batch of several, while batches of 2..``block`` tokens agree."""
    cuts = [start, *range((start // block + 1) * block, end, block), end]
    if len(cuts) > 2 and cuts[1] - cuts[0] == 1:
        cuts[1] += 1
    if len(cuts) > 2 and cuts[-1] - cuts[-2] == 1:
        cuts[-2] -= 1
    return [(a, b) for a, b in pairwise(cuts) if b > a]


def clear(c: Any, llm: Any, start: int) -> None:
    """Drop sequence 0's KV entries from position ``start`` on."""
    c.llama_memory_seq_rm(c.llama_get_memory(llm.ctx), 0, start, -1)


def logits_row(c: Any, llm: Any, i: int) -> npt.NDArray[np.float32]:
    """A copy of the logits of output ``i`` of the last decode."""
    ptr = c.llama_get_logits_ith(llm.ctx, i)
    if not ptr:
        raise BackendError(f"llama.cpp returned no logits for output {i}")
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).copy()


def log_softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    x = logits.astype(np.float64)
    x -= x.max(axis=-1, keepdims=True)
    out: npt.NDArray[np.float64] = x - np.log(np.exp(x).sum(axis=-1, keepdims=True))
    return out
