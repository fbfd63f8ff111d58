"""What the probe scripts (shape_probe.py, warmup_pair.py) read from a sweep directory:
its finished runs from report/runs.csv (written by `ladder report DIR`) and the log
residual of a run against the directory's committed law (approach 3, total parameters,
from fit.json). Standard library only; imported, not run.
"""
import csv
import json
import math
import sys
from pathlib import Path


def finished_runs(sweep_dir):
    """The finished rows of DIR/report/runs.csv, by run id; exits naming the file if absent."""
    path = Path(sweep_dir) / "report" / "runs.csv"
    if not path.exists():
        sys.exit(f"{path}: missing; run `ladder report {sweep_dir}` first")
    with open(path, newline="") as f:
        return {r["run_id"]: r for r in csv.DictReader(f) if r["status"] == "finished"}


def residual_of(lab_dir):
    """A function giving a runs.csv row's log residual, ln(loss / law), against the
    approach-3 law in LAB_DIR/fit.json."""
    law = json.loads((Path(lab_dir) / "fit.json").read_text())["approach3"]

    def residual(run):
        n, d = float(run["N_total"]), float(run["D"])
        predicted = law["E"] + law["A"] / n ** law["alpha"] + law["B"] / d ** law["beta"]
        return math.log(float(run["final_val_loss"]) / predicted)

    return residual
