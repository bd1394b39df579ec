// Package conf holds the tests of what `make install` lays out and of the
// systemd units in this directory (docs/DEPLOY.md); it has no code.
package conf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `make install DESTDIR=... PREFIX=...` lays out binaries (runc off
// $PATH), man pages, units pointing at the installed daemons, completion,
// the sample health check and examples, and an example configuration and
// logrotate file that never overwrite the site's own.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every binary")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	dest := t.TempDir()
	const prefix, sysconf = "/opt/gsched", "/etc"
	// The site's own configuration is already there.
	if err := os.MkdirAll(filepath.Join(dest, "etc/gsched"), 0o755); err != nil {
		t.Fatal(err)
	}
	mine := "# the site's own\n"
	if err := os.WriteFile(filepath.Join(dest, "etc/gsched/gsched.conf"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "install", "DESTDIR="+dest, "PREFIX="+prefix, "SYSCONFDIR="+sysconf)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	root := filepath.Join(dest, prefix)
	files := []struct {
		path string
		mode os.FileMode
	}{
		{"sbin/gctld", 0o755}, {"sbin/gnoded", 0o755}, {"libexec/gsched/runc", 0o755}, {"libexec/gsched/gsched-init", 0o755},
		{"bin/gsub", 0o755}, {"bin/gqueue", 0o755}, {"bin/gcancel", 0o755}, {"bin/ginfo", 0o755},
		{"bin/gacct", 0o755}, {"bin/gcontrol", 0o755}, {"bin/grun", 0o755}, {"bin/gshare", 0o755},
		{"bin/ghostnames", 0o755}, {"bin/gsim", 0o755},
		{"share/man/man1/gsub.1", 0o644}, {"share/man/man1/ginfo.1", 0o644}, {"share/man/man5/gsched.conf.5", 0o644},
		{"share/man/man8/gctld.8", 0o644}, {"share/man/man8/gnoded.8", 0o644},
		{"lib/systemd/system/gctld.service", 0o644}, {"lib/systemd/system/gnoded.service", 0o644},
		{"share/bash-completion/completions/gsched", 0o644}, {"share/zsh/site-functions/_gsched", 0o644},
		{"share/gsched/healthcheck.sh", 0o755},
		{"share/gsched/examples/single-controller/gsched.conf", 0o644},
		{"share/gsched/examples/ha-3-controllers/gsched.conf", 0o644},
		{"share/gsched/examples/gsched.conf.example", 0o644},
	}
	for _, f := range files {
		st, err := os.Stat(filepath.Join(root, f.path))
		if err != nil {
			t.Errorf("missing %s: %v", f.path, err)
			continue
		}
		if st.Mode().Perm() != f.mode || !st.Mode().IsRegular() {
			t.Errorf("%s: mode %v, want %v", f.path, st.Mode(), f.mode)
		}
	}
	// runc must not shadow the host's: nothing named runc on $PATH dirs.
	for _, d := range []string{"bin", "sbin"} {
		if _, err := os.Stat(filepath.Join(root, d, "runc")); err == nil {
			t.Errorf("runc installed in %s", d)
		}
	}
	if l, err := os.Readlink(filepath.Join(root, "share/bash-completion/completions/gsub")); err != nil || l != "gsched" {
		t.Errorf("bash completion for gsub: %q %v", l, err)
	}
	for _, u := range []string{"gctld", "gnoded"} {
		b, err := os.ReadFile(filepath.Join(root, "lib/systemd/system", u+".service"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "ExecStart=" + prefix + "/sbin/" + u + " --config " + sysconf + "/gsched/gsched.conf\n"; !strings.Contains(string(b), want) {
			t.Errorf("%s.service does not start the installed daemon (%q)", u, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dest, "etc/gsched/gsched.conf")); err != nil || string(b) != mine {
		t.Errorf("the site's configuration was replaced: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dest, "etc/logrotate.d/gsched")); err != nil {
		t.Errorf("no logrotate file: %v", err)
	}
}

// The units keep jobs alive across a gnoded restart and do not sandbox
// gnoded (runc needs the host's mount namespace, devices and cgroups).
func TestUnits(t *testing.T) {
	read := func(name string) map[string]string {
		b, err := os.ReadFile(filepath.Join(".", name))
		if err != nil {
			t.Fatal(err)
		}
		kv := map[string]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
				kv[k] = v
			}
		}
		return kv
	}
	tests := []struct {
		unit   string
		want   map[string]string
		banned []string
	}{
		{"gnoded.service", map[string]string{"KillMode": "process", "Delegate": "yes", "Restart": "on-failure", "TasksMax": "infinity"},
			[]string{"ProtectSystem", "PrivateTmp", "PrivateDevices", "ProtectControlGroups", "NoNewPrivileges",
				"ProtectKernelModules", "ProtectKernelTunables", "SystemCallFilter", "LockPersonality", "OOMScoreAdjust", "PrivateMounts"}},
		{"gctld.service", map[string]string{"Restart": "on-failure", "NoNewPrivileges": "yes", "ProtectSystem": "full",
			"StateDirectory": "gsched", "RuntimeDirectory": "gsched"}, []string{"KillMode"}},
	}
	for _, tc := range tests {
		kv := read(tc.unit)
		for k, v := range tc.want {
			if kv[k] != v {
				t.Errorf("%s: %s=%q, want %q", tc.unit, k, kv[k], v)
			}
		}
		for _, k := range tc.banned {
			if _, ok := kv[k]; ok {
				t.Errorf("%s sets %s", tc.unit, k)
			}
		}
	}
}
