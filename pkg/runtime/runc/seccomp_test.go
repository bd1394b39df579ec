package runc

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// allowed reports whether the profile allows name without conditions on
// its arguments.
func allowed(p *specs.LinuxSeccomp, name string) bool {
	for _, r := range p.Syscalls {
		if r.Action == specs.ActAllow && len(r.Args) == 0 && slices.Contains(r.Names, name) {
			return true
		}
	}
	return false
}

func TestSeccompProfileOnlyWhenSupported(t *testing.T) {
	for _, uid := range []uint32{1000, 0} {
		ts := testTask()
		ts.UID = uid
		p := testParams()
		s, err := buildSpec(ts, p)
		if err != nil {
			t.Fatal(err)
		}
		if s.Linux.Seccomp != nil {
			t.Fatalf("uid %d: seccomp profile without runc support: runc would refuse the spec", uid)
		}
		p.Seccomp = true
		if s, err = buildSpec(ts, p); err != nil {
			t.Fatal(err)
		}
		sc := s.Linux.Seccomp
		if sc == nil {
			t.Fatalf("uid %d: no seccomp profile", uid)
		}
		if sc.DefaultAction != specs.ActErrno || sc.DefaultErrnoRet == nil || *sc.DefaultErrnoRet != 1 {
			t.Fatalf("uid %d: default action %s errno %v, want ERRNO EPERM", uid, sc.DefaultAction, sc.DefaultErrnoRet)
		}
		if len(sc.Architectures) == 0 {
			t.Fatalf("uid %d: no architectures: other ABIs would bypass the filter", uid)
		}
		for _, name := range []string{"read", "write", "execve", "fork", "wait4", "kill", "prctl", "connect"} {
			if !allowed(sc, name) {
				t.Errorf("uid %d: %s not allowed: jobs need it", uid, name)
			}
		}
		// clone and socket are allowed with conditions on their arguments
		// (no namespace flags; no AF_VSOCK...).
		for _, name := range []string{"clone", "socket"} {
			if !slices.ContainsFunc(sc.Syscalls, func(r specs.LinuxSyscall) bool {
				return r.Action == specs.ActAllow && slices.Contains(r.Names, name)
			}) {
				t.Errorf("uid %d: %s never allowed: jobs need it", uid, name)
			}
		}
		// None of these is allowed for either: a root job keeps only
		// CAP_AUDIT_WRITE, CAP_KILL and CAP_NET_BIND_SERVICE.
		for _, name := range []string{"mount", "umount2", "unshare", "setns", "pivot_root", "kexec_load",
			"init_module", "finit_module", "delete_module", "bpf", "reboot", "swapon", "keyctl", "add_key",
			"request_key", "open_by_handle_at", "perf_event_open", "clock_settime", "settimeofday"} {
			if allowed(sc, name) {
				t.Errorf("uid %d: %s allowed", uid, name)
			}
		}
	}
}

func TestParseFeatures(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  SeccompSupport
		known bool
	}{
		{
			name:  "runc with seccomp",
			in:    `{"linux":{"namespaces":["pid"],"seccomp":{"enabled":true,"actions":["SCMP_ACT_ERRNO"]}},"annotations":{"io.github.seccomp.libseccomp.version":"2.5.4"}}`,
			want:  SeccompSupport{Enabled: true, Libseccomp: "2.5.4"},
			known: true,
		},
		{name: "says disabled", in: `{"linux":{"namespaces":["pid"],"seccomp":{"enabled":false}}}`, known: true},
		{name: "runc without seccomp leaves it out", in: `{"linux":{"namespaces":["pid","mount"]}}`, known: true},
		{name: "no linux section", in: `{"ociVersionMax":"1.1.0"}`},
		{name: "enabled unknown", in: `{"linux":{"namespaces":["pid"],"seccomp":{}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, known, err := parseFeatures([]byte(tt.in))
			if err != nil || got != tt.want || known != tt.known {
				t.Fatalf("parseFeatures = %+v, %v, %v; want %+v, %v", got, known, err, tt.want, tt.known)
			}
		})
	}
	if _, _, err := parseFeatures([]byte("runc: unknown command")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestParseVersion(t *testing.T) {
	debian := "runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n"
	if got := parseVersion(debian); got != (SeccompSupport{Enabled: true, Libseccomp: "2.5.4"}) {
		t.Fatalf("Debian runc: %+v", got)
	}
	plain := "runc version 1.5.2\nspec: 1.3.0\ngo: go1.26.8\n"
	if got := parseVersion(plain); got.Enabled {
		t.Fatalf("runc without libseccomp: %+v", got)
	}
}

// ProbeSeccomp falls back to --version when `runc features` fails.
func TestProbeSeccompFallsBackToVersion(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "runc")
	script := "#!/bin/sh\ncase \"$1\" in\n--version) printf 'runc version 1.0.0\\nlibseccomp: 2.5.1\\n';;\n*) echo \"No help topic for '$1'\" >&2; exit 1;;\nesac\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := ProbeSeccomp(context.Background(), fake)
	if err != nil || got != (SeccompSupport{Enabled: true, Libseccomp: "2.5.1"}) {
		t.Fatalf("ProbeSeccomp = %+v, %v", got, err)
	}
	if _, err := ProbeSeccomp(context.Background(), filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing runc gave no error")
	}
}
