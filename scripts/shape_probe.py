#!/usr/bin/env python3
"""The depth probe of docs/LOG.md (thirty-sixth session): deeper models trained at the
tokens of lab-cpu's widest depth-2 models, their log residuals read against lab-cpu's
committed law (approach 3, total parameters), paired by seed with the depth-2 runs.

For each pair and seed, g = (mean log residual of the depth-2 model's runs) − (the deep
model's, same seed and tokens): how much nearer the law the deep model sits. Prints g
per seed, its mean with a one-sample t and 90% interval over all pairs' seeds, and the
runs per token count. Standard library only.

Reads each directory's report/runs.csv: run `ladder report results/shape-lab-cpu-NAME`
first (report/ is not committed; sweep.h5 is).

Usage: shape_probe.py [LAB_DIR]   (default results/lab-cpu, from the repository root)
"""
import csv
import json
import math
import statistics as st
import sys
from pathlib import Path

# (deep model, depth-2 counterpart in the lab, the deep model's sweep directory)
PAIRS = [
    ("d96-l4", "d128-l2", "results/shape-lab-cpu-d96-l4"),
    ("d80-l3", "d96-l2", "results/shape-lab-cpu-d80-l3"),
]
# Two-sided 90% quantile of Student's t by degrees of freedom.
T90 = {1: 6.314, 2: 2.920, 3: 2.353, 4: 2.132, 5: 2.015, 6: 1.943, 7: 1.895, 8: 1.860}


def finished_runs(sweep_dir):
    path = Path(sweep_dir) / "report" / "runs.csv"
    if not path.exists():
        sys.exit(f"{path}: missing; run `ladder report {sweep_dir}` first")
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["status"] == "finished"]


def main():
    lab_dir = sys.argv[1] if len(sys.argv) > 1 else "results/lab-cpu"
    law = json.loads((Path(lab_dir) / "fit.json").read_text())["approach3"]

    def residual(run):
        n, d = float(run["N_total"]), float(run["D"])
        predicted = law["E"] + law["A"] / n ** law["alpha"] + law["B"] / d ** law["beta"]
        return math.log(float(run["final_val_loss"]) / predicted)

    lab = finished_runs(lab_dir)
    gains = []
    for deep, shallow, sweep_dir in PAIRS:
        deep_runs = finished_runs(sweep_dir)
        tokens = sorted({r["D"] for r in deep_runs}, key=float)
        shallow_runs = [
            r for r in lab if r["run_id"].startswith(shallow + "-") and r["D"] in tokens
        ]
        print(f"{deep} against {shallow} (log residuals against {lab_dir}'s law)")
        for seed in sorted({r["seed"] for r in deep_runs}):
            d = [residual(r) for r in deep_runs if r["seed"] == seed]
            s = [residual(r) for r in shallow_runs if r["seed"] == seed]
            if len(d) != len(tokens) or len(s) != len(tokens):
                sys.exit(f"seed {seed}: {len(d)} deep and {len(s)} depth-2 runs, not {len(tokens)} each")
            g = st.mean(s) - st.mean(d)
            gains.append(g)
            print(f"  seed {seed}: depth-2 {100 * st.mean(s):+.2f}%  deep {100 * st.mean(d):+.2f}%  g {100 * g:+.2f} points")
        for t in tokens:
            for label, runs in ((deep, deep_runs), (shallow, shallow_runs)):
                at = [r for r in runs if r["D"] == t]
                losses = " ".join(f"{float(r['final_val_loss']):.4f}" for r in at)
                print(f"  D {int(float(t)):>9} {label:>8}: {losses}  mean residual {100 * st.mean(map(residual, at)):+.2f}%")
    dof = len(gains) - 1
    mean, sd = st.mean(gains), st.stdev(gains)
    se = sd / math.sqrt(len(gains))
    print(f"g over {len(gains)} seeds: mean {100 * mean:+.2f} points, SD {100 * sd:.2f}, t {mean / se:.2f} on {dof} dof, "
          f"90% interval [{100 * (mean - T90[dof] * se):+.2f}, {100 * (mean + T90[dof] * se):+.2f}]")


if __name__ == "__main__":
    main()
