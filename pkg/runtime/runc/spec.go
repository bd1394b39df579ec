package runc

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/runtime"
)

// Paths inside the container.
const (
	// initPath is where the host binary is bind-mounted read-only; Main
	// dispatches on its base name (".gsched-init").
	initPath = "/.gsched-init"
	// taskMount is where the task directory (holding the script) is
	// bind-mounted read-only.
	taskMount = "/.gsched"
	// scriptPath is the job script inside the container.
	scriptPath = taskMount + "/" + scriptFile
)

// cpuPeriod is the CFS period used for CPU quotas (100 ms).
const cpuPeriod = 100000

// specParams is what buildSpec needs beyond the TaskSpec; every field is
// resolved by the caller so that buildSpec stays a pure function.
type specParams struct {
	Hostname    string
	Rootfs      string        // skeleton rootfs (root.path)
	HostMounts  []specs.Mount // read-only binds of the host tree
	TaskDir     string        // host task dir, bound at /.gsched
	InitBinary  string        // host binary, bound at /.gsched-init
	CgroupsPath string        // absolute cgroup path
	Devices     []runtime.Device
	NoFile      uint64 // RLIMIT_NOFILE (soft = hard)
	// Seccomp adds the default seccomp profile (runc must support it).
	Seccomp bool
	// Writable makes the root filesystem writable (an image task's
	// overlay, whose writes go to the task's own upper dir).
	Writable bool
}

// buildSpec returns the OCI spec for one task. Devices in p must already
// be resolved (Type, Major and Minor set).
func buildSpec(ts runtime.TaskSpec, p specParams) (*specs.Spec, error) {
	if !filepath.IsAbs(ts.Cwd) {
		return nil, fmt.Errorf("cwd %q is not absolute", ts.Cwd)
	}
	if !strings.HasPrefix(p.CgroupsPath, "/") {
		return nil, fmt.Errorf("cgroups path %q is not absolute", p.CgroupsPath)
	}
	if ts.CPUs < 0 || ts.MemoryBytes < 0 || ts.PidsLimit < 0 {
		return nil, errors.New("negative resource limit")
	}
	res, err := buildResources(ts, p.Devices)
	if err != nil {
		return nil, err
	}
	devs, err := linuxDevices(p.Devices)
	if err != nil {
		return nil, err
	}
	s := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: p.Rootfs, Readonly: !p.Writable},
		Process: &specs.Process{
			Terminal: false,
			User:     specs.User{UID: ts.UID, GID: ts.GID, AdditionalGids: append([]uint32(nil), ts.Groups...)},
			Args:     initArgs(ts),
			Env:      append([]string(nil), ts.Env...),
			// The init changes to ts.Cwd as the user: runc would mkdir a
			// missing cwd inside the (shared) skeleton rootfs as root.
			Cwd:             "/",
			Capabilities:    capabilities(ts.UID),
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: p.NoFile, Soft: p.NoFile}},
			NoNewPrivileges: true,
		},
		Hostname: p.Hostname,
		Mounts:   buildMounts(ts, p),
		Linux: &specs.Linux{
			Resources:   res,
			CgroupsPath: p.CgroupsPath,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
			},
			Devices:       devs,
			MaskedPaths:   maskedPaths(),
			ReadonlyPaths: readonlyPaths(),
		},
	}
	if p.Seccomp {
		if s.Linux.Seccomp, err = seccompProfile(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// initArgs is the container's argv: the in-container init, its flags (the
// working directory and the output files, which it handles as the user),
// then the script and its arguments.
func initArgs(ts runtime.TaskSpec) []string {
	args := []string{initPath, "-cwd", ts.Cwd, "-stdout", ts.Stdout, "-stderr", ts.Stderr}
	if ts.Append {
		args = append(args, "-append")
	}
	args = append(args, "--", scriptPath)
	return append(args, ts.Args...)
}

// capabilities are empty for a user and runc's default set for root.
func capabilities(uid uint32) *specs.LinuxCapabilities {
	if uid != 0 {
		return &specs.LinuxCapabilities{
			Bounding: []string{}, Effective: []string{}, Permitted: []string{},
		}
	}
	set := func() []string { return []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"} }
	return &specs.LinuxCapabilities{Bounding: set(), Effective: set(), Permitted: set()}
}

// buildMounts returns the mounts in the order runc must apply them: the
// pseudo filesystems, the read-only host tree, the writable dirs (parents
// before children), then the task dir and the init binary.
func buildMounts(ts runtime.TaskSpec, p specParams) []specs.Mount {
	ms := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}},
		{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=755"}},
	}
	ms = append(ms, p.HostMounts...)
	for _, d := range sortDirs(ts.WritableDirs) {
		ms = append(ms, specs.Mount{Destination: d, Type: "bind", Source: d, Options: []string{"rbind", "rw", "nosuid"}})
	}
	ms = append(ms,
		specs.Mount{Destination: taskMount, Type: "bind", Source: p.TaskDir, Options: []string{"bind", "ro", "nosuid", "nodev"}},
		specs.Mount{Destination: initPath, Type: "bind", Source: p.InitBinary, Options: []string{"bind", "ro", "nodev"}},
	)
	return ms
}

// sortDirs cleans, de-duplicates and sorts dirs so that a parent comes
// before its children. Relative paths are dropped.
func sortDirs(dirs []string) []string {
	seen := make(map[string]bool, len(dirs))
	var out []string
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			continue
		}
		d = filepath.Clean(d)
		if d == "/" || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	// Sorting by path depth, then name, puts parents before children.
	sort.Slice(out, func(i, j int) bool {
		di, dj := strings.Count(out[i], "/"), strings.Count(out[j], "/")
		if di != dj {
			return di < dj
		}
		return out[i] < out[j]
	})
	return out
}

