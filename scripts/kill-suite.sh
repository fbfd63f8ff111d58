#!/usr/bin/env bash
# The kill -9 suite: trains CONFIG once without interruption (the reference), then again
# into OUT_DIR with KILLS SIGKILLs at random moments, each followed by a rerun, and a last
# rerun to completion. It checks that
#   - no finished run was lost or changed: every run file seen finished before a kill is
#     byte-identical at the end (a retrained run would differ in its start time);
#   - no run was trained to the end twice: across all invocations, each run's
#     "finished <id>" line appears at most once (the run counter);
#   - the sweep is complete, and its fit.json equals the reference's byte for byte
#     (both at the same thread count: one single-threaded run per core).
# Usage: scripts/kill-suite.sh LADDER_BIN CONFIG OUT_DIR EXPECTED_RUNS [KILLS]
set -euo pipefail
shopt -s nullglob
bin=$1 config=$2 out=$3 expected=$4 kills=${5:-20}
ref="$out-reference"
logs="$out-logs"
rm -rf "$out" "$ref" "$logs"
mkdir -p "$logs"

# The reference, timed up to the end of training (sweep.h5 appears; the fit follows).
start=$(date +%s%N)
"$bin" run "$config" --out "$ref" >/dev/null 2>"$logs/reference.err" &
pid=$!
while kill -0 "$pid" 2>/dev/null && [[ ! -e "$ref/sweep.h5" ]]; do sleep 0.05; done
ref_ms=$((($(date +%s%N) - start) / 1000000))
wait "$pid"
echo "reference sweep: ${ref_ms} ms of training"

snapshot() { # "sha  path" of every finished run file
  local files=("$out"/runs/*.h5)
  ((${#files[@]})) && sha256sum "${files[@]}" || true
}

seen="$logs/seen.sha"
: >"$seen"
for k in $(seq 1 "$kills"); do
  "$bin" run "$config" --out "$out" >/dev/null 2>"$logs/run-$k.err" &
  pid=$!
  # Kill at a random moment early in what is left: a uniform draw over a third of the
  # training time of the runs not yet finished (reruns skip those), so that the 20 kills
  # spread over the whole sweep and land at start-up, mid-run, during a rename, and, once
  # all is trained, while sweep.h5 is written and during the fit.
  done_now=("$out"/runs/*.h5)
  left_ms=$((ref_ms * (expected - ${#done_now[@]} + 1) / (expected + 1) / 3))
  delay_ms=$(((RANDOM * 32768 + RANDOM) % (left_ms + 1)))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # Every file finished before this kill must still be there, unchanged.
  if [[ -s "$seen" ]]; then
    sha256sum --check --quiet "$seen" || { echo "kill $k: a finished run file changed or vanished"; exit 1; }
  fi
  snapshot | sort -u -k2 - "$seen" >"$seen.new"
  mv "$seen.new" "$seen"
  finished=("$out"/runs/*.h5)
  echo "kill $k after ${delay_ms} ms: ${#finished[@]} runs finished so far"
done

"$bin" run "$config" --out "$out" >/dev/null 2>"$logs/final.err"
if [[ -s "$seen" ]]; then
  sha256sum --check --quiet "$seen" || { echo "a finished run file changed after the last rerun"; exit 1; }
fi
after=("$out"/runs/*.h5)
[[ ${#after[@]} -eq "$expected" ]] || { echo "expected $expected finished runs, found ${#after[@]}"; exit 1; }

twice=$(cat "$logs"/run-*.err "$logs/final.err" | grep -oE '^finished [^ ]+' | sort | uniq -d)
[[ -z "$twice" ]] || { echo "trained to the end more than once: $twice"; exit 1; }

"$bin" fit "$ref/sweep.h5" --json "$logs/fit-reference.json" >/dev/null 2>&1
"$bin" fit "$out/sweep.h5" --json "$logs/fit-killed.json" >/dev/null 2>&1
cmp "$logs/fit-reference.json" "$logs/fit-killed.json" \
  || { echo "the fit after $kills kills differs from the uninterrupted sweep's"; exit 1; }
echo "kill -9 suite: $kills kills, ${#after[@]} runs complete, $(wc -l <"$seen") finished files never changed, no run trained twice, fit identical to the uninterrupted sweep"
