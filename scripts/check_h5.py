#!/usr/bin/env python3
"""Read every dataset and attribute of a ladder sweep.h5 with h5py and check the schema.

Usage: check_h5.py SWEEP_H5 EXPECTED_RUNS [--monotone]

Exits non-zero on any gap: a missing or unreadable attribute or dataset, a text
attribute that h5py does not return as str, curves of unequal length, or a run
count other than expected. See results/README.md for the schema.

With --monotone it also checks the ladder's basic claim: the final validation loss
falls with N at the largest D, and with D at the largest N.
"""
import math
import sys

import h5py

TEXT = ["run_id", "sweep", "config", "status", "start_time", "end_time", "git_commit",
        "versions", "device", "data", "tokenizer", "precision", "schedule", "budget_convention", "positions", "kind"]
NUMBERS = ["N_total", "N_nonemb", "D", "C_6nd_total", "C_6nd_nonemb", "C_kaplan", "C_exact",
           "flops_per_token_kaplan", "flops_per_token_exact", "seed", "threads", "entropy_rate",
           "schema", "vocab", "context", "d_model", "n_layer", "n_head", "d_ff", "batch_size",
           "steps", "lr", "warmup_steps", "lr_floor", "beta1", "beta2", "weight_decay", "grad_clip",
           "eval_tokens", "tied_head", "decay_start_step", "C_budget"]
CURVES = ["step", "tokens", "flops", "train_loss", "val_loss", "lr", "wall_s"]


def check_run(name, g):
    for key in TEXT:
        value = g.attrs[key]
        assert isinstance(value, str), f"{name}: attribute {key} is {type(value)}, not str"
    for key in NUMBERS:
        float(g.attrs[key])
    assert g.attrs["status"] == "finished", f"{name}: status {g.attrs['status']}"
    assert g.attrs["run_id"] == name
    lengths = set()
    for key in CURVES:
        data = g[key][()]
        assert data.ndim == 1, f"{name}/{key} is not 1-D"
        assert all(math.isfinite(float(x)) for x in data), f"{name}/{key} has non-finite values"
        lengths.add(len(data))
    assert len(lengths) == 1 and lengths.pop() > 0, f"{name}: curves differ in length"
    assert int(g["tokens"][-1]) == int(g.attrs["D"]), f"{name}: last tokens != D"
    # every attribute, including any not listed above, must be readable
    for key in g.attrs:
        g.attrs[key]


def check_monotone(runs):
    final = {(int(g.attrs["N_total"]), int(g.attrs["D"])): float(g["val_loss"][-1]) for g in runs.values()}
    ns = sorted({n for n, _ in final})
    ds = sorted({d for _, d in final})
    along_n = [final[(n, ds[-1])] for n in ns]
    along_d = [final[(ns[-1], d)] for d in ds]
    for name, losses in (("N at the largest D", along_n), ("D at the largest N", along_d)):
        assert all(a > b for a, b in zip(losses, losses[1:])), f"loss does not fall with {name}: {losses}"
        print(f"loss falls with {name}: " + " > ".join(f"{x:.4f}" for x in losses))


def main():
    path, expected = sys.argv[1], int(sys.argv[2])
    monotone = "--monotone" in sys.argv[3:]
    with h5py.File(path, "r") as f:
        assert f.attrs["kind"] == "sweep", "not a sweep file"
        assert isinstance(f.attrs["config"], str)
        runs = f["runs"]
        assert len(runs) == expected == int(f.attrs["n_runs"]), f"{len(runs)} runs, expected {expected}"
        for name in runs:
            check_run(name, runs[name])
        if monotone:
            check_monotone(runs)
    print(f"h5py read {expected} runs from {path}: every attribute and dataset present")


if __name__ == "__main__":
    main()
