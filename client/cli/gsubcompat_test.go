package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// --print-spec prints what gsub would submit, parsed, without contacting
// the controller (the socket here does not exist).
func TestGsubPrintSpec(t *testing.T) {
	te := newTestEnv(t, "/nonexistent/ctld.sock")
	script := te.writeScript(t, "train.sh", "#!/bin/bash\n#SBATCH --array=0-99:4%8 -t 48:00:00 --gpus=h100:4 -N2\n"+
		"#SBATCH --dependency=afterok:12?afterany:13_2 --mem-per-cpu=2G -c 4 -o %A_%a.out\n#SBATCH --mail-type=END --comment=sweep\necho\n")
	if code := te.Gsub([]string{"gsub", "--print-spec", script}); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	var got PrintedSpec
	if err := json.Unmarshal(te.stdout.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, te.stdout)
	}
	s := got.Spec
	if s.TimeLimit != 48*3600 || s.GPUs != 4 || s.GPUType != "h100" || s.Nodes != 2 || s.CPUsPerTask != 4 ||
		s.MemBytes != 2<<30*4 || s.Output != "%A_%a.out" || s.Comment != "sweep" || s.Script != "" {
		t.Fatalf("spec %+v", s)
	}
	if a := got.Array; a == nil || a.Tasks != 25 || a.First != 0 || a.Last != 96 || a.Throttle != 8 {
		t.Fatalf("array %+v", got.Array)
	}
	if d := got.Dependency; d == nil || !d.Any || len(d.Conds) != 2 || d.Conds[1].Jobs[0].Task != 2 {
		t.Fatalf("dependency %+v", got.Dependency)
	}
	if got.ScriptBytes == 0 || len(got.Warnings) != 0 || s.MailType != "END" || s.MailUser != "" {
		t.Fatalf("script bytes %d, warnings %q, mail %q to %q", got.ScriptBytes, got.Warnings, s.MailType, s.MailUser)
	}
}

// Options without an equivalent warn and submit; --reservation refuses;
// a directive gsub cannot accept fails --print-spec with one line.
func TestGsubCompatOptions(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathSubmit, api.SubmitResponse{JobID: 9})
	te := newTestEnv(t, fs.sock)
	if code := te.Gsub([]string{"gsub", "--hint=nomultithread", "--signal=B:USR1@60", "--gpu-bind=closest", "--deadline=now+1hour", "--wrap", "true"}); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	for _, w := range []string{"--hint=nomultithread", "--signal=B:USR1@60", "--gpu-bind=closest", "--deadline=now+1hour"} {
		if !strings.Contains(te.stderr.String(), "gsub: warning: "+w+": ") {
			t.Errorf("no warning for %s in %q", w, te.stderr)
		}
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"gsub", "--reservation=maint", "--wrap", "true"}, "no advance reservations"},
		{[]string{"gsub", "-w", "n[1-", "--wrap", "true"}, "--nodelist: "},
		{[]string{"gsub", "-x", "./nodes.txt", "--wrap", "true"}, "--exclude: ./nodes.txt looks like a file name"},
		{[]string{"gsub", "--mem=1G", "--mem-per-cpu=1G", "--wrap", "true"}, "only one of --mem, --mem-per-cpu"},
		{[]string{"gsub", "--mail-type=sometimes", "--wrap", "true"}, "invalid --mail-type"},
		{[]string{"gsub", "--mail-type=END", "--mail-user=a b", "--wrap", "true"}, "invalid --mail-user"},
		{[]string{"gsub", "--print-spec", "--array=5-1", "--wrap", "true"}, "ends before it starts"},
		{[]string{"gsub", "--print-spec", "--dependency=afterok:x", "--wrap", "true"}, "not a job ID"},
		{[]string{"gsub", "--kill-on-invalid-dep=maybe", "--wrap", "true"}, "use yes or no"},
		{[]string{"gsub", "--begin=someday", "--wrap", "true"}, "invalid --begin"},
	}
	for _, tc := range tests {
		te := newTestEnv(t, fs.sock)
		code := te.Gsub(tc.args)
		first, _, _ := strings.Cut(te.stderr.String(), "\n")
		if code != ExitUsage || !strings.HasPrefix(first, "gsub: error: ") || !strings.Contains(first, tc.want) {
			t.Errorf("%v: exit %d stderr %q, want exit %d and a first line with %q", tc.args, code, te.stderr, ExitUsage, tc.want)
		}
	}
	if n := fs.count(api.PathSubmit); n != 1 {
		t.Fatalf("%d submissions reached the controller, want 1 (the warned one)", n)
	}
}

// --nodelist and --exclude, from directives or the command line, go into
// the spec as written (the controller checks the names).
func TestGsubNamedNodes(t *testing.T) {
	te := newTestEnv(t, "/nonexistent/ctld.sock")
	script := te.writeScript(t, "job.sh", "#!/bin/sh\n#SBATCH -w gpu[01-02] --exclude=gpu07\ntrue\n")
	if code := te.Gsub([]string{"gsub", "--print-spec", "-x", "gpu[07-08]", script}); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	var got PrintedSpec
	if err := json.Unmarshal(te.stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.NodeList != "gpu[01-02]" || got.Spec.Exclude != "gpu[07-08]" {
		t.Fatalf("nodelist %q exclude %q", got.Spec.NodeList, got.Spec.Exclude)
	}
}

// --test-only asks the controller for a dry run and prints sbatch's line
// on standard error; nothing is submitted. Without a predicted start it
// says why and exits 1.
func TestGsubTestOnly(t *testing.T) {
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		answer api.TestJobResponse
		code   int
		want   string
	}{
		{api.TestJobResponse{Start: start, Nodes: "n[1-2]", CPUs: 4, Partition: "main"}, 0,
			"gsub: Job 0 to start at 2026-11-21T10:00:00 using 4 processors on nodes n[1-2] in partition main\n"},
		{api.TestJobResponse{Partition: "gpu", Reason: "ReqNodeNotAvail"}, 1,
			"gsub: Job 0 has no expected start in partition gpu (reason: ReqNodeNotAvail)\n"},
	} {
		fs := newFakeServer(t)
		fs.answer(api.PathTestJob, tc.answer)
		te := newTestEnv(t, fs.sock)
		script := te.writeScript(t, "job.sh", "#!/bin/sh\n#SBATCH --test-only -c 2\ntrue\n")
		if code := te.Gsub([]string{"gsub", script}); code != tc.code || te.stderr.String() != tc.want || te.stdout.Len() != 0 {
			t.Fatalf("exit %d stdout %q stderr %q, want %d and %q", code, te.stdout, te.stderr, tc.code, tc.want)
		}
		var req api.SubmitRequest
		fs.decode(t, api.PathTestJob, 0, &req)
		if req.Spec.CPUsPerTask != 2 || fs.count(api.PathSubmit) != 0 {
			t.Fatalf("request %+v, %d submissions", req.Spec, fs.count(api.PathSubmit))
		}
	}
}
