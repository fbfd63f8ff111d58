#!/usr/bin/env python3
"""Reference for `scripts/bench-fit`: Chinchilla approach 3 with scipy's L-BFGS-B.

The recipe of Besiroglu et al. 2024 (Epoch AI's data_analysis.ipynb): minimise the sum
over points of Huber_delta(log L - LSE(a - alpha log N, b - beta log D, e)), delta = 1e-3,
with L-BFGS-B from every start of Hoffmann's grid (4,500 starts), keeping the lowest
objective. Here scipy gets the analytic gradient (its fastest path; Epoch used finite
differences), and the starts are spread over one process per core, as ladder spreads
them over its threads.

Usage: scipy_ref.py POINTS.csv [--json OUT] [--processes P]
POINTS.csv: ../shared/reference/chinchilla_points_ND.csv (rows with epoch_excluded = 0).
"""

import argparse
import csv
import itertools
import json
import os
import time
from multiprocessing import Pool

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber, logsumexp

DELTA = 1e-3
LN_N = LN_D = LN_L = None


def load(path):
    with open(path) as f:
        rows = [r for r in csv.DictReader(f) if r["epoch_excluded"] == "0"]
    n = np.array([float(r["N_params"]) for r in rows])
    d = np.array([float(r["D_tokens"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    return np.log(n), np.log(d), np.log(loss)


def init(ln_n, ln_d, ln_l):
    global LN_N, LN_D, LN_L
    LN_N, LN_D, LN_L = ln_n, ln_d, ln_l


def objective(x):
    a, b, e, alpha, beta = x
    t = np.stack([a - alpha * LN_N, b - beta * LN_D, np.full_like(LN_N, e)])
    lse = logsumexp(t, axis=0)
    r = LN_L - lse
    w = np.exp(t - lse)
    h = -np.clip(r, -DELTA, DELTA)
    grad = np.array(
        [
            (h * w[0]).sum(),
            (h * w[1]).sum(),
            (h * w[2]).sum(),
            -(h * w[0] * LN_N).sum(),
            -(h * w[1] * LN_D).sum(),
        ]
    )
    return huber(DELTA, r).sum(), grad


def run(start):
    res = minimize(objective, np.array(start), jac=True, method="L-BFGS-B")
    return res.fun, list(res.x)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("points")
    p.add_argument("--json")
    p.add_argument("--processes", type=int, default=os.cpu_count())
    args = p.parse_args()
    ln_n, ln_d, ln_l = load(args.points)
    grid = list(
        itertools.product(
            np.arange(0, 30, 5),  # a = log A
            np.arange(0, 30, 5),  # b = log B
            np.arange(-1, 1.5, 0.5),  # e = log E
            np.arange(0, 2.5, 0.5),  # alpha
            np.arange(0, 2.5, 0.5),  # beta
        )
    )
    t0 = time.perf_counter()
    with Pool(args.processes, initializer=init, initargs=(ln_n, ln_d, ln_l)) as pool:
        results = pool.map(run, grid, chunksize=64)
    took = time.perf_counter() - t0
    best_f, best_x = min(results, key=lambda r: r[0])
    a, b, e, alpha, beta = best_x
    out = {
        "processes": args.processes,
        "starts": len(grid),
        "points": len(ln_l),
        "grid_s": took,
        "objective": best_f,
        "alpha": alpha,
        "beta": beta,
        "E": float(np.exp(e)),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
