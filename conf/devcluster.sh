#!/usr/bin/env bash
# A one-machine gsched cluster under ./var: used by `make run` / `make stop`.
#   start: write var/gsched.conf (once), create the cluster key, (re)start
#          gctld and gnoded in the background, run examples/hello.sh, show
#          the queue, the nodes and the job's output.
#   stop:  stop exactly the daemons recorded in var/*.pid.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
var=$top/var
bin=$top/bin
conf=$var/gsched.conf
export GSCHED_CONF=$conf

stop_one() { # name
  local pidf=$var/$1.pid
  [ -f "$pidf" ] || return 0
  local pid; pid=$(cat "$pidf")
  if kill -0 "$pid" 2>/dev/null && grep -q "$1" "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $1 (pid $pid)"
  fi
  rm -f "$pidf"
}

write_conf() {
  [ -f "$conf" ] && return 0
  mkdir -p "$var"
  cat > "$conf" <<CONF
# Written by 'make run' for a one-machine cluster; paths are relative to
# this file. See conf/gsched.conf.example for every key.
cluster_name = "dev"
log_level = "info"

[controller]
socket = "run/gctld.sock"
listen = "127.0.0.1:16817"
state_dir = "ctld"
heartbeat_interval = "2s"
node_timeout = "20s"
schedule_interval = "2s"
kill_wait = "10s"
# Prometheus /metrics on loopback only (unauthenticated: docs/SECURITY.md).
metrics_listen = "127.0.0.1:16818"
# Remote commands, the REST API and the web dashboard (docs/API.md), on
# loopback: http://127.0.0.1:16820/ui/
user_listen = "127.0.0.1:16820"

[auth]
key_file = "cluster.key"

[node]
state_dir = "node"
cgroup_parent = "/gsched-dev"
gpu_discovery = "auto"
metrics_listen = "127.0.0.1:16819"

[[partition]]
name = "main"
default = true
default_time = "1:00:00"
max_time = "7-00:00:00"
CONF
  echo "wrote $conf"
}

wait_for() { # what, command...
  local what=$1; shift
  for _ in $(seq 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for $what; see $var/log/" >&2
  return 1
}

start() {
  [ "$(id -u)" = 0 ] || { echo "make run needs root (runc, cgroups, running jobs as their users)" >&2; exit 1; }
  write_conf
  mkdir -p "$var/log" "$var/jobs"
  chmod 755 "$var" "$var/run" 2>/dev/null || true
  "$bin/gctld" keygen
  stop_one gnoded
  stop_one gctld
  setsid "$bin/gctld" >>"$var/log/gctld.log" 2>&1 < /dev/null &
  echo $! > "$var/gctld.pid"
  wait_for "the controller" "$bin/gqueue"
  setsid "$bin/gnoded" >>"$var/log/gnoded.log" 2>&1 < /dev/null &
  echo $! > "$var/gnoded.pid"
  wait_for "the node to register" sh -c "'$bin/ginfo' -h | grep -qv DOWN"
  echo "gctld (pid $(cat "$var/gctld.pid")) and gnoded (pid $(cat "$var/gnoded.pid")) are running; logs in var/log/"
  echo
  cd "$var/jobs"
  echo "\$ gsub --wait examples/hello.sh"
  id=$("$bin/gsub" --parsable --wait "$top/examples/hello.sh") || { echo "the example job failed (id ${id:-?})" >&2; }
  echo "Submitted batch job $id and waited for it"
  echo
  echo "\$ gqueue --states all -j $id"; "$bin/gqueue" --states all -j "$id"
  echo
  echo "\$ ginfo"; "$bin/ginfo"
  echo
  echo "\$ gacct -j $id"; "$bin/gacct" -j "$id"
  echo
  echo "--- var/jobs/gsched-$id.out ---"
  cat "$var/jobs/gsched-$id.out"
  echo "---"
  echo
  echo "Metrics: curl -s http://127.0.0.1:16818/metrics (controller), :16819 (node); docs/METRICS.md"
  if grep -q '^user_listen = "127.0.0.1:16820"' "$conf"; then
    echo "Dashboard: open the one-time link in"
    echo "  curl -s -X POST --unix-socket $var/run/gctld.sock http://gsched/api/v1/login-links"
    echo "or http://127.0.0.1:16820/ui/ with a token from gcontrol token; docs/API.md"
  fi
  echo "The cluster stays up. To use it from this shell:"
  echo "  export GSCHED_CONF=$conf PATH=$bin:\$PATH"
  echo "Stop it with: make stop"
}

case "${1:-}" in
  start) start ;;
  stop) stop_one gnoded; stop_one gctld ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
