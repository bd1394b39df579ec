package runc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where the cgroup filesystems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgroupV2 reports whether the host runs the unified (v2) hierarchy only.
// Hybrid hosts (v1 controllers, v2 at /sys/fs/cgroup/unified) are v1 here:
// the memory controller, which holds the OOM counter, is v1.
func cgroupV2(root string) bool {
	_, err := os.Stat(filepath.Join(root, "cgroup.controllers"))
	return err == nil
}

// oomKillCount reads how many processes the kernel OOM-killed in the
// memory cgroup at path (absolute, as in linux.cgroupsPath). It must be read
// before the container is deleted with its cgroup.
func oomKillCount(root, path string) (int64, error) {
	var file string
	if cgroupV2(root) {
		file = filepath.Join(root, path, "memory.events")
	} else {
		file = filepath.Join(root, "memory", path, "memory.oom_control")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("oom count: %w", err)
	}
	return parseOOMKill(b)
}

// memoryPeak reads the peak memory usage of the memory cgroup at path:
// memory.max_usage_in_bytes (v1) or memory.peak (v2, Linux 5.19 on). Like
// the OOM count, it must be read before the container is deleted.
func memoryPeak(root, path string) (int64, error) {
	file := filepath.Join(root, "memory", path, "memory.max_usage_in_bytes")
	if cgroupV2(root) {
		file = filepath.Join(root, path, "memory.peak")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("memory peak: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory peak: %w", err)
	}
	return n, nil
}

// parseOOMKill finds the "oom_kill N" line of memory.oom_control (v1) or
// memory.events (v2).
func parseOOMKill(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) == 2 && string(f[0]) == "oom_kill" {
			n, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("oom count: %w", err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("oom count: no oom_kill line")
}

// signalCgroup sends sig to every process in the cgroup at path.
func signalCgroup(root, path string, sig unix.Signal) error {
	file := filepath.Join(root, path, "cgroup.procs")
	if !cgroupV2(root) {
		file = filepath.Join(root, "pids", path, "cgroup.procs")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("signal cgroup: %w", err)
	}
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal cgroup: pid %d: %w", pid, err)
		}
	}
	return nil
}

// CgroupsUsable reports whether this host can run containers with
// resource limits: the memory, cpu, pids and devices controllers (v1) or
// a writable unified hierarchy (v2). Tests use it to decide whether to skip.
func CgroupsUsable() error {
	if cgroupV2(cgroupRoot) {
		return nil
	}
	for _, c := range []string{"memory", "cpu", "pids", "devices"} {
		if _, err := os.Stat(filepath.Join(cgroupRoot, c, "cgroup.procs")); err != nil {
			return fmt.Errorf("cgroup v1 %s controller: %w", c, err)
		}
	}
	return nil
}
