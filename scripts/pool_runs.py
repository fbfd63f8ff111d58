#!/usr/bin/env python3
"""Pool the runs of several labs (draws of one design on different seeds) into one CSV.

`ladder fit A/sweep.h5 B/sweep.h5 ...` fits the sweep files together directly, with the
same result; this script is for the CSVs (to share, or to fit with other tools).

    python3 scripts/pool_runs.py OUT.csv results/lab-cpu-d2-wide results/lab-cpu-d2-confirm \
        results/lab-cpu-d2-third
    target/release/ladder fit OUT.csv --column N=N_total --column loss=final_val_loss \
        --column C=C_budget --column run=run_id --bootstrap-method wild-families \
        --extrapolate-k 8 --json pooled.json

Each lab's report/runs.csv is appended as it is. The `seed` column keeps the runs of one
model and seed together as a family (what `wild-families` resamples), so two labs that
trained the same seed would merge two independent families into one: that is refused.
Run ids repeat across draws of one design; `lab` is added so that each row stays
traceable. Standard library only.
"""

import csv
import sys
from pathlib import Path


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out, labs = Path(sys.argv[1]), [Path(a) for a in sys.argv[2:]]
    if len({lab.resolve() for lab in labs}) < len(labs):
        print("a lab is given twice: each draw counts once", file=sys.stderr)
        return 2
    header, rows, seeds = None, [], {}
    for lab in labs:
        path = lab / "report" / "runs.csv"
        if not path.is_file():
            print(f"{path}: no runs.csv; run `ladder report {lab}` first", file=sys.stderr)
            return 2
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            if header is None:
                header = list(reader.fieldnames or [])
            elif list(reader.fieldnames or []) != header:
                print(f"{path}: its columns differ from {labs[0]}'s: pool runs of one ladder "
                      "version", file=sys.stderr)
                return 2
            for row in reader:
                other = seeds.setdefault(row["seed"], lab)
                if other != lab:
                    print(f"{path}: seed {row['seed']} was also trained in {other}: its runs "
                          "would join that lab's families; pool draws on distinct seeds",
                          file=sys.stderr)
                    return 2
                rows.append({**row, "lab": lab.name})
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header + ["lab"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{out}: {len(rows)} runs from {len(labs)} labs, {len(seeds)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
