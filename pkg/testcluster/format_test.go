package testcluster

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// squeue- and sacct-style formats through the real commands: a held job
// in gqueue -o, a failed one in gacct -P -o and in the sacct wrapper.
func TestQueueAndAcctFormats(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(nobody, nobody)
	parseID := func(r Result) string {
		t.Helper()
		id := strings.TrimSpace(r.Stdout)
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			t.Fatalf("gsub --parsable: code %d out %q err %q", r.Code, r.Stdout, r.Stderr)
		}
		return id
	}

	held := parseID(c.CLI(nobody, nobody, dir, "gsub", "--parsable", "--hold", "-J", "fmtheld", "--wrap", "true"))
	r := c.CLI(nobody, nobody, dir, "gqueue", "-j", held, "-o", "%.8i|%-10j|%T|%r")
	want := "   JOBID|NAME      |STATE|REASON\n" + strings.Repeat(" ", 8-len(held)) + held + "|fmtheld   |PENDING|JobHeldUser\n"
	if r.Code != 0 || r.Stdout != want {
		t.Fatalf("gqueue -o: code %d out %q err %q; want %q", r.Code, r.Stdout, r.Stderr, want)
	}
	r = c.RunEnv([]string{"SQUEUE_FORMAT=%i %T %j"}, nobody, nobody, dir, filepath.Join(c.Bin, "gqueue"), "-h", "-j", held)
	if r.Code != 0 || r.Stdout != held+" PENDING fmtheld\n" {
		t.Fatalf("SQUEUE_FORMAT: code %d out %q err %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := c.CLI(nobody, nobody, dir, "gqueue", "-o", "%i %"); r.Code != 2 || !strings.Contains(r.Stderr, "needs a field letter") {
		t.Fatalf("bad format: code %d err %q", r.Code, r.Stderr)
	}
	if r := c.CLI(nobody, nobody, dir, "gcancel", held); r.Code != 0 {
		t.Fatalf("gcancel: code %d err %q", r.Code, r.Stderr)
	}

	r = c.CLI(nobody, nobody, dir, "gsub", "--wait", "--parsable", "-J", "fmtdone", "--wrap", "exit 3")
	if r.Code != 3 {
		t.Fatalf("gsub --wait: code %d err %q", r.Code, r.Stderr)
	}
	done := parseID(r)
	r = c.CLI(nobody, nobody, dir, "gacct", "-P", "-o", "JobID,JobName,State,ExitCode", "-j", done)
	if want := "JobID|JobName|State|ExitCode\n" + done + "|fmtdone|FAILED|3:0\n"; r.Code != 0 || r.Stdout != want {
		t.Fatalf("gacct -P: code %d out %q err %q; want %q", r.Code, r.Stdout, r.Stderr, want)
	}
	r = c.RunEnv([]string{"SACCT_FORMAT=jobid,state%12"}, nobody, nobody, dir, filepath.Join(c.Bin, "gacct"), "-n", "-X", "-j", done)
	if want := done + strings.Repeat(" ", 13-len(done)) + "      FAILED \n"; r.Code != 0 || r.Stdout != want {
		t.Fatalf("SACCT_FORMAT: code %d out %q err %q; want %q", r.Code, r.Stdout, r.Stderr, want)
	}
	// A Slurm script's sacct line, through the compatibility wrapper.
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	r = c.Run(nobody, nobody, dir, filepath.Join(root, "conf", "slurm-compat", "sacct"), "-j", done, "-X", "-n", "-P", "--format=JobID,State,ExitCode")
	if want := done + "|FAILED|3:0\n"; r.Code != 0 || r.Stdout != want {
		t.Fatalf("sacct wrapper: code %d out %q err %q; want %q", r.Code, r.Stdout, r.Stderr, want)
	}
}
