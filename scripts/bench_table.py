"""The table of scripts/bench-train and scripts/device-check, from the bench's JSON lines.

Usage: bench_table.py BENCH.jsonl CORES VOCAB CONTEXT BATCH

Records come from ladder's `train` bench and scripts/torch_ref.py: "peak" records (a
2048³ GEMM) and "train" records (tokens/s and the forward/backward/optimiser split).
Rows are grouped by device and precision; each group's MFU is against the faster
library's GEMM peak on that device in that precision, at the same thread count (one
thread or all of them; a GPU has one setting).
"""

import json
import statistics
import sys


def where(r):
    """(device, precision) of a record; torch's plain "cuda" is ladder's "cuda:0"."""
    device = r.get("device", "cpu")
    return ("cuda:0" if device == "cuda" else device), r.get("precision", "f32")


def impl(r):
    return r["impl"] + ("-" + r["kernels"] if r.get("kernels") not in (None, "fused") else "")


def median_tok_s(sel):
    return statistics.median(r["tok_s"] for r in sel)


def print_peaks(peaks):
    for r in peaks:
        lib = r.get("impl", f"ladder (candle; {r.get('matmul', '?')} CPU kernels)")
        device, precision = where(r)
        print(f"{precision} GEMM 2048³ on {device}, {lib}, {r['threads']} thread(s): "
              f"{r['gflops']:.1f} GFLOP/s")


def print_group(rows, peaks, cores):
    """One table per shape of one (device, precision) group, then the ratios."""
    peak_all = max((r["gflops"] for r in peaks), default=float("nan"))
    peak1 = max((r["gflops"] for r in peaks if r["threads"] == 1), default=peak_all)
    hdr = (f"{'shape':<12}{'implementation':<22}{'threads':>8}{'jobs':>5}{'tok/s':>11}"
           f"{'fwd%':>6}{'bwd%':>6}{'opt%':>6}{'MFU':>7}")
    for d, l, h in sorted({(r["d_model"], r["n_layer"], r["n_head"]) for r in rows}):
        print(hdr)
        shape_rows = [r for r in rows if (r["d_model"], r["n_layer"], r["n_head"]) == (d, l, h)]
        fpt = shape_rows[0]["flops_per_token"]
        best = {}
        for key in sorted({(impl(r), r["threads"], r["jobs"]) for r in shape_rows}):
            sel = [r for r in shape_rows if (impl(r), r["threads"], r["jobs"]) == key]
            tok, s = median_tok_s(sel), sel[0]
            step = s["fwd_s"] + s["bwd_s"] + s["opt_s"]
            p = peak1 if key[1] * key[2] == 1 else peak_all
            mfu = f"{100 * tok * fpt / (p * 1e9):>6.1f}%" if p == p else "    n/a"  # no peak
            print(f"{f'd{d} L{l} H{h}':<12}{key[0]:<22}{key[1]:>8}{key[2]:>5}{tok:>11.0f}"
                  f"{100*s['fwd_s']/step:>6.0f}{100*s['bwd_s']/step:>6.0f}"
                  f"{100*s['opt_s']/step:>6.0f}{mfu}")
            if key[2] == 1:
                best[(key[0], "single")] = max(best.get((key[0], "single"), 0), tok)
            if key[1] * key[2] == cores:
                best[(key[0], "machine")] = max(best.get((key[0], "machine"), 0), tok)
        print_ratios(best)
        print()


def print_ratios(best):
    lad = best.get(("ladder", "single"))
    for ref in ("torch-eager", "torch-compile"):
        if (ref, "single") in best and lad:
            print(f"  ladder / {ref}, one run at its best thread setting: "
                  f"{lad / best[(ref, 'single')]:.2f}x")
    lm = best.get(("ladder", "machine"))
    refs = {k: v for k, v in best.items() if k[1] == "machine" and k[0] != "ladder"}
    if lm and refs:
        (name, _), v = max(refs.items(), key=lambda kv: kv[1])
        print(f"  whole machine: ladder {lm:.0f} tok/s vs PyTorch's best ({name}) {v:.0f}: "
              f"{lm / v:.2f}x")


def main():
    path, cores, vocab, context, batch = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]
    recs = [json.loads(line) for line in open(path)]
    print(f"vocab {vocab}, context {context}, batch {batch}")
    peaks = [r for r in recs if r["kind"] == "peak"]
    print_peaks(peaks)
    train = [r for r in recs if r["kind"] == "train"]
    for group in sorted({where(r) for r in train}):
        device, precision = group
        rows = [r for r in train if where(r) == group]
        group_peaks = [r for r in peaks if where(r) == group]
        on_cpu = device == "cpu"
        print(f"\n{precision} on {device}: tokens/s, medians; MFU = tokens/s × model FLOPs "
              f"per token / the {precision} GEMM peak" + (" at that thread count" if on_cpu else ""))
        print()
        print_group(rows, group_peaks, cores if on_cpu else 1)


if __name__ == "__main__":
    main()
