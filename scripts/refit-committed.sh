#!/usr/bin/env bash
# Refits every committed result from its sweep.h5, without training, and checks that the
# fits (and the labs' numbers) are byte for byte the committed ones: a change to the
# pipeline must leave its answers alone. About a minute on 2 cores.
# With --write it puts the new files in place instead (fit.json, fit-nonemb.json,
# lab.json and report/ of each): after a change that is meant to change the fits.
# Usage: scripts/refit-committed.sh [--write] [BIN] (default target/release/ladder)
set -euo pipefail
cd "$(dirname "$0")/.."
write=false
if [ "${1:-}" = "--write" ]; then write=true; shift; fi
bin=${1:-target/release/ladder}
[ -x "$bin" ] || cargo build --release --quiet
tmp=$(mktemp -d)
fail=0
same() {
  if cmp -s "$1" "$2"; then echo "same       $2"; return; fi
  if $write; then cp "$1" "$2"; echo "written    $2"; else echo "DIFFERENT  $2 (new: $1)"; fail=1; fi
}

# The real-text lab, fitted as scripts/reproduce-lab.sh fits it.
"$bin" fit results/lab-cpu/sweep.h5 --extrapolate-k 8 --json "$tmp/fit.json" >/dev/null
same "$tmp/fit.json" results/lab-cpu/fit.json
"$bin" fit results/lab-cpu/sweep.h5 --extrapolate-k 8 --params non-embedding \
  --json "$tmp/fit-nonemb.json" >/dev/null
same "$tmp/fit-nonemb.json" results/lab-cpu/fit-nonemb.json
if $write; then
  # In place, so that the report names the committed sweep file, not a scratch copy.
  "$bin" report results/lab-cpu --extrapolate-k 8 >/dev/null
  echo "written    results/lab-cpu/report/"
fi

# Each seed's own fit (scripts/lab_readme.py's table), from the report's runs.csv.
for dir in results/lab-cpu/seeds/seed*; do
  k=${dir##*/seed}
  for col in N_total N_nonemb; do
    name=fit.json; [ "$col" = N_nonemb ] && name=fit-nonemb.json
    "$bin" fit results/lab-cpu/report/runs.csv --column N=$col --column loss=final_val_loss \
      --column C=C_budget --column run=run_id --where seed="$k" --bootstrap-method residuals \
      --extrapolate-k 8 --json "$tmp/seed$k-$name" >/dev/null
    same "$tmp/seed$k-$name" "$dir/$name"
  done
done

# The pilot of the byte-level lab (the prior law of configs/lab-cpu.toml's [design]).
if [ -f results/pilot-cpu/sweep.h5 ]; then
  "$bin" fit results/pilot-cpu/sweep.h5 --json "$tmp/pilot.json" >/dev/null
  same "$tmp/pilot.json" results/pilot-cpu/fit.json
  "$bin" fit results/pilot-cpu/sweep.h5 --params non-embedding --json "$tmp/pilot-ne.json" >/dev/null
  same "$tmp/pilot-ne.json" results/pilot-cpu/fit-nonemb.json
fi

# The teaching labs: `ladder lab run` on a copy of each committed directory, whose
# sweep.h5 holds every run (and lab 3's target), so nothing is trained.
for dir in results/labs/lab*-cpu; do
  n=${dir#results/labs/lab}; n=${n%%-*}
  out="$tmp/lab$n"
  mkdir -p "$out"
  cp "$dir/config.toml" "$dir/sweep.h5" "$out/"
  if [ -d "$dir/target" ]; then cp -r "$dir/target" "$out/"; fi
  "$bin" lab run "$n" --out "$out" >"$out.log" 2>&1 || { cat "$out.log"; exit 1; }
  if grep -q ", [1-9][0-9]* to train" "$out.log"; then echo "lab $n trained runs: $(grep "to train" "$out.log")"; fail=1; fi
  for f in fit.json fit-nonemb.json lab.json; do
    if [ -f "$dir/$f" ]; then same "$out/$f" "$dir/$f"; fi
  done
  if $write; then
    "$bin" lab run "$n" --out "$dir" >/dev/null 2>&1
    echo "written    $dir/report/"
  fi
done
if [ "$fail" -ne 0 ]; then echo "the committed results do not reproduce ($tmp)"; exit 1; fi
if $write; then echo "the committed results are refitted: reread what quotes them"; else echo "every committed fit reproduces byte for byte"; fi
