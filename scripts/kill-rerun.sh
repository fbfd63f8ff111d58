#!/usr/bin/env bash
# Start `ladder run CONFIG`, SIGKILL it at a random moment, rerun it, and check that every
# run file finished before the kill is byte-identical afterwards and the sweep completes.
# Usage: scripts/kill-rerun.sh LADDER_BIN CONFIG OUT_DIR EXPECTED_RUNS SECONDS
# SECONDS is how long an uninterrupted run of CONFIG took; the kill lands at a random
# moment between 30% and 85% of it, so that some runs are finished and others mid-way.
set -euo pipefail
shopt -s nullglob
bin=$1 config=$2 out=$3 expected=$4 seconds=$5
rm -rf "$out"
"$bin" run "$config" --out "$out" >/dev/null 2>&1 &
pid=$!
delay_ms=$(( seconds * (300 + RANDOM % 551) ))
sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
if ! kill -9 "$pid" 2>/dev/null; then
  echo "the sweep ended before the kill at ${delay_ms} ms: nothing was tested" >&2
  exit 1
fi
wait "$pid" 2>/dev/null || true
finished=("$out"/runs/*.h5)
before=""
if [ ${#finished[@]} -gt 0 ]; then
  before=$(sha256sum "${finished[@]}")
fi
echo "killed after ${delay_ms} ms with ${#finished[@]} finished runs"
"$bin" run "$config" --out "$out" >/dev/null 2>&1
if [ -n "$before" ]; then
  printf '%s\n' "$before" | sha256sum --check --quiet
fi
after=("$out"/runs/*.h5)
[ ${#after[@]} -eq "$expected" ] || { echo "expected $expected finished runs, found ${#after[@]}"; exit 1; }
echo "kill -9 and rerun: ${#finished[@]} finished runs byte-identical, ${#after[@]} runs complete"
