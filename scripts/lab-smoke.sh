#!/usr/bin/env bash
# Runs every command of every lab guide (the ```sh blocks of docs/labs/lab*.md) at the
# smoke size, and checks that each figure a guide shows was produced.
#
#   scripts/lab-smoke.sh BIN OUT
#
# The guides are written for the laptop size; here `ladder` is BIN, `ladder lab run N`
# gets `--size smoke --out OUT/labN-smoke`, and the paths results/labN-cpu (a student's
# own output) and configs/labs/…-cpu.toml become OUT/labN-smoke and
# configs/labs/…-smoke.toml. A figure the guide shows from the committed results,
# results/labs/labN-cpu/report/F, must then exist as OUT/labN-smoke/report/F.
set -euo pipefail
bin=$(realpath "$1")
out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(realpath "$out")

commands() { # the shell lines of the ```sh blocks of a Markdown file
  awk '/^```sh$/ {on=1; next} /^```$/ {on=0} on && !/^#/ && NF' "$1"
}

checked=0
for doc in docs/labs/lab[0-9]*.md; do
  n=$(basename "$doc" | sed -E 's/^lab([0-9]+).*/\1/')
  echo "== lab $n: $doc"
  found=0
  while IFS= read -r cmd; do
    smoke=$(printf '%s\n' "$cmd" | sed -E \
      -e "s#^ladder #\"$bin\" #" \
      -e "s#(lab run [0-9]+)#\1 --size smoke --out \"$out/lab$n-smoke\"#" \
      -e "s#results/lab([0-9]+)-cpu#$out/lab\1-smoke#g" \
      -e "s#(configs/labs/[a-z0-9-]+)-cpu\.toml#\1-smoke.toml#g")
    echo "\$ $cmd"
    bash -c "$smoke" > "$out/lab$n-command.log" 2>&1 || {
      cat "$out/lab$n-command.log"
      echo "lab $n: this command failed at the smoke size: $smoke" >&2
      exit 1
    }
    tail -n 3 "$out/lab$n-command.log"
    found=$((found + 1))
  done < <(commands "$doc")
  [ "$found" -gt 0 ] || { echo "$doc has no \`\`\`sh commands" >&2; exit 1; }
  for fig in $(grep -oE "results/labs/lab$n-cpu/report/[A-Za-z0-9_.-]+\.(png|svg|html)" "$doc" | sort -u); do
    made="$out/lab$n-smoke/${fig#results/labs/lab$n-cpu/}"
    [ -s "$made" ] || { echo "lab $n shows $fig, but the smoke run made no $made" >&2; exit 1; }
    checked=$((checked + 1))
  done
done
echo "lab guides: every command ran at the smoke size; $checked figures produced"
