"""Which interval covers the sustained within-person effect? (issue 23 section 3, a study)

The series of ``within_person_coverage.py`` (truth: APTE 1, sustained 3); the g-formula is
closed-form for its linear model ((tau + gamma) / (1 - rho) for the sustained effect, equal to
the package's simulation to 1e-12), so interval methods can be compared fast:

- pairs-pct: the package's moving-block bootstrap of rows (length 2), percentile;
- rec-pct / rec-basic: a recursive bootstrap: series regenerated from the fitted outcome
  model (residuals resampled) and a fitted logistic treatment model A_t ~ A_{t-1} + Y_{t-1};
- kilian-pct / kilian-basic: Kilian's (1998) bootstrap-after-bootstrap: the recursive
  bootstrap's mean shift of the coefficients is their bias; the model is corrected, a second
  recursive bootstrap runs from the corrected model, each replicate corrected by the same bias.

    .venv/bin/python bench/within_person_intervals.py 1000 200 300 7   # sims B periods seed
"""

import sys

import numpy as np
import statsmodels.api as sm
from within_person_coverage import series

sims = int(sys.argv[1])
B = int(sys.argv[2])
n = int(sys.argv[3])
seed = int(sys.argv[4])
rng = np.random.default_rng(seed)


def ols(y, x):
    b, *_ = np.linalg.lstsq(x, y, rcond=None)
    return b


def design(a, y):
    return np.column_stack([np.ones(len(y) - 1), a[1:], a[:-1], y[:-1]]), y[1:]


def sus(b):
    return (b[1] + b[2]) / (1 - b[3])


def gen(b, g, res, a0, y0, reps):
    A = np.zeros((reps, n))
    Y = np.zeros((reps, n))
    A[:, 0] = a0
    Y[:, 0] = y0
    for t in range(1, n):
        eta = g[0] + g[1] * A[:, t - 1] + g[2] * Y[:, t - 1]
        A[:, t] = rng.random(reps) < 1 / (1 + np.exp(-eta))
        Y[:, t] = (
            b[0] + b[1] * A[:, t] + b[2] * A[:, t - 1] + b[3] * Y[:, t - 1] + rng.choice(res, reps)
        )
    return A, Y


def boot_est(b, g, res, a, y, reps):
    A, Y = gen(b, g, res, a[0], y[0], reps)
    out = []
    for r in range(reps):
        X, yy = design(A[r], Y[r])
        out.append(ols(yy, X))
    return np.array(out)


truth = np.array([1.0, 3.0])
names = ["pairs-pct", "rec-pct", "rec-basic", "kilian-pct", "kilian-basic"]
cov = {k: np.zeros(2) for k in names}
est = []
estk = []
for _s in range(sims):
    df = series(n, rng)
    a = df.a.to_numpy()
    y = df.y.to_numpy()
    X, Y = design(a, y)
    m = len(Y)
    b = ols(Y, X)
    res = Y - X @ b
    res = res - res.mean()
    th = np.array([b[1], sus(b)])
    est.append(th)
    Xa = np.column_stack([np.ones(m), a[:-1], y[:-1]])
    g = sm.GLM(a[1:], Xa, family=sm.families.Binomial()).fit().params
    # pairs
    pb = []
    for _ in range(B):
        st = rng.integers(0, m - 1, size=(m + 1) // 2)
        take = (st[:, None] + np.arange(2)).ravel()[:m]
        bb = ols(Y[take], X[take])
        pb.append([bb[1], sus(bb)])
    lo, hi = np.quantile(np.array(pb), [0.025, 0.975], axis=0)
    cov["pairs-pct"] += (lo <= truth) & (truth <= hi)
    # recursive
    rb = boot_est(b, g, res, a, y, B)
    rt = np.column_stack([rb[:, 1], (rb[:, 1] + rb[:, 2]) / (1 - rb[:, 3])])
    lo, hi = np.quantile(rt, [0.025, 0.975], axis=0)
    cov["rec-pct"] += (lo <= truth) & (truth <= hi)
    cov["rec-basic"] += (2 * th - hi <= truth) & (truth <= 2 * th - lo)
    # kilian: bias from rb, correct b, second stage from corrected model, correct each replicate
    bias = rb.mean(axis=0) - b
    bc = b - bias
    if abs(bc[3]) >= 1:
        bc = b
    thk = np.array([bc[1], sus(bc)])
    estk.append(thk)
    rb2 = boot_est(bc, g, res, a, y, B) - bias
    rb2 = rb2[np.abs(rb2[:, 3]) < 1]
    rt2 = np.column_stack([rb2[:, 1], (rb2[:, 1] + rb2[:, 2]) / (1 - rb2[:, 3])])
    lo, hi = np.quantile(rt2, [0.025, 0.975], axis=0)
    cov["kilian-pct"] += (lo <= truth) & (truth <= hi)
    cov["kilian-basic"] += (2 * thk - hi <= truth) & (truth <= 2 * thk - lo)
est = np.array(est)
estk = np.array(estk)
bias = est.mean(axis=0) - [1, 3]
bias_k = estk.mean(axis=0) - [1, 3]
print(f"sims {sims} B {B} n {n} seed {seed}")
print(f"bias apte {bias[0]:+.3f} sustained {bias[1]:+.3f}")
print(f"kilian-corrected bias apte {bias_k[0]:+.3f} sustained {bias_k[1]:+.3f}")
for k, v in cov.items():
    print(k, "apte {:.3f} sustained {:.3f}".format(*tuple(v / sims)))
