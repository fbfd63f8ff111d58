#!/usr/bin/env bash
# Retrains the committed lab from scratch and checks that its fits reproduce the committed
# ones byte for byte (training is deterministic at a fixed thread count: one
# single-threaded run per core, as `ladder run` schedules on any machine).
# It trains the config stored with the committed sweep (results/LAB/config.toml), not
# configs/LAB.toml: a [design] there is resolved by this machine's clock and may choose
# another design; the stored config holds the one that was trained.
# About 40 minutes on 2 cores. Usage: scripts/reproduce-lab.sh [LAB] (default lab-cpu)
set -euo pipefail
cd "$(dirname "$0")/.."
lab=${1:-lab-cpu}
out=$(mktemp -d)/"$lab"
cargo build --release --quiet
bin=target/release/ladder
# Next to configs/LAB.toml, so that its relative data path resolves as it did.
config="configs/.reproduce-$lab.toml"
cp "results/$lab/config.toml" "$config"
trap 'rm -f "$config"' EXIT
"$bin" run "$config" --out "$out" >/dev/null
"$bin" fit "$out/sweep.h5" --extrapolate-k 8 --json "$out/fit.json" >/dev/null
"$bin" fit "$out/sweep.h5" --extrapolate-k 8 --params non-embedding --json "$out/fit-nonemb.json" >/dev/null
for f in fit.json fit-nonemb.json; do
  cmp "$out/$f" "results/$lab/$f" || { echo "results/$lab/$f does not reproduce (new one: $out/$f)"; exit 1; }
done
echo "results/$lab reproduced: fit.json and fit-nonemb.json identical ($out)"
