#!/usr/bin/env bash
# A benchmark cluster shaped like the Slurm peer (../shared/peers/slurm):
# one gctld and NODES gnoded on loopback, each node declaring CPUS_PER_NODE
# CPUs, MEM_PER_NODE memory and GPUS_PER_NODE fake GPUs (char 195:N device
# files). State under $BENCH_DIR (default /var/tmp/gsched-bench, which job
# containers see: /tmp is private to them).
#   cluster.sh start | stop | env
# `env` prints the GSCHED_CONF/PATH exports for a shell.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/bin
dir=${BENCH_DIR:-/var/tmp/gsched-bench}
NODES=${NODES:-4}
CPUS_PER_NODE=${CPUS_PER_NODE:-64}
MEM_PER_NODE=${MEM_PER_NODE:-500G}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
conf=$dir/ctld.conf

node_name() { printf 'n%02d' "$1"; }

write_confs() {
  mkdir -p "$dir/log" "$dir/run"
  chmod 755 "$dir" "$dir/run"
  cat >"$conf" <<CONF
# Written by conf/bench/cluster.sh.
cluster_name = "bench"
log_level = "warn"
[controller]
socket = "run/gctld.sock"
listen = "127.0.0.1:17817"
state_dir = "ctld"
pid_file = "gctld.pid"
heartbeat_interval = "2s"
node_timeout = "30s"
schedule_interval = "2s"
kill_wait = "10s"
[auth]
key_file = "cluster.key"
[node]
cgroup_parent = "/gsched-bench"
[[partition]]
name = "main"
default = true
default_time = "1:00:00"
max_time = "7-00:00:00"
CONF
  for i in $(seq "$NODES"); do
    local n; n=$(node_name "$i")
    mkdir -p "$dir/dev-$n"
    {
      sed -n '1,/^\[node\]/p' "$conf" | sed '$d'
      cat <<CONF
[node]
name = "$n"
state_dir = "node-$n"
pid_file = "gnoded-$n.pid"
cgroup_parent = "/gsched-bench"
address = "127.0.0.1"
cpus = $CPUS_PER_NODE
memory = "$MEM_PER_NODE"
gpu_discovery = "config"
CONF
      for g in $(seq 0 $((GPUS_PER_NODE - 1))); do
        [ -e "$dir/dev-$n/nvidia$g" ] || mknod "$dir/dev-$n/nvidia$g" c 195 "$g"
        printf '[[node.gpu]]\nindex = %d\nminor = %d\nmodel = "fake-a100"\nmemory = "80G"\ndevice = "%s"\n' \
          "$g" "$g" "$dir/dev-$n/nvidia$g"
      done
      sed -n '/^\[\[partition\]\]/,$p' "$conf"
    } >"$dir/$n.conf"
  done
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_all() {
  for p in "$dir"/gnoded-*.pid "$dir/gctld.pid"; do
    [ -f "$p" ] || continue
    local pid; pid=$(cat "$p")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$p"
  done
}

start() {
  [ "$(id -u)" = 0 ] || { echo "cluster.sh needs root (runc, cgroups)" >&2; exit 1; }
  stop_all
  rm -rf "$dir/ctld" "$dir"/node-n*
  write_confs
  GSCHED_CONF=$conf "$bin/gctld" keygen
  GSCHED_CONF=$conf setsid "$bin/gctld" >>"$dir/log/gctld.log" 2>&1 </dev/null &
  for _ in $(seq 150); do GSCHED_CONF=$conf "$bin/gqueue" >/dev/null 2>&1 && break; sleep 0.1; done
  for i in $(seq "$NODES"); do
    local n; n=$(node_name "$i")
    GSCHED_CONF=$dir/$n.conf setsid "$bin/gnoded" >>"$dir/log/gnoded-$n.log" 2>&1 </dev/null &
  done
  for _ in $(seq 300); do
    [ "$(GSCHED_CONF=$conf "$bin/ginfo" -h -N 2>/dev/null | grep -ciw idle)" -ge "$NODES" ] && break
    sleep 0.1
  done
  GSCHED_CONF=$conf "$bin/ginfo" -N >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop_all ;;
  env) echo "export GSCHED_CONF=$conf PATH=$bin:\$PATH" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