// hostMount is the read-only recursive bind of one top-level host dir or
// file into the skeleton rootfs.
func hostMount(path string, isDir bool, readOnlyOpt string) specs.Mount {
	bind := "bind"
	if isDir {
		bind = "rbind"
	}
	return specs.Mount{Destination: path, Type: "bind", Source: path, Options: []string{bind, readOnlyOpt, "nosuid"}}
}

// buildResources returns the cgroup limits: memory (no swap), CPU quota,
// cpuset, pids and the device allow-list.
func buildResources(ts runtime.TaskSpec, devs []runtime.Device) (*specs.LinuxResources, error) {
	res := &specs.LinuxResources{Devices: deviceRules(devs)}
	if ts.MemoryBytes > 0 {
		m := ts.MemoryBytes
		swap := m
		res.Memory = &specs.LinuxMemory{Limit: &m, Swap: &swap}
	}
	if ts.CPUs > 0 || ts.CPUSet != "" {
		res.CPU = &specs.LinuxCPU{Cpus: ts.CPUSet}
		if ts.CPUs > 0 {
			q := int64(math.Ceil(ts.CPUs * cpuPeriod))
			per := uint64(cpuPeriod)
			res.CPU.Quota = &q
			res.CPU.Period = &per
		}
	}
	if ts.PidsLimit > 0 {
		n := ts.PidsLimit
		res.Pids = &specs.LinuxPids{Limit: &n}
	}
	for _, d := range devs {
		if d.Type != 'c' && d.Type != 'b' {
			return nil, fmt.Errorf("device %s: type %q is not c or b", d.Path, d.Type)
		}
	}
	return res, nil
}

// defaultDeviceRules are the nodes every container may use (runc's default
// spec): null, zero, full, random, urandom, tty, console, ptmx and ptys.
func defaultDeviceRules() []specs.LinuxDeviceCgroup {
	i := func(n int64) *int64 { return &n }
	return []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"},  // null
		{Allow: true, Type: "c", Major: i(1), Minor: i(5), Access: "rwm"},  // zero
		{Allow: true, Type: "c", Major: i(1), Minor: i(7), Access: "rwm"},  // full
		{Allow: true, Type: "c", Major: i(1), Minor: i(8), Access: "rwm"},  // random
		{Allow: true, Type: "c", Major: i(1), Minor: i(9), Access: "rwm"},  // urandom
		{Allow: true, Type: "c", Major: i(5), Minor: i(0), Access: "rwm"},  // tty
		{Allow: true, Type: "c", Major: i(5), Minor: i(1), Access: "rwm"},  // console
		{Allow: true, Type: "c", Major: i(5), Minor: i(2), Access: "rwm"},  // ptmx
		{Allow: true, Type: "c", Major: i(136), Minor: nil, Access: "rwm"}, // /dev/pts/*
	}
}

// deviceRules is deny-all, then the defaults, then "rw" for each device.
func deviceRules(devs []runtime.Device) []specs.LinuxDeviceCgroup {
	rules := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	rules = append(rules, defaultDeviceRules()...)
	for _, d := range devs {
		maj, min := d.Major, d.Minor
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: string(d.Type), Major: &maj, Minor: &min, Access: "rw"})
	}
	return rules
}

// linuxDevices makes each device node exist in the container (mode 0666,
// owned by root).
func linuxDevices(devs []runtime.Device) ([]specs.LinuxDevice, error) {
	var out []specs.LinuxDevice
	for _, d := range devs {
		if !filepath.IsAbs(d.Path) {
			return nil, fmt.Errorf("device path %q is not absolute", d.Path)
		}
		mode := os.FileMode(0o666)
		var uid, gid uint32
		out = append(out, specs.LinuxDevice{
			Path: d.Path, Type: string(d.Type), Major: d.Major, Minor: d.Minor,
			FileMode: &mode, UID: &uid, GID: &gid,
		})
	}
	return out, nil
}

// resolveDevice fills in Type, Major and Minor from HostPath when Major is
// 0 (and HostPath defaults to Path).
func resolveDevice(d runtime.Device) (runtime.Device, error) {
	if d.HostPath == "" {
		d.HostPath = d.Path
	}
	if d.Major != 0 {
		if d.Type == 0 {
			d.Type = 'c'
		}
		return d, nil
	}
	var st unix.Stat_t
	if err := unix.Stat(d.HostPath, &st); err != nil {
		return d, fmt.Errorf("device %s: %w", d.HostPath, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		d.Type = 'c'
	case unix.S_IFBLK:
		d.Type = 'b'
	default:
		return d, fmt.Errorf("device %s: not a device node", d.HostPath)
	}
	d.Major = int64(unix.Major(st.Rdev))
	d.Minor = int64(unix.Minor(st.Rdev))
	return d, nil
}

func maskedPaths() []string {
	return []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
		"/proc/scsi", "/sys/devices/virtual/powercap",
	}
}

func readonlyPaths() []string {
	return []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
}
