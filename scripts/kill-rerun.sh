#!/usr/bin/env bash
# Start `ladder run CONFIG`, SIGKILL it at a random moment, rerun it, and check that every
# run file finished before the kill is byte-identical afterwards and the sweep completes.
# Usage: scripts/kill-rerun.sh LADDER_BIN CONFIG OUT_DIR EXPECTED_RUNS
set -euo pipefail
bin=$1 config=$2 out=$3 expected=$4
rm -rf "$out"
"$bin" run "$config" --out "$out" >/dev/null 2>&1 &
pid=$!
# A random moment between 10 s and 60 s: the smoke sweep takes 80-100 s on 2 cores, so some
# runs are finished and some are mid-way when the kill lands.
delay=$(( 10 + RANDOM % 51 ))
sleep "$delay"
if ! kill -9 "$pid" 2>/dev/null; then
  echo "the sweep ended before the kill at ${delay}s: nothing was tested" >&2
  exit 1
fi
wait "$pid" 2>/dev/null || true
mkdir -p "$out/runs"
before=$(cd "$out/runs" && ls -1 -- *.h5 2>/dev/null | xargs -r sha256sum)
echo "killed after ${delay}s with $(printf '%s' "$before" | grep -c . || true) finished runs"
"$bin" run "$config" --out "$out" >/dev/null 2>&1
if [ -n "$before" ]; then
  (cd "$out/runs" && printf '%s\n' "$before" | sha256sum --check --quiet)
fi
n=$(ls -1 "$out/runs"/*.h5 | wc -l)
[ "$n" -eq "$expected" ] || { echo "expected $expected finished runs, found $n"; exit 1; }
echo "kill -9 and rerun: finished runs byte-identical, $n runs complete"
