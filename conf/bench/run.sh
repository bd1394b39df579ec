#!/usr/bin/env bash
# run.sh gsched|both: `make bench` (gsched) and `make bench-vs-slurm` (both).
#   gsched: start the benchmark cluster (cluster.sh), take the Slurm peer's
#           measurements (bench.sh), then gbench's API figures (batched
#           submission, memory and gqueue with many pending jobs); stop it;
#           then floors.sh (a do-nothing Go program, a minimal runc container).
#   both:   first the same on real Slurm through the shared peer scripts
#           (SLURM_PEER, default ../shared/peers/slurm: setup.sh installs
#           Debian's slurm-wlm if missing), then gsched, then the two side
#           by side with ratios (compare.sh).
# Results and tables go to var/bench/. Knobs: N, CLIENTS, HELD, LAT_RUNS
# (as bench.sh), PENDING_LEVELS (gbench pending; default 10000,100000),
# BATCH_JOBS (gbench submit -n; default 100000).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/var/bench
mkdir -p "$out"
mode=${1:-gsched}
SLURM_PEER=${SLURM_PEER:-$top/../shared/peers/slurm}
BENCH_DIR=${BENCH_DIR:-/var/tmp/gsched-bench}
export BENCH_DIR

run_slurm() {
  [ -x "$SLURM_PEER/setup.sh" ] || { echo "no Slurm peer at $SLURM_PEER (set SLURM_PEER)" >&2; exit 1; }
  echo "== Slurm (peer scripts in $SLURM_PEER)"
  "$SLURM_PEER/setup.sh" >"$out/slurm-setup.log" 2>&1 || { tail -20 "$out/slurm-setup.log" >&2; exit 1; }
  WORK=/tmp/slurm-bench "$SLURM_PEER/bench.sh" 2>"$out/slurm-bench.log" | tee "$out/slurm.txt"
  cp /tmp/slurm-bench/results.tsv "$out/slurm.tsv"
  "$SLURM_PEER/stop.sh" >>"$out/slurm-setup.log" 2>&1 || true
}

run_gsched() {
  echo "== gsched"
  trap '"$top/conf/bench/cluster.sh" stop' EXIT
  "$top/conf/bench/cluster.sh" start 2>"$out/gsched-cluster.log"
  "$top/conf/bench/bench.sh" 2>"$out/gsched-bench.log" | tee "$out/gsched.txt"
  cp "$BENCH_DIR/work/results.tsv" "$out/gsched.tsv"
  export GSCHED_CONF=$BENCH_DIR/ctld.conf
  cd "$BENCH_DIR/work"
  {
    echo
    echo "API submission (gbench submit): held jobs, acknowledged after fsync + apply"
    "$top/bin/gbench" submit -n "${BATCH_JOBS:-100000}" -batch 1000 -clients 4
    "$top/bin/gbench" submit -n 5000 -batch 1 -clients 4
    echo
    echo "Pending jobs (gbench pending): controller RSS and gqueue times"
    "$top/bin/gbench" pending -levels "${PENDING_LEVELS:-10000,100000}"
  } | tee -a "$out/gsched.txt"
  cd "$top"
  "$top/conf/bench/cluster.sh" stop
  trap - EXIT
  echo
  echo "Floors on this machine (floors.sh): the cheapest process and container"
  "$top/conf/bench/floors.sh" | tee -a "$out/gsched.txt"
}

case "$mode" in
  gsched) run_gsched ;;
  both)
    run_slurm
    run_gsched
    echo
    echo "== Side by side ($(date -u +%FT%TZ), $(nproc) cores; tables in var/bench/)"
    "$top/conf/bench/compare.sh" "$out/slurm.tsv" "$out/gsched.tsv" | tee "$out/compare.txt"
    ;;
  *) echo "usage: $0 gsched|both" >&2; exit 2 ;;
esac
