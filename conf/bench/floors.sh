#!/usr/bin/env bash
# floors.sh: what the cheapest possible submission command and the
# cheapest possible runc container cost on this machine, measured the way
# bench.sh measures gsched and Slurm (a shell loop; wall and the CPU of
# every process the loop started). These are the floors under two of
# issue 8's targets (docs/BENCHMARKS.md, "Floors"):
#   - a Go program that does nothing: no Go CLI can start faster;
#   - `runc run` of /bin/true in a static busybox root file system with no
#     seccomp filter and the host's network: create, start, wait and
#     delete in one runc process, as little as a container can be; then
#     the same with the configuration `runc spec` writes (its mounts,
#     masked paths and capabilities; the host's network), closer to what
#     any real container has. A gsched job has more still: its limits,
#     the host's root bound read-only, the seccomp filter.
# Needs root, bin/runc and bin/gsub (make build), busybox-static, go and
# python3 (to edit runc's JSON).
# Knobs: N (runs of each, default 200).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-200}
tmp=$(mktemp -d /tmp/gsched-floors.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
TIMEFORMAT='%R %U %S'

# measure NAME CMD...: N runs of CMD; wall and CPU (user+sys) per run.
measure() {
  local name=$1 t
  shift
  t=$({ time (for ((i = 0; i < N; i++)); do "$@" >/dev/null; done); } 2>&1)
  awk -v n="$N" -v name="$name" '{printf "%-46s wall %6.2f ms   CPU %6.2f ms   (per run, %d runs)\n", name, $1*1000/n, ($2+$3)*1000/n, n}' <<<"$t"
}

measure "/bin/true" /bin/true

mkdir -p "$tmp/hello"
printf 'package main\n\nfunc main() {}\n' >"$tmp/hello/main.go"
printf 'module hello\n\ngo 1.22\n' >"$tmp/hello/go.mod"
(cd "$tmp/hello" && GOFLAGS= go build -o hello .)
measure "Go program that does nothing" "$tmp/hello/hello"
measure "gsub --help" "$top/bin/gsub" --help

# The smallest container: busybox, read-only root, no seccomp, no network
# namespace (gsched's jobs share the host's network too).
b=$tmp/bundle
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys"
cp "$(command -v busybox)" "$b/rootfs/bin/busybox"
cat >"$b/config.json" <<'EOF'
{
  "ociVersion": "1.0.2",
  "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/bin/busybox", "true"],
              "env": ["PATH=/bin"], "cwd": "/", "noNewPrivileges": true},
  "root": {"path": "rootfs", "readonly": true},
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]}
}
EOF
runc=$top/bin/runc
k=0
runc_true() { k=$((k + 1)); "$runc" --root "$tmp/state" run --bundle "$b" "floor-$$-$k"; }
runc_true # warm up (and fail early)
measure "runc run (create, start, wait, delete)" runc_true

rm "$b/config.json"
"$runc" spec --bundle "$b"
python3 - "$b/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/busybox", "true"]
c["root"] = {"path": "rootfs", "readonly": True}
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
json.dump(c, open(p, "w"))
EOF
runc_true
measure "runc run, with runc spec's configuration" runc_true
