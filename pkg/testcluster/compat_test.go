package testcluster

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// The Slurm compatibility wrappers (make install-slurm-compat) run the
// gsched commands with Slurm's names: an sbatch job with #SBATCH lines,
// squeue, scontrol show hostnames, scancel.
func TestSlurmCompatWrappers(t *testing.T) {
	c := Start(t, Options{})
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	wrap := func(name string) string { return filepath.Join(root, "conf", "slurm-compat", name) }
	dir := c.WorkDir(nobody, nobody)
	script := filepath.Join(dir, "job.sh")
	if err := os.WriteFile(script, []byte("#!/bin/bash\n#SBATCH --job-name=compat\n#SBATCH --time=5\necho $SLURM_JOB_NAME $SLURM_JOB_ID\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.Run(nobody, nobody, dir, wrap("sbatch"), "--parsable", "--wait", script)
	id, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if r.Code != 0 || err != nil {
		t.Fatalf("sbatch: code %d out %q err %q", r.Code, r.Stdout, r.Stderr)
	}
	if out := readOutMaybe(dir, api.JobID(id)); out != "compat "+strconv.FormatUint(id, 10)+"\n" {
		t.Fatalf("job output %q", out)
	}
	if r := c.Run(nobody, nobody, dir, wrap("squeue"), "-t", "all", "-h"); r.Code != 0 || !strings.Contains(r.Stdout, "compat") {
		t.Fatalf("squeue: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := c.Run(nobody, nobody, dir, wrap("scontrol"), "show", "hostnames", "gpu[01-02]"); r.Code != 0 || r.Stdout != "gpu01\ngpu02\n" {
		t.Fatalf("scontrol show hostnames: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := c.Run(nobody, nobody, dir, wrap("scontrol"), "suspend", "1"); r.Code != 2 || !strings.Contains(r.Stderr, "unknown command") {
		t.Fatalf("unsupported scontrol: %d %q", r.Code, r.Stderr)
	}
	if r := c.Run(nobody, nobody, dir, wrap("scontrol"), "update", "job=1"); r.Code != 2 || !strings.Contains(r.Stderr, "nothing to change") {
		t.Fatalf("scontrol update job= without a change: %d %q", r.Code, r.Stderr)
	}
	held := c.Submit(api.JobSpec{Hold: true, Script: "#!/bin/sh\ntrue\n"})
	if r := c.Run(0, 0, dir, wrap("scancel"), held.String()); r.Code != 0 {
		t.Fatalf("scancel: %d %q", r.Code, r.Stderr)
	}
	c.WaitFor(held, 10*time.Second, func(j api.Job) bool { return j.State == api.StateCancelled })
}
