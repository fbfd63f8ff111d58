#!/usr/bin/env python3
"""Writes results/<lab>/README.md from the lab's own outputs, so that no number in it is
typed by hand: fit.json (N = total parameters, extrapolation from budgets <= C_max/8),
fit-nonemb.json (N = non-embedding parameters) and report/runs.csv (runs, wall time; written
by `ladder report`), and, when DIR/seeds/<name>/ hold the fits of the same config trained
with other seeds, a table of the seed spread. Standard library only.

Usage: lab_readme.py DIR CONFIG
"""
import json
import sys
from datetime import datetime
from pathlib import Path

import csv

PUBLISHED = "Hoffmann et al. 2022: ~20; Porian et al. 2024: 12-18; nanochat: ~10 (matrices + head)"


def fmt(x, digits=3):
    return f"{x:.{digits}g}"


def interval(ci):
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def wall_time(rows):
    starts, ends = [], []
    for r in rows:
        starts.append(datetime.fromisoformat(r["start_time"].replace("Z", "+00:00")))
        ends.append(datetime.fromisoformat(r["end_time"].replace("Z", "+00:00")))
    return (max(ends) - min(starts)).total_seconds()


def profiles(fit):
    a2 = fit.get("approach2")
    if not a2:
        return [], fit.get("approach2_skipped", "not run")
    rows = []
    for p in a2["profiles"]:
        convex = p["coeffs_log_n"][2] > 0
        inside = p["n_opt"] is not None and p["n_range"][0] < p["n_opt"] < p["n_range"][1]
        u = convex and inside and not p["warnings"]
        rows.append((p, u))
    return rows, None


def overlap(a, b):
    return a[0] <= b[1] and b[0] <= a[1]


def seed_quantities(fit):
    """The numbers compared across seeds: name, value, 80% interval (or None)."""
    a3 = fit["approach3"]
    top = fit["tokens_per_param"][-1]
    rows = []
    a2 = fit.get("approach2")
    if a2:
        for p in a2["profiles"]:
            if p["n_opt"] is not None and p["d_opt"] is not None:
                rows.append((f"IsoFLOP D_opt/N_opt at C = {fmt(p['C'])}", p["d_opt"] / p["n_opt"], None))
        rows.append(("approach 2: a", a2["a"], a2["ci80"]["a"]))
    for q in ["a", "E", "alpha", "beta"]:
        rows.append((f"approach 3: {q}", a3[q], a3["ci80"][q]))
    rows.append((f"approach 3: D*/N* at C = {fmt(top['C'])}", top["ratio"], top["ratio_spread"]["ci80"]))
    ex = fit.get("extrapolation", {})
    if ex.get("mean_rel_error") is not None:
        rows.append((f"extrapolation from C ≤ C_max/{fmt(ex['k'])}: mean error (%)", 100 * ex["mean_rel_error"], None))
    return rows


def seed_spread(out_dir, total):
    """A table of the committed fit against the same config trained with other seeds."""
    seeds_dir = out_dir / "seeds"
    if not seeds_dir.is_dir():
        return []
    others = sorted(d for d in seeds_dir.iterdir() if (d / "fit.json").is_file())
    if not others:
        return []
    fits = [("seed 0 (committed)", total)] + [
        (d.name, json.loads((d / "fit.json").read_text())) for d in others
    ]
    table = [seed_quantities(f) for _, f in fits]
    method = lambda f: (f["approach3"].get("bootstrap") or {}).get("method")
    older = [name for name, f in fits[1:] if method(f) != method(total)]
    caveat = ([f"The fits of {', '.join(older)} were written by an earlier ladder (0.1.0: the",
               "pairs bootstrap and approach 2's all-points parabolas), and this one was refitted",
               "with the current method from the committed sweep.h5: approach 3's point values",
               "compare, their intervals and approach 2's numbers come from different methods.", ""]
              if older else [])
    lines = ["## Seed spread", "", *caveat,
             "The same config trained with other seeds (data order and initial weights), fitted",
             "the same way; seeds/<name>/ holds each one's config.toml, fit.json and",
             "fit-nonemb.json. An 80% interval is given where the fit has one; the last column",
             "says whether the committed value lies inside every other seed's 80% interval.", "",
             "```sh",
             "sed -e 's/^seed = 0/seed = 1/' -e 's/^name = \"lab-cpu\"/name = \"lab-cpu-seed1\"/' \\",
             "  configs/lab-cpu.toml > configs/lab-cpu-seed1.toml",
             "cargo run --release -- run configs/lab-cpu-seed1.toml --out results/lab-cpu-seed1 --extrapolate-k 8",
             "target/release/ladder fit results/lab-cpu-seed1/sweep.h5 --extrapolate-k 8 --params non-embedding \\",
             "  --json results/lab-cpu-seed1/fit-nonemb.json",
             "```", "",
             "| quantity | " + " | ".join(name for name, _ in fits) + " | committed value inside |",
             "| --- | " + " | ".join("---" for _ in fits) + " | --- |"]
    for i, (name, value, _) in enumerate(table[0]):
        cells, inside = [], True
        for rows in table:
            match = [r for r in rows if r[0] == name]
            if not match:
                cells.append("-")
                inside = None if inside is True else inside
                continue
            _, v, ci = match[0]
            cells.append(f"{fmt(v)} {interval(ci)}" if ci else fmt(v))
            if ci and rows is not table[0] and inside is not None:
                inside = inside and ci[0] <= value <= ci[1]
        has_ci = any(r[0] == name and r[2] for rows in table[1:] for r in rows)
        verdict = "-" if not has_ci or inside is None else ("yes" if inside else "no")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {verdict} |")
    return lines + [""]


