#!/usr/bin/env python3
"""Writes runs.csv from a sweep.h5: one row per run with its shape, counts, schedule and
final losses (pandas users need nothing else).

Usage: runs_csv.py SWEEP_H5 OUT_CSV
"""
import csv
import sys

import h5py

COLUMNS = ["run_id", "d_model", "n_layer", "n_head", "N_total", "N_nonemb", "D", "C_6nd_total",
           "C_6nd_nonemb", "C_exact", "C_budget", "lr", "schedule", "tokenizer", "vocab",
           "status", "steps"]


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    with h5py.File(src, "r") as f, open(dst, "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(COLUMNS + ["final_val_loss", "final_train_loss", "wall_s"])
        for name in sorted(f["runs"]):
            g = f["runs"][name]
            row = [g.attrs[c] for c in COLUMNS]
            row += [float(g["val_loss"][-1]), float(g["train_loss"][-1]), float(g["wall_s"][-1])]
            w.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
