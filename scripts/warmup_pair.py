#!/usr/bin/env python3
"""Two labs that trained the same runs (same ids: model, tokens, seed, data order) under
different recipes, read side by side: docs/LOG.md, thirty-seventh session, where
results/lab-cpu-warmup-k1 retrains results/lab-cpu's 135 runs with a warmup of N tokens
per model instead of 20% of each model's shortest run.

Per model: each lab's warmup, the mean log residual of its runs against its own lab's
law (approach 3, total parameters, from fit.json), and the paired difference in log loss
(B − A) averaged over the model's runs per seed, with its mean and standard error over
seeds. Standard library only.

Reads each directory's report/runs.csv (run `ladder report DIR` first) and fit.json.

Usage: warmup_pair.py LAB_A LAB_B   (e.g. results/lab-cpu results/lab-cpu-warmup-k1)
"""
import math
import statistics as st
import sys
from collections import defaultdict

from lab_runs import finished_runs, residual_of


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a_dir, b_dir = sys.argv[1:]
    a, b = finished_runs(a_dir), finished_runs(b_dir)
    res_a, res_b = residual_of(a_dir), residual_of(b_dir)
    shared = sorted(set(a) & set(b))
    if len(shared) < len(b):
        print(f"{len(b) - len(shared)} runs of {b_dir} have no pair in {a_dir}")
    by_model = defaultdict(list)
    for run_id in shared:
        by_model[int(a[run_id]["d_model"])].append(run_id)
    print(f"A = {a_dir}, B = {b_dir}; residuals in % of loss against each lab's own law")
    print(" model  runs  warmup A  warmup B   resid A   resid B   B − A (log loss, %)")
    diffs_by_seed_all = defaultdict(list)
    for d_model in sorted(by_model):
        ids = by_model[d_model]
        by_seed = defaultdict(list)
        for run_id in ids:
            diff = math.log(float(b[run_id]["final_val_loss"]) / float(a[run_id]["final_val_loss"]))
            by_seed[a[run_id]["seed"]].append(diff)
        seed_means = [100 * st.mean(v) for v in by_seed.values()]
        for seed, v in by_seed.items():
            diffs_by_seed_all[seed].extend(v)
        mean = st.mean(seed_means)
        se = st.stdev(seed_means) / math.sqrt(len(seed_means)) if len(seed_means) > 1 else float("nan")
        first = ids[0]
        print(
            f"{'d' + str(d_model):>6} {len(ids):>5} {a[first]['warmup_steps']:>9} "
            f"{b[first]['warmup_steps']:>9} "
            f"{100 * st.mean(map(res_a, (a[i] for i in ids))):>+8.2f}% "
            f"{100 * st.mean(map(res_b, (b[i] for i in ids))):>+8.2f}%   "
            f"{mean:+.2f} (SE {se:.2f}, by seed {', '.join(f'{m:+.2f}' for m in seed_means)})"
        )
    overall = [100 * st.mean(v) for v in diffs_by_seed_all.values()]
    print(
        f"all runs: B − A {st.mean(overall):+.2f}% of loss "
        f"(by seed {', '.join(f'{m:+.2f}' for m in overall)})"
    )


if __name__ == "__main__":
    main()
