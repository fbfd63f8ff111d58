#!/usr/bin/env bash
# Refits every committed result from its sweep.h5, without training, and checks that the
# fits (and the labs' numbers) are byte for byte the committed ones: a change to the
# pipeline must leave its answers alone. About 3 minutes on 2 cores (2026-12-06).
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

# The real-text labs, fitted as scripts/reproduce-lab.sh fits them, and each seed's own fit
# (scripts/lab_readme.py's table) from the report's runs.csv. A lab still training (no
# fit.json yet: results/lab-gpu, trained in slices) is left out until it is fitted.
for lab in results/lab-*; do
  [ -f "$lab/sweep.h5" ] && [ -f "$lab/fit.json" ] || continue
  name=${lab##*/}
  "$bin" fit "$lab/sweep.h5" --extrapolate-k 8 --json "$tmp/$name.json" >/dev/null
  same "$tmp/$name.json" "$lab/fit.json"
  "$bin" fit "$lab/sweep.h5" --extrapolate-k 8 --params non-embedding \
    --json "$tmp/$name-nonemb.json" >/dev/null
  same "$tmp/$name-nonemb.json" "$lab/fit-nonemb.json"
  if $write; then
    # In place, so that the report names the committed sweep file, not a scratch copy.
    "$bin" report "$lab" --extrapolate-k 8 >/dev/null
    echo "written    $lab/report/"
  fi
  for dir in "$lab"/seeds/seed*; do
    [ -d "$dir" ] || continue
    k=${dir##*/seed}
    for col in N_total N_nonemb; do
      file=fit.json; [ "$col" = N_nonemb ] && file=fit-nonemb.json
      "$bin" fit "$lab/report/runs.csv" --column N=$col --column loss=final_val_loss \
        --column C=C_budget --column run=run_id --where seed="$k" --bootstrap-method wild-families \
        --extrapolate-k 8 --json "$tmp/$name-seed$k-$file" >/dev/null
      same "$tmp/$name-seed$k-$file" "$dir/$file"
    done
  done
done

# The three depth-2 draws pooled (the prior of configs/lab-cpu.toml's [design]).
pooled=results/lab-cpu-d2-pooled
"$bin" fit results/lab-cpu-d2-{wide,confirm,third}/sweep.h5 --extrapolate-k 8 \
  --json "$tmp/pooled.json" >/dev/null
same "$tmp/pooled.json" "$pooled/fit.json"

# The pilots of the byte-level lab (priors of configs/lab-cpu-knob.toml's and lab-cpu-d2.toml's [design]).
for dir in results/pilot-*; do
  [ -f "$dir/sweep.h5" ] || continue
  name=${dir##*/}
  "$bin" fit "$dir/sweep.h5" --json "$tmp/$name.json" >/dev/null
  same "$tmp/$name.json" "$dir/fit.json"
  "$bin" fit "$dir/sweep.h5" --params non-embedding --json "$tmp/$name-ne.json" >/dev/null
  same "$tmp/$name-ne.json" "$dir/fit-nonemb.json"
done

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
