#!/usr/bin/env bash
# Fuzzes the three readers of untrusted input with cargo-fuzz (libFuzzer), each for
# SECONDS: the sweep config (parse + plan), the CSV reader of `ladder fit`, and the HDF5
# run/sweep reader. Seeds: the repository's configs, a small CSV (and the Chinchilla
# points from ../shared when present), and a run file and sweep.h5 made here. Built with
# `--sanitizer none`, which needs no nightly toolchain (safe Rust has no memory errors to
# find; panics, hangs (-timeout) and allocation blow-ups (-rss_limit_mb) are the findings).
# A finding stops the script with libFuzzer's report and the input under fuzz/artifacts/.
#
# --smoke (CI): the same targets built as plain release binaries of the workspace, which
# reuses the dependencies already built and needs no cargo-fuzz; libFuzzer then mutates
# blind (no coverage feedback), so this checks that the targets build and survive their
# seeds and random inputs, not that they were fuzzed.
# Usage: scripts/fuzz.sh [--smoke] [SECONDS] [LADDER_BIN] [TARGET...]   (docs/LOG.md: 600 each)
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=""
if [[ ${1:-} == --smoke ]]; then smoke=yes; shift; fi
secs=${1:-30}
bin=${2:-target/release/ladder}
shift $(($# > 2 ? 2 : $#))
targets=("${@:-config csv h5_run}")
read -r -a targets <<<"${targets[*]}"
[[ -n "$smoke" ]] || command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
[[ -x "$bin" ]] || cargo build --release --quiet
bin=$(readlink -f "$bin")

seeds=$(mktemp -d)
mkdir -p "$seeds/csv" "$seeds/h5"
printf 'N,D,loss\n1e6,2e7,3.2\n4e6,8e7,2.9\n1.6e7,3.2e8,2.6\n' >"$seeds/csv/small.csv"
printf 'N,D,loss,C,run\n1e6,2e7,3.2,1.2e14,a\n' >"$seeds/csv/extra.csv"
shared=${LADDER_SHARED:-../shared}
if [[ -f "$shared/reference/chinchilla_points_ND.csv" ]]; then
  cp "$shared/reference/chinchilla_points_ND.csv" "$seeds/csv/"
fi
"$bin" run tests/fixtures/micro.toml --out "$seeds/sweep" --only 0 >/dev/null 2>&1
"$bin" merge "$seeds/sweep" >/dev/null
cp "$seeds"/sweep/runs/*.h5 "$seeds/sweep/sweep.h5" "$seeds/h5/"

if [[ -n "$smoke" ]]; then
  # The workspace's release build as CI runs it (.ci/run): one feature set, nothing rebuilt.
  cargo build --release --quiet --workspace --bins --benches
fi
cd fuzz
[[ -n "$smoke" ]] || cargo fuzz build --sanitizer none
for target in "${targets[@]}"; do
  case $target in
    config) dirs=(../configs ../tests/fixtures) ;;
    csv) dirs=("$seeds/csv") ;;
    h5_run) dirs=("$seeds/h5") ;;
    *) echo "unknown target $target"; exit 2 ;;
  esac
  mkdir -p "corpus/$target"
  log="$seeds/$target.log"
  rc=0
  flags=(-max_total_time="$secs" -rss_limit_mb=4096 -timeout=60 -print_final_stats=1)
  if [[ -n "$smoke" ]]; then
    mkdir -p "artifacts/$target"
    "../target/release/$target" -artifact_prefix="artifacts/$target/" "${flags[@]}" \
      "corpus/$target" "${dirs[@]}" >"$log" 2>&1 || rc=$?
  else
    cargo fuzz run --sanitizer none "$target" "corpus/$target" "${dirs[@]}" -- "${flags[@]}" \
      >"$log" 2>&1 || rc=$?
  fi
  grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed "s/^/$target: /"
  if ((rc != 0)); then
    grep -E "ERROR|SUMMARY|panicked|artifact" "$log" | head -20
    echo "fuzz: $target found a crash, a hang or a blow-up (exit $rc); full log: $log"
    exit 1
  fi
done
echo "fuzz${smoke:+ (smoke, uninstrumented)}: ${targets[*]} ran ${secs} s each without a finding"
