#!/bin/sh
# Sample node health check for gsched (node.health_check_program).
#
# gnoded runs it as root when it starts (before the node joins) and every
# node.health_check_interval, with node.health_check_timeout to finish.
# Exit 0 = healthy. Any other exit, or running past the timeout, drains the
# node with "health: <the first line this prints>"; the node returns to
# service by itself once a later run exits 0 (unless an operator drained it).
# gnoded's built-in checks (NVML reachable, GPU count, ECC, XID) run as well.
#
# Checks, each skipped when its tool is missing:
#   1. free space where gnoded keeps its state and in /tmp
#   2. nvidia-smi answers and lists HC_EXPECTED_GPUS GPUs (when set)
#   3. a CUDA self-test: per GPU, create a context, allocate, set and free
#      16 MiB through the driver API (libcuda via python3's ctypes: no
#      compiler, no toolkit), or the program named by HC_CUDA_SELFTEST.
# Tunables (environment or edit here): HC_MIN_FREE_MB (default 1024),
# HC_STATE_DIR (/var/lib/gsched/node), HC_EXPECTED_GPUS, HC_CUDA_SELFTEST.
set -u

HC_MIN_FREE_MB=${HC_MIN_FREE_MB:-1024}
HC_STATE_DIR=${HC_STATE_DIR:-/var/lib/gsched/node}

fail() { echo "$*"; exit 1; }

# 1. Disk space.
for d in "$HC_STATE_DIR" /tmp; do
	[ -d "$d" ] || continue
	free=$(df -Pm "$d" 2>/dev/null | awk 'NR==2 {print $4}')
	[ -n "$free" ] || continue
	[ "$free" -ge "$HC_MIN_FREE_MB" ] || fail "only ${free} MiB free in $d (want ${HC_MIN_FREE_MB})"
done

# 2. nvidia-smi.
if command -v nvidia-smi >/dev/null 2>&1; then
	out=$(timeout 30 nvidia-smi --query-gpu=index --format=csv,noheader 2>&1) || fail "nvidia-smi failed: $(echo "$out" | head -n1)"
	n=$(echo "$out" | grep -c '^[0-9]')
	if [ -n "${HC_EXPECTED_GPUS:-}" ] && [ "$n" -ne "$HC_EXPECTED_GPUS" ]; then
		fail "nvidia-smi lists $n GPUs, expected $HC_EXPECTED_GPUS"
	fi
fi

# 3. CUDA self-test.
if [ -n "${HC_CUDA_SELFTEST:-}" ]; then
	out=$("$HC_CUDA_SELFTEST" 2>&1) || fail "CUDA self-test failed: $(echo "$out" | head -n1)"
elif command -v python3 >/dev/null 2>&1 && { ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; }; then
	out=$(python3 - 2>&1 <<'PY'
import ctypes, sys
cuda = ctypes.CDLL("libcuda.so.1")
def check(what, r):
    if r != 0:
        print("CUDA self-test: %s returned %d" % (what, r))
        sys.exit(1)
check("cuInit", cuda.cuInit(0))
n = ctypes.c_int()
check("cuDeviceGetCount", cuda.cuDeviceGetCount(ctypes.byref(n)))
size = 16 << 20
for i in range(n.value):
    dev, ctx, ptr = ctypes.c_int(), ctypes.c_void_p(), ctypes.c_uint64()
    check("cuDeviceGet(%d)" % i, cuda.cuDeviceGet(ctypes.byref(dev), i))
    check("cuCtxCreate on GPU %d" % i, cuda.cuCtxCreate_v2(ctypes.byref(ctx), 0, dev))
    check("cuMemAlloc on GPU %d" % i, cuda.cuMemAlloc_v2(ctypes.byref(ptr), ctypes.c_size_t(size)))
    check("cuMemsetD8 on GPU %d" % i, cuda.cuMemsetD8_v2(ptr, ctypes.c_ubyte(0x5a), ctypes.c_size_t(size)))
    check("cuCtxSynchronize on GPU %d" % i, cuda.cuCtxSynchronize())
    check("cuMemFree on GPU %d" % i, cuda.cuMemFree_v2(ptr))
    check("cuCtxDestroy on GPU %d" % i, cuda.cuCtxDestroy_v2(ctx))
PY
) || fail "$(echo "$out" | head -n1)"
fi
exit 0
