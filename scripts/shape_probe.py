#!/usr/bin/env python3
"""The depth probe of docs/LOG.md (thirty-sixth session): deeper models trained at the
tokens of lab-cpu's widest depth-2 models, their log residuals read against lab-cpu's
committed law (approach 3, total parameters), paired by seed with the depth-2 runs.

The same for d96-l2 trained past its lab runs, to 40 bytes per parameter.

For each pair and seed, g = (mean log residual of the depth-2 model's runs) − (the deep
model's, same seed and tokens): how much nearer the law the deep model sits. Prints g
per seed, its mean with a one-sample t and 90% interval over all pairs' seeds, and the
runs per token count. Standard library only.

Reads each directory's report/runs.csv: run `ladder report results/shape-lab-cpu-NAME`
first (report/ is not committed; sweep.h5 is).

Usage: shape_probe.py [LAB_DIR]   (default results/lab-cpu, from the repository root)
"""
import math
import statistics as st
import sys
from pathlib import Path

from lab_runs import finished_runs, residual_of

# (deep model, depth-2 counterpart in the lab, the deep model's sweep directory)
PAIRS = [
    ("d96-l4", "d128-l2", "results/shape-lab-cpu-d96-l4"),
    ("d80-l3", "d96-l2", "results/shape-lab-cpu-d80-l3"),
]
# Two-sided 90% quantile of Student's t by degrees of freedom.
T90 = {1: 6.314, 2: 2.920, 3: 2.353, 4: 2.132, 5: 2.015, 6: 1.943, 7: 1.895, 8: 1.860}


def main():
    lab_dir = sys.argv[1] if len(sys.argv) > 1 else "results/lab-cpu"
    residual = residual_of(lab_dir)
    lab = list(finished_runs(lab_dir).values())
    gains = []
    for deep, shallow, sweep_dir in PAIRS:
        deep_runs = list(finished_runs(sweep_dir).values())
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
    print_gains(gains)
    tokens_probe(lab, residual)
    warmup_probe(lab, residual)


def print_gains(gains):
    dof = len(gains) - 1
    mean, sd = st.mean(gains), st.stdev(gains)
    se = sd / math.sqrt(len(gains))
    print(f"g over {len(gains)} seeds: mean {100 * mean:+.2f} points, SD {100 * sd:.2f}, t {mean / se:.2f} on {dof} dof, "
          f"90% interval [{100 * (mean - T90[dof] * se):+.2f}, {100 * (mean + T90[dof] * se):+.2f}]")


def tokens_probe(lab, residual):
    """d96-l2 trained past its lab runs (results/shape-lab-cpu-d96-tokens): its runs
    beside the lab's at each token count, with their mean log residual."""
    sweep_dir = "results/shape-lab-cpu-d96-tokens"
    if not (Path(sweep_dir) / "report" / "runs.csv").exists():
        print(f"{sweep_dir}: no report/runs.csv (run `ladder report {sweep_dir}`), skipped")
        return
    runs = list(finished_runs(sweep_dir).values())
    lab_runs = [r for r in lab if r["run_id"].startswith("d96-l2-")]
    print(f"d96-l2 by tokens (log residuals against the lab's law)")
    for t in sorted({r["D"] for r in runs + lab_runs}, key=float):
        d_per_n = float(t) / float((runs + lab_runs)[0]["N_total"])
        for label, rs in (("lab-cpu", lab_runs), ("probe", runs)):
            at = [r for r in rs if r["D"] == t]
            if at:
                losses = " ".join(f"{float(r['final_val_loss']):.4f}" for r in at)
                print(f"  D {int(float(t)):>9} (D/N {d_per_n:5.1f}) {label:>7}: {losses}  mean residual {100 * st.mean(map(residual, at)):+.2f}%")


# (model in the lab, its warmup probe's directory; None: the tokens probe's branches)
WARMUP = [
    ("d128-l2", "results/shape-lab-cpu-d128-warmup"),
    ("d96-l2", "results/shape-lab-cpu-d96-warmup"),
    ("d96-l2", "results/shape-lab-cpu-d96-tokens"),
    ("d64-l2", "results/shape-lab-cpu-d64-warmup"),
]


def warmup_probe(lab, residual):
    """Runs with twice the lab's warmup for their model, paired with the lab's runs of the
    same model, tokens and seed: h = ln(L_lab) - ln(L_probe) per run, and the mean of the
    wide models' (d96, d128) against the control's (d64)."""
    h = {"wide": [], "control": []}
    print("twice the warmup: h = ln(L_lab) - ln(L_probe), same model, tokens and seed")
    for model, sweep_dir in WARMUP:
        if not (Path(sweep_dir) / "report" / "runs.csv").exists():
            print(f"  {sweep_dir}: no report/runs.csv (run `ladder report {sweep_dir}`), skipped")
            continue
        lab_runs = {(r["D"], r["seed"]): r for r in lab if r["run_id"].startswith(model + "-")}
        for r in finished_runs(sweep_dir).values():
            twin = lab_runs.get((r["D"], r["seed"]))
            if twin is None:
                continue
            gain = math.log(float(twin["final_val_loss"]) / float(r["final_val_loss"]))
            h["control" if model == "d64-l2" else "wide"].append(gain)
            print(f"  {model} D {int(float(r['D'])):>9} seed {r['seed']}: warmup {twin['warmup_steps']:>4} -> {r['warmup_steps']:>4} steps, "
                  f"loss {float(twin['final_val_loss']):.4f} -> {float(r['final_val_loss']):.4f}, h {100 * gain:+.2f} points "
                  f"(residual {100 * residual(twin):+.2f}% -> {100 * residual(r):+.2f}%)")
    for group, values in h.items():
        if len(values) > 1:
            se = st.stdev(values) / math.sqrt(len(values))
            print(f"  h {group}: mean {100 * st.mean(values):+.2f} points over {len(values)} runs, SE {100 * se:.2f}")
    if len(h["wide"]) > 1 and len(h["control"]) > 1:
        diff = st.mean(h["wide"]) - st.mean(h["control"])
        se = math.sqrt(st.variance(h["wide"]) / len(h["wide"]) + st.variance(h["control"]) / len(h["control"]))
        print(f"  h wide - h control: {100 * diff:+.2f} points, SE {100 * se:.2f}")


if __name__ == "__main__":
    main()
