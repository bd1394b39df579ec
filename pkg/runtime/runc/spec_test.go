package runc

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/gsched/gsched/pkg/runtime"
)

func testParams() specParams {
	return specParams{
		Hostname:    "node1",
		Rootfs:      "/var/gsched/rootfs",
		HostMounts:  []specs.Mount{hostMount("/usr", true, "rro"), hostMount("/etc", true, "rro")},
		TaskDir:     "/var/gsched/tasks/t1",
		InitBinary:  "/usr/sbin/gnoded",
		CgroupsPath: "/gsched/n1/t1",
		NoFile:      4096,
	}
}

func testTask() runtime.TaskSpec {
	return runtime.TaskSpec{
		ID: "t1", JobID: 9, UID: 1000, GID: 1000, Groups: []uint32{44},
		Args: []string{"a", "b"}, Env: []string{"X=1"}, Cwd: "/home/u",
		Stdout: "/home/u/out", Stderr: "/home/u/err",
	}
}

func TestDeviceRules(t *testing.T) {
	i := func(n int64) *int64 { return &n }
	tests := []struct {
		name  string
		devs  []runtime.Device
		extra []specs.LinuxDeviceCgroup
	}{
		{name: "none"},
		{
			name: "two gpus",
			devs: []runtime.Device{
				{Path: "/dev/nvidia0", Type: 'c', Major: 195, Minor: 0},
				{Path: "/dev/nvidia3", Type: 'c', Major: 195, Minor: 3},
			},
			extra: []specs.LinuxDeviceCgroup{
				{Allow: true, Type: "c", Major: i(195), Minor: i(0), Access: "rw"},
				{Allow: true, Type: "c", Major: i(195), Minor: i(3), Access: "rw"},
			},
		},
		{
			name:  "block device",
			devs:  []runtime.Device{{Path: "/dev/sdz", Type: 'b', Major: 8, Minor: 16}},
			extra: []specs.LinuxDeviceCgroup{{Allow: true, Type: "b", Major: i(8), Minor: i(16), Access: "rw"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deviceRules(tt.devs)
			want := append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, defaultDeviceRules()...)
			want = append(want, tt.extra...)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("deviceRules = %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDefaultDeviceRulesCoverStandardNodes(t *testing.T) {
	allowed := map[[2]int64]bool{}
	for _, r := range defaultDeviceRules() {
		minor := int64(-1)
		if r.Minor != nil {
			minor = *r.Minor
		}
		if !r.Allow || r.Type != "c" || r.Access != "rwm" {
			t.Fatalf("unexpected default rule %+v", r)
		}
		allowed[[2]int64{*r.Major, minor}] = true
	}
	for _, n := range [][2]int64{{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}, {136, -1}} {
		if !allowed[n] {
			t.Errorf("device %d:%d not allowed by default", n[0], n[1])
		}
	}
}

func TestLinuxDevices(t *testing.T) {
	got, err := linuxDevices([]runtime.Device{{Path: "/dev/nvidia1", Type: 'c', Major: 195, Minor: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Path != "/dev/nvidia1" || got[0].Type != "c" || got[0].Major != 195 ||
		got[0].Minor != 1 || *got[0].FileMode != 0o666 || *got[0].UID != 0 {
		t.Fatalf("linuxDevices = %+v", got)
	}
	if _, err := linuxDevices([]runtime.Device{{Path: "nvidia1", Type: 'c', Major: 195}}); err == nil {
		t.Fatal("relative device path accepted")
	}
}

func TestResolveDevice(t *testing.T) {
	tests := []struct {
		name    string
		in      runtime.Device
		want    runtime.Device
		wantErr bool
	}{
		{
			name: "from host node",
			in:   runtime.Device{Path: "/dev/gpu0", HostPath: "/dev/null"},
			want: runtime.Device{Path: "/dev/gpu0", HostPath: "/dev/null", Type: 'c', Major: 1, Minor: 3},
		},
		{
			name: "host path defaults to path",
			in:   runtime.Device{Path: "/dev/zero"},
			want: runtime.Device{Path: "/dev/zero", HostPath: "/dev/zero", Type: 'c', Major: 1, Minor: 5},
		},
		{
			name: "given numbers win",
			in:   runtime.Device{Path: "/dev/nvidia0", HostPath: "/nonexistent", Major: 195},
			want: runtime.Device{Path: "/dev/nvidia0", HostPath: "/nonexistent", Type: 'c', Major: 195},
		},
		{name: "missing", in: runtime.Device{Path: "/dev/x", HostPath: "/nonexistent"}, wantErr: true},
		{name: "not a device", in: runtime.Device{Path: "/dev/x", HostPath: "/etc"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveDevice(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMountsOrder(t *testing.T) {
	ts := testTask()
	ts.WritableDirs = []string{"/scratch/u/run1", "/home/u", "/scratch/u", "/home/u/", "relative", "/"}
	ms := buildMounts(ts, testParams())
	var dsts []string
	for _, m := range ms {
		dsts = append(dsts, m.Destination)
	}
	want := []string{
		"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/tmp", "/run",
		"/usr", "/etc",
		"/home/u", "/scratch/u", "/scratch/u/run1",
		"/.gsched", "/.gsched-init",
	}
	if !slices.Equal(dsts, want) {
		t.Fatalf("mount order = %v\nwant %v", dsts, want)
	}
	byDst := map[string]specs.Mount{}
	for _, m := range ms {
		byDst[m.Destination] = m
	}
	tests := []struct {
		dst, source string
		opts        []string
	}{
		{"/tmp", "tmpfs", []string{"nosuid", "nodev", "mode=1777"}},
		{"/sys", "sysfs", []string{"nosuid", "noexec", "nodev", "ro"}},
		{"/usr", "/usr", []string{"rbind", "rro", "nosuid"}},
		{"/scratch/u", "/scratch/u", []string{"rbind", "rw", "nosuid"}},
		{"/.gsched", "/var/gsched/tasks/t1", []string{"bind", "ro", "nosuid", "nodev"}},
		{"/.gsched-init", "/usr/sbin/gnoded", []string{"bind", "ro", "nodev"}},
	}
	for _, tt := range tests {
		m := byDst[tt.dst]
		if m.Source != tt.source || !slices.Equal(m.Options, tt.opts) {
			t.Errorf("mount %s = %+v; want source %s options %v", tt.dst, m, tt.source, tt.opts)
		}
	}
}

func TestSortDirs(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"/a/b/c", "/a", "/a/b", "/b"}, []string{"/a", "/b", "/a/b", "/a/b/c"}},
		{[]string{"/a/", "/a", "a", "/"}, []string{"/a"}},
		{[]string{"/z/../y"}, []string{"/y"}},
	}
	for _, tt := range tests {
		if got := sortDirs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("sortDirs(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestResources(t *testing.T) {
	i64 := func(n int64) *int64 { return &n }
	u64 := func(n uint64) *uint64 { return &n }
	tests := []struct {
		name string
		ts   runtime.TaskSpec
		mem  *specs.LinuxMemory
		cpu  *specs.LinuxCPU
		pids *specs.LinuxPids
	}{
		{name: "unlimited"},
		{
			name: "memory without swap",
			ts:   runtime.TaskSpec{MemoryBytes: 64 << 20},
			mem:  &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(64 << 20)},
		},
		{
			name: "cpu quota",
			ts:   runtime.TaskSpec{CPUs: 1.5},
			cpu:  &specs.LinuxCPU{Quota: i64(150000), Period: u64(100000)},
		},
		{
			name: "cpuset only",
			ts:   runtime.TaskSpec{CPUSet: "0-3"},
			cpu:  &specs.LinuxCPU{Cpus: "0-3"},
		},
		{
			name: "everything",
			ts:   runtime.TaskSpec{CPUs: 2, CPUSet: "2,3", MemoryBytes: 1 << 30, PidsLimit: 512},
			mem:  &specs.LinuxMemory{Limit: i64(1 << 30), Swap: i64(1 << 30)},
			cpu:  &specs.LinuxCPU{Cpus: "2,3", Quota: i64(200000), Period: u64(100000)},
			pids: &specs.LinuxPids{Limit: i64(512)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := buildResources(tt.ts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Memory, tt.mem) || !reflect.DeepEqual(res.CPU, tt.cpu) || !reflect.DeepEqual(res.Pids, tt.pids) {
				t.Fatalf("resources = mem %+v cpu %+v pids %+v", res.Memory, res.CPU, res.Pids)
			}
			if len(res.Devices) == 0 || res.Devices[0].Allow || res.Devices[0].Access != "rwm" {
				t.Fatalf("device list does not start with deny-all: %+v", res.Devices)
			}
		})
	}
	if _, err := buildResources(runtime.TaskSpec{}, []runtime.Device{{Path: "/dev/x", Type: 'x'}}); err == nil {
		t.Fatal("bad device type accepted")
	}
}

func TestProcessAndUser(t *testing.T) {
	tests := []struct {
		name string
		uid  uint32
		caps []string
	}{
		{name: "user", uid: 1000, caps: []string{}},
		{name: "root", uid: 0, caps: []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := testTask()
			ts.UID = tt.uid
			s, err := buildSpec(ts, testParams())
			if err != nil {
				t.Fatal(err)
			}
			p := s.Process
			wantUser := specs.User{UID: tt.uid, GID: 1000, AdditionalGids: []uint32{44}}
			if !reflect.DeepEqual(p.User, wantUser) {
				t.Fatalf("user = %+v, want %+v", p.User, wantUser)
			}
			c := p.Capabilities
			if !slices.Equal(c.Bounding, tt.caps) || !slices.Equal(c.Effective, tt.caps) ||
				!slices.Equal(c.Permitted, tt.caps) || c.Ambient != nil || c.Inheritable != nil {
				t.Fatalf("capabilities = %+v, want %v", c, tt.caps)
			}
			if p.Terminal || !p.NoNewPrivileges || p.Cwd != "/" {
				t.Fatalf("process = %+v", p)
			}
			if len(p.Rlimits) != 1 || p.Rlimits[0].Type != "RLIMIT_NOFILE" || p.Rlimits[0].Soft != 4096 {
				t.Fatalf("rlimits = %+v", p.Rlimits)
			}
			wantArgs := []string{"/.gsched-init", "-cwd", "/home/u", "-stdout", "/home/u/out",
				"-stderr", "/home/u/err", "--", "/.gsched/script", "a", "b"}
			if !slices.Equal(p.Args, wantArgs) {
				t.Fatalf("args = %q, want %q", p.Args, wantArgs)
			}
			if !slices.Equal(p.Env, []string{"X=1"}) {
				t.Fatalf("env = %q", p.Env)
			}
		})
	}
}

func TestSpecLinux(t *testing.T) {
	ts := testTask()
	ts.Append = true
	s, err := buildSpec(ts, testParams())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s.Process.Args, "-append") {
		t.Fatalf("args %q lack -append", s.Process.Args)
	}
	if s.Root.Path != "/var/gsched/rootfs" || !s.Root.Readonly || s.Hostname != "node1" {
		t.Fatalf("root %+v hostname %q", s.Root, s.Hostname)
	}
	var ns []specs.LinuxNamespaceType
	for _, n := range s.Linux.Namespaces {
		ns = append(ns, n.Type)
	}
	want := []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace}
	if !slices.Equal(ns, want) {
		t.Fatalf("namespaces = %v, want %v (no network, no user)", ns, want)
	}
	if s.Linux.CgroupsPath != "/gsched/n1/t1" || len(s.Linux.MaskedPaths) == 0 || len(s.Linux.ReadonlyPaths) == 0 {
		t.Fatalf("linux = %+v", s.Linux)
	}
	bad := []struct {
		name string
		mod  func(*runtime.TaskSpec, *specParams)
	}{
		{"relative cwd", func(ts *runtime.TaskSpec, _ *specParams) { ts.Cwd = "home" }},
		{"relative cgroup", func(_ *runtime.TaskSpec, p *specParams) { p.CgroupsPath = "gsched/t1" }},
		{"negative memory", func(ts *runtime.TaskSpec, _ *specParams) { ts.MemoryBytes = -1 }},
	}
	for _, b := range bad {
		ts, p := testTask(), testParams()
		b.mod(&ts, &p)
		if _, err := buildSpec(ts, p); err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
}

func TestParseOOMKill(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", 3, false},                // v1 memory.oom_control
		{"low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n", 1, false}, // v2 memory.events
		{"oom_kill_disable 0\n", 0, true},
		{"oom_kill x\n", 0, true},
	}
	for _, tt := range tests {
		got, err := parseOOMKill([]byte(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseOOMKill(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestOOMKillCountFiles(t *testing.T) {
	v1 := t.TempDir()
	if err := os.MkdirAll(filepath.Join(v1, "memory", "gs", "t1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v1, "memory", "gs", "t1", "memory.oom_control"), []byte("oom_kill 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := oomKillCount(v1, "/gs/t1"); err != nil || n != 2 {
		t.Fatalf("v1: %d, %v", n, err)
	}
	v2 := t.TempDir()
	if err := os.MkdirAll(filepath.Join(v2, "gs", "t1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"cgroup.controllers": "memory pids\n", "gs/t1/memory.events": "oom 1\noom_kill 1\n"} {
		if err := os.WriteFile(filepath.Join(v2, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := oomKillCount(v2, "/gs/t1"); err != nil || n != 1 {
		t.Fatalf("v2: %d, %v", n, err)
	}
}

func TestBuildSkeleton(t *testing.T) {
	host := t.TempDir()
	for _, d := range []string{"usr/bin", "etc", "proc", "sys", "dev", "tmp", "run", "lost+found", "work"} {
		if err := os.MkdirAll(filepath.Join(host, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("usr/bin", filepath.Join(host, "bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "info.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "rootfs")
	var mounts []specs.Mount
	for range 2 { // idempotent
		var err error
		if mounts, err = buildSkeleton(host, dir, "rro"); err != nil {
			t.Fatal(err)
		}
	}
	var dsts []string
	for _, m := range mounts {
		dsts = append(dsts, m.Destination+" "+strings.Join(m.Options, ","))
	}
	want := []string{"/etc rbind,rro,nosuid", "/info.json bind,ro,nosuid", "/usr rbind,rro,nosuid", "/work rbind,rro,nosuid"}
	if !slices.Equal(dsts, want) {
		t.Fatalf("mounts = %q, want %q", dsts, want)
	}
	if l, err := os.Readlink(filepath.Join(dir, "bin")); err != nil || l != "usr/bin" {
		t.Fatalf("bin symlink = %q, %v", l, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "tmp"))
	if err != nil || fi.Mode().Perm() != 0o777 || fi.Mode()&os.ModeSticky == 0 {
		t.Fatalf("tmp = %v, %v; want 1777", fi.Mode(), err)
	}
	for _, name := range []string{"proc", "sys", "dev", "run", ".gsched", ".gsched-init", "etc", "usr", "work", "info.json"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("skeleton lacks %s: %v", name, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "lost+found")); err == nil {
		t.Error("skeleton has lost+found")
	}
}
