package runc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/runtime"
	"github.com/gsched/gsched/pkg/runtime/runc"
)

// precompiledEnv returns a Runtime whose jobs get the seccomp filter
// precompiled by the node (the static init from `make build` loads it),
// with its options; it skips when runc has no seccomp.
func precompiledEnv(t *testing.T) (*runc.Runtime, runc.Options, string) {
	t.Helper()
	e := newEnv(t)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	opts := e.options(t)
	opts.StaticInit = filepath.Join(root, "bin", "gsched-init")
	if _, err := os.Stat(opts.StaticInit); err != nil {
		t.Skipf("needs the static init (make build): %v", err)
	}
	rt := e.newRuntime(t, opts)
	if !rt.Seccomp() {
		t.Skipf("%s has no seccomp support (make build builds it with seccomp when libseccomp-dev is installed)", e.runc)
	}
	return rt, opts, e.dir(t, "case-", 0o777)
}

// waitOut waits for task id and returns its status and output file.
func waitOut(t *testing.T, rt *runc.Runtime, id, out string) (runtime.Status, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := rt.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait %s: %v", id, err)
	}
	b, _ := os.ReadFile(out)
	return st, string(b)
}

// usesPrecompiled fails t unless task id was started with the node's
// precompiled filter: seccomp.bpf in its dir, no profile in its spec for
// runc to compile.
func usesPrecompiled(t *testing.T, opts runc.Options, id string) {
	t.Helper()
	dir := filepath.Join(opts.StateDir, id)
	if fi, err := os.Stat(filepath.Join(dir, "seccomp.bpf")); err != nil || fi.Size() == 0 {
		t.Fatalf("task %s has no precompiled filter: %v", id, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "bundle", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Linux struct {
			Seccomp json.RawMessage `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Linux.Seccomp != nil {
		t.Fatalf("task %s: the spec still has a profile for runc to compile", id)
	}
}

// The script prints what unshare -U (allowed on the host, refused by the
// default profile) says and the seccomp mode.
const seccompProbe = `unshare -U true 2>&1 | sed 's/.*: //'; grep ^Seccomp: /proc/self/status | tr -d ' \t'`

// The init runs non-dumpable (its binary is execute-only): the job may not
// read its environment (nor ptrace it), not even as root.
const dumpableProbe = `cat /proc/1/environ >/dev/null 2>&1 && echo init-dumpable || echo init-not-dumpable`

// A job started with the precompiled filter runs under it (seccomp mode
// 2, the default profile's EPERM for unshare), as a user and as root, and
// so does a step (runc exec) in its container, whose init loads it too.
func TestPrecompiledSeccompDenies(t *testing.T) {
	rt, opts, dir := precompiledEnv(t)
	ctx := context.Background()
	want := "Operation not permitted\nSeccomp:2\n"
	for _, uid := range []uint32{65534, 0} {
		ts := spec(fmt.Sprintf("sc-%d", uid), seccompProbe+"\n"+dumpableProbe, dir)
		ts.UID, ts.GID = uid, uid
		if err := rt.Start(ctx, ts); err != nil {
			t.Fatal(err)
		}
		st, out := waitOut(t, rt, ts.ID, ts.Stdout)
		if st.ExitCode != 0 || out != want+"init-not-dumpable\n" {
			t.Fatalf("uid %d: %+v, output %q, want %q", uid, st, out, want+"init-not-dumpable\n")
		}
		usesPrecompiled(t, opts, ts.ID)
	}

	job := spec("sc-job", "sleep 60", dir)
	if err := rt.Start(ctx, job); err != nil {
		t.Fatal(err)
	}
	usesPrecompiled(t, opts, job.ID)
	out := filepath.Join(dir, "step.out")
	step := runtime.TaskSpec{
		ID: "sc-step", JobID: 1, UID: 65534, GID: 65534, ExecIn: job.ID,
		Argv: []string{"/bin/bash", "-c", seccompProbe}, Env: []string{"PATH=/usr/bin:/bin"},
		Cwd: dir, Stdout: out, Stderr: out, KillGrace: time.Second,
	}
	// The container may still be on its way up.
	var st runtime.Status
	var got string
	for i := 0; ; i++ {
		_ = os.Remove(out)
		if err := rt.Start(ctx, step); err != nil {
			t.Fatal(err)
		}
		st, got = waitOut(t, rt, step.ID, out)
		if st.ExitCode == 0 || i == 20 {
			break
		}
		if err := rt.Destroy(ctx, step.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.ExitCode != 0 || got != want {
		t.Fatalf("step: %+v, output %q, want %q", st, got, want)
	}
}

// Where the filter cannot be precompiled, runc compiles the profile as
// before and the task is filtered all the same: with a static init that
// cannot load a filter (a stale gsched-init; here busybox, which knows no
// gsched-seccomp-check) and with an init that is not static.
func TestPrecompiledSeccompFallback(t *testing.T) {
	e := newEnv(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, init string }{
		{"stale init", "/bin/busybox"},
		{"dynamic init", self},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.init); err != nil {
				t.Skipf("no %s: %v", tc.init, err)
			}
			opts := e.options(t)
			opts.StaticInit = tc.init
			rt := e.newRuntime(t, opts)
			if !rt.Seccomp() {
				t.Skipf("%s has no seccomp support", e.runc)
			}
			dir := e.dir(t, "case-", 0o777)
			ts := spec("fb", seccompProbe, dir)
			if err := rt.Start(context.Background(), ts); err != nil {
				t.Fatal(err)
			}
			st, out := waitOut(t, rt, ts.ID, ts.Stdout)
			if want := "Operation not permitted\nSeccomp:2\n"; st.ExitCode != 0 || out != want {
				t.Fatalf("%+v, output %q, want %q", st, out, want)
			}
			task := filepath.Join(opts.StateDir, ts.ID)
			if _, err := os.Stat(filepath.Join(task, "seccomp.bpf")); err == nil {
				t.Fatal("a precompiled filter with an init that cannot load it")
			}
			b, err := os.ReadFile(filepath.Join(task, "bundle", "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"seccomp"`) {
				t.Fatal("no profile in the spec: runc applies none")
			}
		})
	}
}