def main() -> int:
    out_dir, config = Path(sys.argv[1]), sys.argv[2]
    total = json.loads((out_dir / "fit.json").read_text())
    nonemb = json.loads((out_dir / "fit-nonemb.json").read_text())
    with open(out_dir / "report" / "runs.csv", newline="") as f:
        table = list(csv.DictReader(f))
    runs = len(table)
    wall = wall_time(table)
    data = table[0]["data"]
    tokenizer = table[0]["tokenizer"]
    schedule = table[0]["schedule"]
    context = int(table[0]["context"])
    pos_share = [int(r["context"]) * int(r["d_model"]) / int(r["N_total"]) for r in table]
    lines = [f"# Lab result: `{config}`", ""]
    lines += [
        "Generated by `scripts/lab_readme.py` from this directory's fit.json, fit-nonemb.json and",
        "report/runs.csv: every number below is read from them. The figures, tables and the",
        "inference-sizing slider are in [report/index.html](report/index.html).",
        "",
        "## Reproduce",
        "",
        "```sh",
        "ln -s ../../shared/datasets/gutenberg_en.txt datasets/   # once",
        f"cargo run --release -- run {config} --out {out_dir}",
        f"target/release/ladder fit {out_dir}/sweep.h5 --extrapolate-k 8 --json {out_dir}/fit.json",
        f"target/release/ladder fit {out_dir}/sweep.h5 --extrapolate-k 8 --params non-embedding "
        f"--json {out_dir}/fit-nonemb.json",
        f"target/release/ladder report {out_dir} --extrapolate-k 8",
        f"python3 scripts/lab_readme.py {out_dir} {config}",
        "```",
        "",
        "`scripts/reproduce-lab.sh` retrains the lab from scratch in a temporary directory and checks",
        "that fit.json and fit-nonemb.json come out byte-identical to the committed ones (training",
        "is deterministic at a fixed thread count); see docs/LOG.md for the last such check.",
        "",
        f"{runs} runs on {data}; tokenizer {tokenizer}; schedule {schedule}.",
        f"Wall time, first run start to last run end: {wall / 60:.1f} min on this 2-core machine.",
        "",
    ]

    rows, skipped = profiles(total)
    lines += ["## Are the IsoFLOP curves U-shaped?", ""]
    if skipped:
        lines += [f"Approach 2 did not run: {skipped}", ""]
    else:
        n_u = sum(u for _, u in rows)
        lines += [f"{n_u} of {len(rows)} budgets have a U-shaped profile (convex in log N, minimum inside the sampled sizes).", ""]
        lines += ["| budget C | sizes | N range | N_opt | D_opt | D_opt/N_opt | min loss | U-shaped | warnings |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for p, u in rows:
            opt = p["n_opt"] is not None and p["d_opt"] is not None
            n_opt = fmt(p["n_opt"]) if opt else "-"
            d_opt = fmt(p["d_opt"]) if opt else "-"
            ratio = fmt(p["d_opt"] / p["n_opt"]) if opt else "-"
            loss_min = f"{p['loss_min']:.4f}" if p.get("loss_min") is not None else "-"
            lines.append(
                f"| {fmt(p['C'])} | {p['points']} | {fmt(p['n_range'][0])}-{fmt(p['n_range'][1])} | "
                f"{n_opt} | {d_opt} | {ratio} | {loss_min} | {'yes' if u else 'no'} | "
                f"{'; '.join(p['warnings']) or '-'} |"
            )
        lines += ["", "![IsoFLOP profiles with their fitted parabolas](report/isoflop.png)", ""]

    lines += ["## Exponents: approach 2 against approach 3 (N = total parameters)", "",
              "N_opt ∝ C^a and D_opt ∝ C^b; Hoffmann et al. 2022 found a ≈ b ≈ 0.5.", "",
              "| quantity | approach 2 | 95% interval | approach 3 | 95% interval | intervals overlap |",
              "| --- | --- | --- | --- | --- | --- |"]
    a3 = total["approach3"]
    a2 = total.get("approach2")
    for q in ["a", "b"]:
        if a2:
            ov = "yes" if overlap(a2["ci95"][q], a3["ci95"][q]) else "no"
            lines.append(f"| {q} | {fmt(a2[q])} | {interval(a2['ci95'][q])} | {fmt(a3[q])} | {interval(a3['ci95'][q])} | {ov} |")
        else:
            lines.append(f"| {q} | - | - | {fmt(a3[q])} | {interval(a3['ci95'][q])} | - |")
    lines += ["", "Approach 3, L(N, D) = E + A/N^alpha + B/D^beta (N = total parameters):", "",
              "| parameter | value | 80% interval | 95% interval |", "| --- | --- | --- | --- |"]
    for q in ["E", "A", "B", "alpha", "beta"]:
        lines.append(f"| {q} | {fmt(a3[q], 4)} | {interval(a3['ci80'][q])} | {interval(a3['ci95'][q])} |")
    lines += ["", "## Optimal tokens per parameter", "",
              f"Approach 3's compute-optimal D/N at each budget, with 80% bootstrap intervals, under both "
              f"parameter conventions. Published: {PUBLISHED}.", "",
              "| budget C | D/N (total) | 80% interval | D/N (non-embedding) | 80% interval |",
              "| --- | --- | --- | --- | --- |"]
    for t, n in zip(total["tokens_per_param"], nonemb["tokens_per_param"]):
        lines.append(
            f"| {fmt(t['C'])} | {fmt(t['ratio'])} | {interval(t['ratio_spread']['ci80'])} | "
            f"{fmt(n['ratio'])} | {interval(n['ratio_spread']['ci80'])} |"
        )
    lines += ["",
              "nanochat counts the weight matrices and the LM head but not the input embedding. ladder's",
              "models tie the head to the embedding, so that count is N_total minus the position",
              f"embeddings ({context} × d_model), {100 * min(pos_share):.1f}-{100 * max(pos_share):.1f}% of N_total "
              "across these runs: its ratios are that much above the total-convention column.", "",
              "![The compute-optimal frontier against D = 20 N](report/frontier.png)", ""]
    ex = total.get("extrapolation", {})
    lines += ["## Extrapolation", ""]
    if "held_out" in ex and ex["mean_rel_error"] is None:
        lines += [f"Approach 3 fitted on the {ex['fitted_points']} runs with C ≤ C_max/{fmt(ex['k'])} = "
                  f"{fmt(ex['c_cut'])} predicts no finite loss for the {len(ex['held_out'])} larger runs: "
                  "that fit runs its parameters off to infinity (the small budgets do not identify the law), "
                  "so the extrapolation error is undefined."]
    elif "held_out" in ex:
        lines += [f"Approach 3 fitted on the {ex['fitted_points']} runs with C ≤ C_max/{fmt(ex['k'])} = "
                  f"{fmt(ex['c_cut'])} predicts the {len(ex['held_out'])} larger runs with mean relative error "
                  f"{100 * ex['mean_rel_error']:+.2f}% (mean |error| {100 * ex['mean_abs_rel_error']:.2f}%).", "",
                  "| run | C | loss | predicted | error |", "| --- | --- | --- | --- | --- |"]
        for h in ex["held_out"]:
            lines.append(f"| {h['run']} | {fmt(h['C'])} | {h['loss']:.4f} | {h['predicted']:.4f} | "
                         f"{100 * h['rel_error']:+.2f}% |")
    else:
        lines.append(f"Not run: {ex.get('skipped', 'no extrapolation in fit.json')}")
    lines += seed_spread(out_dir, total)
    lines += ["", "## Verdicts (from fit.json)", ""]
    answers = {True: "holds", False: "does not hold", None: "cannot tell"}
    for label, fit in [("N = total", total), ("N = non-embedding", nonemb)]:
        for v in fit.get("verdicts", []):
            lines.append(f"- {v['claim']} ({label}): **{answers[v.get('holds')]}**: {v['detail']}")
    lines.append("")
    (out_dir / "README.md").write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
