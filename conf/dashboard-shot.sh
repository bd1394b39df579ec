#!/usr/bin/env bash
# make dashboard-shot: a screenshot of the web dashboard of a small
# throw-away cluster (one node, four fake GPUs, a few jobs) under
# var/shot, taken with headless chromium; written to ${OUT:-var/dashboard.png}.
# It uses its own ports (16837, 16838), socket and cgroup, so `make run`'s cluster is
# left alone. Root (runc, mknod).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
dir=$top/var/shot
out=${OUT:-$top/var/dashboard.png}
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "dashboard-shot: no chromium (apt-get install chromium)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "dashboard-shot needs root (runc, cgroups, mknod)" >&2; exit 1; }

pids=()
cleanup() {
  # Jobs' containers outlive the node daemon (their supervisors do): end
  # them first, then the daemons, then the cgroups left behind.
  if [ ${#pids[@]} -ge 2 ]; then
    "$bin/gcancel" --user root >/dev/null 2>&1 || true
    for _ in $(seq 150); do [ -z "$("$bin/gqueue" -h 2>/dev/null)" ] && break; sleep 0.1; done
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  find /sys/fs/cgroup -depth -type d -path '*/gsched-shot*' -exec rmdir {} + 2>/dev/null || true
}
trap cleanup EXIT
rm -rf "$dir"
mkdir -p "$dir/dev" "$dir/jobs" "$dir/log"
chmod 755 "$top/var" "$dir" "$dir/jobs"
for i in 0 1 2 3; do mknod "$dir/dev/nvidia$i" c 195 $i; done
conf=$dir/gsched.conf
cat > "$conf" <<CONF
cluster_name = "demo"
log_level = "warn"
[controller]
socket = "ctld.sock"
listen = "127.0.0.1:16837"
user_listen = "127.0.0.1:16838"
state_dir = "ctld"
heartbeat_interval = "1s"
schedule_interval = "1s"
[auth]
key_file = "cluster.key"
[node]
name = "gpu01"
state_dir = "node"
cgroup_parent = "/gsched-shot"
gpu_discovery = "config"
cpus = 16
memory = "64G"
[[node.gpu]]
index = 0
model = "fake-H100"
memory = "80G"
device = "dev/nvidia0"
[[node.gpu]]
index = 1
minor = 1
model = "fake-H100"
memory = "80G"
device = "dev/nvidia1"
[[node.gpu]]
index = 2
minor = 2
model = "fake-H100"
memory = "80G"
device = "dev/nvidia2"
[[node.gpu]]
index = 3
minor = 3
model = "fake-H100"
memory = "80G"
device = "dev/nvidia3"
[[partition]]
name = "gpu"
default = true
max_time = "1-00:00:00"
[[account]]
name = "vision"
shares = 3
users = ["root"]
[[account]]
name = "nlp"
shares = 1
users = ["nobody"]
CONF
export GSCHED_CONF=$conf
"$bin/gctld" keygen >/dev/null
"$bin/gctld" >"$dir/log/gctld.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -s "$dir/ctld/user.addr" ] && "$bin/gqueue" >/dev/null 2>&1 && break; sleep 0.1; done
"$bin/gnoded" >"$dir/log/gnoded.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do "$bin/ginfo" -h 2>/dev/null | grep -q idle && break; sleep 0.1; done
addr=$(cat "$dir/ctld/user.addr")

cd "$dir/jobs"
"$bin/gsub" -J resnet50 --gpus=2 --mem=8G -c 4 -t 30:00 --wrap 'sleep 300' >/dev/null
"$bin/gsub" -J bert-ft --gpus=1 --mem=4G -c 2 -t 1:00:00 --wrap 'sleep 300' >/dev/null
"$bin/gsub" -J llm-pretrain --gpus=4 --mem=32G -c 8 -t 2:00:00 --wrap 'sleep 300' >/dev/null
"$bin/gsub" -J eval --hold --wrap 'true' >/dev/null
for _ in $(seq 100); do [ "$("$bin/gqueue" -h -t running | wc -l)" -ge 2 ] && break; sleep 0.1; done

link=$(curl -sf --unix-socket "$dir/ctld.sock" -X POST http://gsched/api/v1/login-links |
  sed -n 's/.*"path":"\([^"]*\)".*/\1/p')
[ -n "$link" ] || { echo "dashboard-shot: no login link" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$dir/chromium" \
  --window-size=1280,900 --virtual-time-budget=4000 --screenshot="$out" "http://$addr$link" 2>/dev/null
echo "wrote $out"