// A filter the init cannot load fails the task before the script runs:
// one the kernel refuses and one of a bad size.
func TestPrecompiledSeccompLoadFailure(t *testing.T) {
	rt, opts, dir := precompiledEnv(t)
	ctx := context.Background()
	first := spec("lf-first", "true", dir)
	if err := rt.Start(ctx, first); err != nil {
		t.Fatal(err)
	}
	if st, out := waitOut(t, rt, first.ID, first.Stdout); st.ExitCode != 0 {
		t.Fatalf("first task: %+v %q", st, out)
	}
	usesPrecompiled(t, opts, first.ID)
	// The node's filter, which the next task's dir links to.
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(opts.StateDir), "seccomp", "*.bpf"))
	if len(files) != 1 {
		t.Fatalf("node filters: %q, want one", files)
	}
	for _, tc := range []struct {
		name string
		prog []byte
	}{
		// An unknown opcode, which the kernel's checker refuses.
		{"refused", []byte{0xff, 0xff, 0, 0, 0, 0, 0, 0}},
		{"truncated", []byte{6, 0, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(files[0], tc.prog, 0o444); err != nil {
				t.Fatal(err)
			}
			marker := filepath.Join(dir, tc.name+".ran")
			ts := spec("lf-"+tc.name, "touch "+marker, dir)
			if err := rt.Start(ctx, ts); err != nil {
				t.Fatal(err)
			}
			st, out := waitOut(t, rt, ts.ID, ts.Stdout)
			if st.ExitCode == 0 || !strings.Contains(st.Error, "seccomp") {
				t.Fatalf("task with a bad filter: %+v, output %q", st, out)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the script ran without its filter")
			}
			t.Logf("exit %d: %s", st.ExitCode, st.Error)
		})
	}
}
