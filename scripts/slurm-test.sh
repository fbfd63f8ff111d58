#!/usr/bin/env bash
# A real Slurm test on one machine: installs Debian's slurm-wlm and munge if missing,
# starts munged, slurmctld and slurmd on localhost (proctrack/linuxproc, task/none, no
# cgroups), submits the smoke sweep with `ladder slurm --submit` (a job array and its
# afterany merge job), waits, and checks that the merged sweep.h5 matches a local
# `ladder run` of the same config, run by run, within float tolerance.
#
# If slurmd cannot run here, it says why and falls back to `sbatch --test-only` of the
# generated scripts against slurmctld alone; if slurmctld cannot run either, it fails.
#
# Usage: scripts/slurm-test.sh LADDER_BINARY [WORKDIR]   (run as root, as CI does)
set -euo pipefail

ladder=$(readlink -f "$1")
work=${2:-$(mktemp -d /tmp/ladder-slurm.XXXXXX)}
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
work=$(readlink -f "$work")

need=()
command -v slurmctld >/dev/null || need+=(slurm-wlm)
command -v munged >/dev/null || need+=(munge)
if ((${#need[@]})); then
  echo "slurm-test: installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
state="$work/slurm"
mkdir -p "$state/ctld" "$state/d" "$state/log" /run/munge
export SLURM_CONF="$state/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=ladder
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# munge: a key if the package left none, and the daemon (root needs --force).
[[ -s /etc/munge/munge.key ]] || mungekey --create --force >/dev/null 2>&1 || \
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown root:root /etc/munge/munge.key 2>/dev/null || true
chmod 400 /etc/munge/munge.key
munged --force --foreground --socket=/run/munge/munge.socket.2 >"$state/log/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.2; done
munge -n | unmunge >/dev/null || { echo "slurm-test: munged did not start"; cat "$state/log/munged.log"; exit 1; }

slurmctld -D -i >"$state/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D >"$state/log/slurmd.out" 2>&1 &
slurmd_pid=$!
pids+=($slurmd_pid)

node_up=""
for _ in $(seq 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then node_up=yes; break; fi
  kill -0 "$slurmd_pid" 2>/dev/null || break
  sleep 1
done

sweep="$work/sweep"
local_dir="$work/local"
rm -rf "$sweep" "$local_dir"
"$ladder" slurm "$repo/configs/smoke.toml" --out "$sweep" --cpus-per-task 1 --time 00:20:00 --partition debug

if [[ -z "$node_up" ]]; then
  echo "slurm-test: slurmd did not bring the node up; why:"
  tail -n 20 "$state/log/slurmd.out" "$state/log/slurmd.log" 2>/dev/null || true
  sinfo 2>&1 || { echo "slurm-test: slurmctld is not answering either"; tail -n 20 "$state/log/slurmctld.log"; exit 1; }
  echo "slurm-test: falling back to sbatch --test-only"
  sbatch --test-only "$sweep/sweep.sbatch"
  sbatch --test-only "$sweep/merge.sbatch"
  echo "slurm-test: FALLBACK PASSED (scripts accepted by slurmctld; nothing ran)"
  exit 0
fi
sinfo

out=$(bash "$sweep/submit.sh")
echo "slurm-test: submitted: $out"
array=$(sed -E 's/^array ([0-9]+), merge ([0-9]+)$/\1/' <<<"$out")
merge=$(sed -E 's/^array ([0-9]+), merge ([0-9]+)$/\2/' <<<"$out")
deadline=$((SECONDS + 600))
while squeue -h -j "$array,$merge" 2>/dev/null | grep -q .; do
  if ((SECONDS > deadline)); then
    echo "slurm-test: jobs still queued after 600 s"; squeue; exit 1
  fi
  sleep 2
done
merge_state=$(scontrol show job "$merge" 2>/dev/null | grep -o 'JobState=[A-Z]*' || true)
echo "slurm-test: merge job $merge ${merge_state:-finished}"
cat "$sweep"/slurm/merge_*.out
"$ladder" status "$sweep" | tail -n 2
"$ladder" status "$sweep" | grep -q "nothing to redo"

# The same sweep on this machine, one single-threaded run at a time like the tasks.
RAYON_NUM_THREADS=1 "$ladder" run "$repo/configs/smoke.toml" --out "$local_dir" --jobs 1 >/dev/null 2>&1
"$ladder" report "$sweep" --out "$work/report-slurm" >/dev/null
"$ladder" report "$local_dir" --out "$work/report-local" >/dev/null
python3 - "$work/report-slurm/runs.csv" "$work/report-local/runs.csv" <<'EOF'
import csv, sys
def losses(path):
    with open(path, newline="") as f:
        return {r["run_id"]: float(r["final_val_loss"]) for r in csv.DictReader(f)}
a, b = losses(sys.argv[1]), losses(sys.argv[2])
assert a.keys() == b.keys(), f"runs differ: {sorted(a)} vs {sorted(b)}"
worst = max(abs(a[k] - b[k]) / abs(b[k]) for k in a)
print(f"slurm-test: {len(a)} runs, largest relative difference in final loss {worst:.2e}")
assert worst <= 1e-5, "the Slurm sweep does not match the local run"
EOF
echo "slurm-test: PASSED"
