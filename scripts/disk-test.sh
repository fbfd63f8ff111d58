#!/usr/bin/env bash
# Disk failures, on small tmpfs file systems: an unwritable output directory and a disk
# that fills up mid-sweep each give a clear error (exit 1, the path and the system's
# reason, no panic) and never a corrupt file: every finished run file stays readable and
# unchanged, a rerun with room finishes the sweep without retraining them, and a merge
# that runs out of space leaves the previous sweep.h5 as it was.
# Usage: scripts/disk-test.sh LADDER_BIN   (as root: it mounts tmpfs)
set -euo pipefail
shopt -s nullglob
bin=$(readlink -f "$1")
config="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/micro.toml"
base=$(mktemp -d)
ro="$base/ro" full="$base/full"
mkdir -p "$ro" "$full"
cleanup() { umount "$ro" 2>/dev/null || true; umount "$full" 2>/dev/null || true; }
trap cleanup EXIT

expect_failure() { # LOG WORDS...: exit 1, the words in stderr, no panic
  local rc=$1 log=$2; shift 2
  [[ $rc -eq 1 ]] || { echo "disk-test: expected exit 1, got $rc"; cat "$log"; exit 1; }
  ! grep -q panicked "$log" || { echo "disk-test: panic"; cat "$log"; exit 1; }
  for w in "$@"; do
    grep -qF -- "$w" "$log" || { echo "disk-test: no \`$w\` in:"; cat "$log"; exit 1; }
  done
  grep '^error' "$log"
}

mount -t tmpfs -o ro,size=64k tmpfs "$ro"
rc=0; "$bin" run "$config" --out "$ro/sweep" >/dev/null 2>"$base/ro.err" || rc=$?
expect_failure "$rc" "$base/ro.err" "$ro/sweep" "Read-only file system"

# Room for two or three run files of six.
mount -t tmpfs -o size=256k tmpfs "$full"
rc=0; "$bin" run "$config" --out "$full/sweep" >/dev/null 2>"$base/full.err" || rc=$?
expect_failure "$rc" "$base/full.err" "No space left on device" "$full/sweep/runs/"
finished=("$full"/sweep/runs/*.h5)
echo "disk-test: ${#finished[@]} runs finished before the disk filled"
sums=""
if ((${#finished[@]})); then
  sums=$(sha256sum "${finished[@]}")
  # Merge checks every finished file (schema, status, id, config): none is corrupt.
  cp -r "$full/sweep" "$base/copy"
  "$bin" merge "$base/copy" >/dev/null
fi
mount -o remount,size=16m "$full"
"$bin" run "$config" --out "$full/sweep" >/dev/null 2>&1
[[ -z "$sums" ]] || sha256sum --check --quiet <<<"$sums"
after=("$full"/sweep/runs/*.h5)
[[ ${#after[@]} -eq 6 ]] || { echo "disk-test: expected 6 runs after the rerun, found ${#after[@]}"; exit 1; }

# Fill the disk, then merge: the old sweep.h5 must survive, with no partial file beside it.
before=$(sha256sum "$full/sweep/sweep.h5")
dd if=/dev/zero of="$full/filler" bs=4k status=none 2>/dev/null || true
rc=0; "$bin" merge "$full/sweep" >/dev/null 2>"$base/merge.err" || rc=$?
expect_failure "$rc" "$base/merge.err" "No space left on device" "sweep.h5"
sha256sum --check --quiet <<<"$before"
partial=("$full"/sweep/sweep.h5.tmp*)
((${#partial[@]} == 0)) || { echo "disk-test: partial files left: ${partial[*]}"; exit 1; }
echo "disk-test: PASSED"
