package testcluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime/runc"
)

// A node daemon compiles the seccomp profile once and each job's init
// loads the result (the job sees it at /.gsched/seccomp.bpf): the job runs
// under the filter all the same (mode 2, unshare -U refused). When the
// filter cannot be loaded, the job fails and its script never runs.
func TestSeccompPrecompiledFilter(t *testing.T) {
	c := Start(t, Options{})
	requireSeccomp(t, c)
	if _, err := os.Stat(filepath.Join(c.Bin, "gsched-init")); err != nil {
		t.Fatalf("no static init (make build): %v", err)
	}
	dir := c.WorkDir(nobody, nobody)
	j, out := submitAs(t, c, dir, `#!/bin/bash
test -s /.gsched/seccomp.bpf && echo precompiled
unshare -U true 2>&1 | sed 's/.*: //'
grep ^Seccomp: /proc/self/status | tr -d ' \t'
`)
	want := "precompiled\nOperation not permitted\nSeccomp:2\n"
	if j.State != api.StateCompleted || out != want {
		t.Fatalf("job %s: output %q, want %q", j.State, out, want)
	}

	// Spoil the node's filter, which the next job's dir links to.
	files, _ := filepath.Glob(filepath.Join(c.Dir, "node-*", "seccomp", "*.bpf"))
	if len(files) != 1 {
		t.Fatalf("node filters: %q, want one", files)
	}
	if err := os.WriteFile(files[0], []byte{0xff, 0xff, 0, 0, 0, 0, 0, 0}, 0o444); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "ran")
	j, out = submitAs(t, c, dir, "#!/bin/bash\ntouch "+marker+"\n")
	if j.State != api.StateFailed || j.ExitCode == 0 {
		t.Fatalf("job with a filter that cannot load: %s exit %d (%s): %q", j.State, j.ExitCode, j.Reason, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the script ran without its filter")
	}
	if !strings.Contains(j.Reason, "seccomp") {
		t.Fatalf("reason %q does not say seccomp", j.Reason)
	}
}

// runcSeccomp reports whether the cluster's runc has seccomp support.
func runcSeccomp(t *testing.T, c *Cluster) bool {
	t.Helper()
	sc, err := runc.ProbeSeccomp(context.Background(), filepath.Join(c.Bin, "runc"))
	if err != nil {
		t.Fatalf("probe runc: %v", err)
	}
	return sc.Enabled
}

// requireSeccomp skips the test when the cluster's runc has no seccomp
// support.
func requireSeccomp(t *testing.T, c *Cluster) {
	t.Helper()
	if !runcSeccomp(t, c) {
		t.Skipf("%s has no seccomp support (make build builds it with seccomp when libseccomp-dev and pkg-config are installed)",
			filepath.Join(c.Bin, "runc"))
	}
}
