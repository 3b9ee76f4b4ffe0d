"""Coverage of the within-person effect intervals (issue 23 §3) on simulated series with a
known effect, carry-over and confounding: the treatment follows the last outcome, acts now
(tau = 1) and one period later (0.5), the outcome is an AR(1) (rho = 0.5), so the average
period treatment effect is 1 and always-against-never is (1 + 0.5) / (1 - 0.5) = 3.

    .venv/bin/python bench/within_person_coverage.py --sims 1000 --periods 300

Prints, per estimand, the mean estimate, its bias and the share of 95% intervals that hold
the truth (the naive difference in means is shown for its bias), and ends with the line
``coverage apte: <share> sustained: <share>``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from behaviorlab.analysis import within_person_effect

TRUTH = {"apte": 1.0, "sustained": 3.0, "naive": 1.0}


def series(n: int, rng: np.random.Generator) -> pd.DataFrame:
    a, y = np.zeros(n), np.zeros(n)
    y_prev = a_prev = 0.0
    for t in range(n):
        a[t] = rng.random() < 1 / (1 + np.exp(-1.5 * (y_prev - 1.0)))
        y[t] = 1.0 * a[t] + 0.5 * a_prev + 0.5 * y_prev + rng.normal()
        y_prev, a_prev = y[t], a[t]
    return pd.DataFrame({"a": a, "y": y})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sims", type=int, default=1000)
    ap.add_argument("--periods", type=int, default=300)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--block-length", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    rows = []
    started = time.perf_counter()
    for s in range(args.sims):
        res = within_person_effect(
            series(args.periods, rng),
            treatment="a",
            outcome="y",
            n_boot=args.boot,
            block_length=args.block_length,
            seed=s,
        )
        rows.append(res.table.assign(sim=s))
    table = pd.concat(rows)
    truth = table["estimand"].map(TRUTH)
    table["covered"] = (table["low"] <= truth) & (truth <= table["high"])
    print(
        f"{args.sims} series of {args.periods} periods, {args.boot} block-bootstrap replicates "
        f"each, block length {res.block_length['None']}, {time.perf_counter() - started:.0f} s"
    )
    print(f"{'estimand':<10} {'truth':>6} {'mean':>7} {'bias':>7} {'coverage':>9}")
    cover: dict[str, float] = {}
    for name, g in table.groupby("estimand", sort=False):
        mean = float(g["value"].mean())
        cover[str(name)] = float(g["covered"].mean())
        print(
            f"{name:<10} {TRUTH[str(name)]:>6.2f} {mean:>7.3f} {mean - TRUTH[str(name)]:>+7.3f} "
            f"{cover[str(name)]:>9.3f}"
        )
    print(f"coverage apte: {cover['apte']:.3f} sustained: {cover['sustained']:.3f}")


if __name__ == "__main__":
    main()
