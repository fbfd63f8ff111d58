#!/usr/bin/env bash
# Start `ladder run CONFIG`, SIGKILL it at a random moment, rerun it, and check that every
# run file finished before the kill is byte-identical afterwards and the sweep completes.
# Usage: scripts/kill-rerun.sh LADDER_BIN CONFIG OUT_DIR EXPECTED_RUNS
# The kill lands a random 0-1.5 s after the first run has finished while another is
# still in progress, so that some runs are finished and others mid-way, however fast or
# loaded the machine is (a kill timed as a fraction of a measured duration missed the
# sweep on a machine that had become less loaded).
set -euo pipefail
shopt -s nullglob
bin=$1 config=$2 out=$3 expected=$4
rm -rf "$out"
"$bin" run "$config" --out "$out" >/dev/null 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  done_runs=("$out"/runs/*.h5)
  running=("$out"/runs/*.h5.tmp)
  if [ ${#done_runs[@]} -gt 0 ] && [ ${#running[@]} -gt 0 ]; then
    break
  fi
  sleep 0.05
done
delay_ms=$(( RANDOM % 1500 ))
sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
if ! kill -9 "$pid" 2>/dev/null; then
  echo "the sweep ended before the kill: nothing was tested" >&2
  exit 1
fi
wait "$pid" 2>/dev/null || true
finished=("$out"/runs/*.h5)
before=""
if [ ${#finished[@]} -gt 0 ]; then
  before=$(sha256sum "${finished[@]}")
fi
echo "killed ${delay_ms} ms after the first finished run, with ${#finished[@]} finished runs"
"$bin" run "$config" --out "$out" >/dev/null 2>&1
if [ -n "$before" ]; then
  printf '%s\n' "$before" | sha256sum --check --quiet
fi
after=("$out"/runs/*.h5)
[ ${#after[@]} -eq "$expected" ] || { echo "expected $expected finished runs, found ${#after[@]}"; exit 1; }
echo "kill -9 and rerun: ${#finished[@]} finished runs byte-identical, ${#after[@]} runs complete"
