#!/usr/bin/env bash
# Fuzzes the three readers of untrusted input with cargo-fuzz (libFuzzer), each for
# SECONDS: the sweep config (parse + plan), the CSV reader of `ladder fit`, and the HDF5
# run/sweep reader. Seeds: the repository's configs, a small CSV (and the Chinchilla
# points from ../shared when present), and a run file and sweep.h5 made here. Built with
# `--sanitizer none`, which needs no nightly toolchain (Rust code has no memory errors to
# find outside `unsafe`; panics, hangs and allocation blow-ups are what a crash means here).
# A crash stops the script with libFuzzer's report and the input under fuzz/artifacts/.
# Usage: scripts/fuzz.sh [SECONDS] [LADDER_BIN]    (CI: a short smoke; docs/LOG.md: 600)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
bin=${2:-target/release/ladder}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
[[ -x "$bin" ]] || cargo build --release --quiet
bin=$(readlink -f "$bin")

seeds=$(mktemp -d)
mkdir -p "$seeds/csv" "$seeds/h5"
printf 'N,D,loss\n1e6,2e7,3.2\n4e6,8e7,2.9\n1.6e7,3.2e8,2.6\n' >"$seeds/csv/small.csv"
printf 'N,D,loss,C,run\n1e6,2e7,3.2,1.2e14,a\n' >"$seeds/csv/extra.csv"
shared=${LADDER_SHARED:-../shared}
[[ -f "$shared/reference/chinchilla_points_ND.csv" ]] && cp "$shared/reference/chinchilla_points_ND.csv" "$seeds/csv/"
"$bin" run tests/fixtures/micro.toml --out "$seeds/sweep" --only 0 >/dev/null 2>&1
"$bin" merge "$seeds/sweep" >/dev/null
cp "$seeds"/sweep/runs/*.h5 "$seeds/sweep/sweep.h5" "$seeds/h5/"

cd fuzz
cargo fuzz build --sanitizer none
run() { # TARGET SEED_DIRS...
  local target=$1; shift
  mkdir -p "corpus/$target"
  cargo fuzz run --sanitizer none "$target" "corpus/$target" "$@" -- \
    -max_total_time="$secs" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 2>&1 |
    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+== ERROR|SUMMARY|Done)|panicked|artifact" || true
  # cargo fuzz exits non-zero on a crash; PIPESTATUS keeps that.
  return "${PIPESTATUS[0]}"
}
run config ../configs ../tests/fixtures
run csv "$seeds/csv"
run h5_run "$seeds/h5"
echo "fuzz: config, csv and h5_run ran ${secs} s each without a crash"
