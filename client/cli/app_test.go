package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/units"
)

// fakeServer is a controller stand-in on a Unix socket: it answers each
// path with a canned response (or error) and records the requests.
type fakeServer struct {
	sock string

	mu       sync.Mutex
	requests map[string][]json.RawMessage
	answers  map[string]func(body []byte) (any, *api.RemoteError)
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	// Unix socket paths are short; t.TempDir() may be too long.
	dir, err := os.MkdirTemp("", "gs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	fs := &fakeServer{
		sock:     filepath.Join(dir, "s"),
		requests: map[string][]json.RawMessage{},
		answers:  map[string]func([]byte) (any, *api.RemoteError){},
	}
	l, err := net.Listen("unix", fs.sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: fs}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return fs
}

func (fs *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fs.mu.Lock()
	fs.requests[r.URL.Path] = append(fs.requests[r.URL.Path], json.RawMessage(body))
	answer := fs.answers[r.URL.Path]
	fs.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if answer == nil {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"error": api.RemoteError{Code: api.CodeNotFound, Message: "no such call " + r.URL.Path}})
		return
	}
	resp, rerr := answer(body)
	if rerr != nil {
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]any{"error": rerr})
		return
	}
	json.NewEncoder(w).Encode(resp)
}

func (fs *fakeServer) answer(path string, resp any) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.answers[path] = func([]byte) (any, *api.RemoteError) { return resp, nil }
}

func (fs *fakeServer) answerFunc(path string, f func([]byte) (any, *api.RemoteError)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.answers[path] = f
}

// decode decodes the i-th request to path into v.
func (fs *fakeServer) decode(t *testing.T, path string, i int, v any) {
	t.Helper()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.requests[path]) <= i {
		t.Fatalf("no request %d to %s (got %d)", i, path, len(fs.requests[path]))
	}
	if err := json.Unmarshal(fs.requests[path][i], v); err != nil {
		t.Fatal(err)
	}
}

func (fs *fakeServer) count(path string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.requests[path])
}

type testEnv struct {
	*Env
	stdout, stderr *bytes.Buffer
	cwd            string
}

func newTestEnv(t *testing.T, sock string) *testEnv {
	t.Helper()
	te := &testEnv{Env: DefaultEnv(), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, cwd: t.TempDir()}
	te.Stdin = strings.NewReader("")
	te.Stdout, te.Stderr = te.stdout, te.stderr
	env := map[string]string{EnvSocket: sock}
	te.Getenv = func(k string) string { return env[k] }
	te.Environ = func() []string { return []string{"HOME=/home/alice", "FOO=1"} }
	te.Getwd = func() (string, error) { return te.cwd, nil }
	te.Hostname = func() (string, error) { return "login1", nil }
	te.Now = func() time.Time { return t0 }
	te.Sleep = func(time.Duration) {}
	return te
}

func (te *testEnv) writeScript(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(te.cwd, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const trainScript = `#!/bin/bash
#SBATCH --job-name=fromscript -p cpu
#GSUB --mem=4G -t 10 # ten minutes
#SBATCH -c2 --gpus-per-node=1
#SBATCH -o "out %j.log" --no-requeue
echo hi
#SBATCH --job-name=ignored
`

func TestGsubDirectivesAndOverride(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathSubmit, api.SubmitResponse{JobID: 42})
	te := newTestEnv(t, fs.sock)
	script := te.writeScript(t, "train.sh", trainScript)
	code := te.Gsub([]string{"gsub", "-Jcli", "--partition", "gpu", "--gres=gpu:2", "--export=X=1", "--hold", script, "a1", "-t", "a2"})
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	if got := te.stdout.String(); got != "Submitted batch job 42\n" {
		t.Errorf("stdout = %q", got)
	}
	var req api.SubmitRequest
	fs.decode(t, api.PathSubmit, 0, &req)
	want := api.JobSpec{
		Name: "cli", Partition: "gpu", CPUsPerTask: 2, MemBytes: 4 * units.GiB,
		GPUsPerNode: 2, TimeLimit: 600, Output: "out %j.log", WorkDir: te.cwd, Env: []string{"X=1"},
		Script: trainScript, Args: []string{"a1", "-t", "a2"}, Hold: true, SubmitHost: "login1", NoRequeue: true,
	}
	if !reflect.DeepEqual(req.Spec, want) {
		t.Errorf("spec =\n%+v\nwant\n%+v", req.Spec, want)
	}
	// The command line's --requeue overrides the script's --no-requeue.
	if code := te.Gsub([]string{"gsub", "--requeue", script}); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	var req2 api.SubmitRequest
	fs.decode(t, api.PathSubmit, 1, &req2)
	if req2.Spec.NoRequeue {
		t.Error("--requeue on the command line did not override #SBATCH --no-requeue")
	}
}

func TestGsubParsableWrapStdin(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathSubmit, api.SubmitResponse{JobID: 7})

	te := newTestEnv(t, fs.sock)
	if code := te.Gsub([]string{"gsub", "--parsable", "--wrap", "hostname -f"}); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	if got := te.stdout.String(); got != "7\n" {
		t.Errorf("--parsable stdout = %q", got)
	}
	var req api.SubmitRequest
	fs.decode(t, api.PathSubmit, 0, &req)
	if req.Spec.Script != "#!/bin/sh\nhostname -f\n" || req.Spec.Name != "wrap" || req.Spec.Output != DefaultOutput {
		t.Errorf("wrap spec = %+v", req.Spec)
	}
	if len(req.Spec.Env) != 2 {
		t.Errorf("default --export=ALL env = %q", req.Spec.Env)
	}

	te = newTestEnv(t, fs.sock)
	te.Stdin = strings.NewReader("#!/bin/sh\n#GSUB -J piped\necho\n")
	if code := te.Gsub([]string{"gsub"}); code != 0 {
		t.Fatalf("stdin: exit %d, stderr %q", code, te.stderr)
	}
	fs.decode(t, api.PathSubmit, 1, &req)
	if req.Spec.Name != "piped" {
		t.Errorf("stdin job name = %q", req.Spec.Name)
	}

	te = newTestEnv(t, fs.sock)
	te.Stdin = strings.NewReader("#!/bin/sh\necho\n")
	if code := te.Gsub([]string{"gsub", "-", "arg"}); code != 0 {
		t.Fatalf("stdin '-': exit %d, stderr %q", code, te.stderr)
	}
	fs.decode(t, api.PathSubmit, 2, &req)
	if req.Spec.Name != DefaultStdinName || !reflect.DeepEqual(req.Spec.Args, []string{"arg"}) {
		t.Errorf("stdin '-' spec name %q args %q", req.Spec.Name, req.Spec.Args)
	}
}

func TestGsubWait(t *testing.T) {
	tests := []struct {
		name  string
		final api.Job
		want  int
	}{
		{"completed", api.Job{State: api.StateCompleted}, 0},
		{"failed", api.Job{State: api.StateFailed, ExitCode: 3}, 3},
		{"cancelled", api.Job{State: api.StateCancelled}, 1},
		{"timeout", api.Job{State: api.StateTimeout}, 1},
		{"oom", api.Job{State: api.StateOutOfMemory}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFakeServer(t)
			fs.answer(api.PathSubmit, api.SubmitResponse{JobID: 9})
			polls := 0
			fs.answerFunc(api.PathWaitJob, func([]byte) (any, *api.RemoteError) {
				polls++
				if polls == 1 {
					return api.Job{ID: 9, State: api.StateRunning}, nil
				}
				j := tt.final
				j.ID = 9
				return j, nil
			})
			te := newTestEnv(t, fs.sock)
			code := te.Gsub([]string{"gsub", "--wait", "--wrap", "true"})
			if code != tt.want {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.want, te.stderr)
			}
			if fs.count(api.PathWaitJob) != 2 {
				t.Errorf("wait polls = %d, want 2", fs.count(api.PathWaitJob))
			}
			var wr api.WaitRequest
			fs.decode(t, api.PathWaitJob, 0, &wr)
			if wr.JobID != 9 || wr.TimeoutMs != 30000 {
				t.Errorf("wait request = %+v", wr)
			}
			if te.stderr.Len() != 0 {
				t.Errorf("stderr = %q", te.stderr)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathSubmit, api.SubmitResponse{JobID: 1})
	tests := []struct {
		name   string
		run    func(t *testing.T, te *testEnv) int
		errSub string
	}{
		{"unknown flag", func(t *testing.T, te *testEnv) int { return te.Gsub([]string{"gsub", "--bogus", "x.sh"}) }, "flag provided but not defined: -bogus"},
		{"bad switches", func(t *testing.T, te *testEnv) int {
			return te.Gsub([]string{"gsub", "--switches", "x", "--wrap", "x"})
		}, "invalid switch request"},
		{"bad mem", func(t *testing.T, te *testEnv) int { return te.Gsub([]string{"gsub", "--mem", "lots", "--wrap", "x"}) }, "invalid memory size"},
		{"wrap and script", func(t *testing.T, te *testEnv) int { return te.Gsub([]string{"gsub", "--wrap", "x", "s.sh"}) }, "not allowed with --wrap"},
		{"no shebang", func(t *testing.T, te *testEnv) int {
			return te.Gsub([]string{"gsub", te.writeScript(t, "s.sh", "echo hi\n")})
		}, "first line must start with #!"},
		{"bad directive", func(t *testing.T, te *testEnv) int {
			return te.Gsub([]string{"gsub", te.writeScript(t, "s.sh", "#!/bin/sh\n#SBATCH --frobnicate\n")})
		}, "batch script line 2: flag provided but not defined: -frobnicate"},
		{"wrap in directive", func(t *testing.T, te *testEnv) int {
			return te.Gsub([]string{"gsub", te.writeScript(t, "s.sh", "#!/bin/sh\n#SBATCH --wrap=x\n")})
		}, "--wrap is allowed only on the command line"},
		{"help in directive", func(t *testing.T, te *testEnv) int { // crashed gsub; found by FuzzGsubOptions
			return te.Gsub([]string{"gsub", te.writeScript(t, "s.sh", "#!/bin/sh\n#SBATCH -J x -h\n")})
		}, "batch script line 2: --help is allowed only on the command line"},
		{"gqueue state", func(t *testing.T, te *testEnv) int { return te.Gqueue([]string{"gqueue", "-t", "sleepy"}) }, "unknown job state"},
		{"gqueue argument", func(t *testing.T, te *testEnv) int { return te.Gqueue([]string{"gqueue", "extra"}) }, "unexpected argument"},
		{"gcancel nothing", func(t *testing.T, te *testEnv) int { return te.Gcancel([]string{"gcancel"}) }, "no job given"},
		{"gcancel signal", func(t *testing.T, te *testEnv) int { return te.Gcancel([]string{"gcancel", "-s", "BOGUS", "3"}) }, "invalid signal"},
		{"gacct time", func(t *testing.T, te *testEnv) int { return te.Gacct([]string{"gacct", "-S", "someday"}) }, "--starttime"},
		{"ginfo flag", func(t *testing.T, te *testEnv) int { return te.Ginfo([]string{"ginfo", "--long"}) }, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv(t, fs.sock)
			code := tt.run(t, te)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", code, ExitUsage, te.stderr)
			}
			lines := strings.Split(strings.TrimSpace(te.stderr.String()), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], ": error: ") || !strings.Contains(lines[0], tt.errSub) ||
				!strings.Contains(lines[1], "--help") {
				t.Errorf("stderr = %q, want one error line containing %q and a hint", te.stderr, tt.errSub)
			}
			if te.stdout.Len() != 0 {
				t.Errorf("stdout = %q", te.stdout)
			}
		})
	}
	if n := fs.count(api.PathSubmit); n != 0 {
		t.Errorf("%d submissions reached the server", n)
	}
}

func TestHelp(t *testing.T) {
	for _, run := range []func(te *testEnv) int{
		func(te *testEnv) int { return te.Gsub([]string{"gsub", "-h"}) },
		func(te *testEnv) int { return te.Gqueue([]string{"gqueue", "--help"}) },
		func(te *testEnv) int { return te.Gcancel([]string{"gcancel", "--help"}) },
		func(te *testEnv) int { return te.Ginfo([]string{"ginfo", "--help"}) },
		func(te *testEnv) int { return te.Gacct([]string{"gacct", "--help"}) },
		func(te *testEnv) int { return te.Gshare([]string{"gshare", "--help"}) },
	} {
		te := newTestEnv(t, "/nonexistent")
		if code := run(te); code != 0 || !strings.Contains(te.stdout.String(), "USAGE") {
			t.Errorf("help: exit %d, stdout %q, stderr %q", code, te.stdout, te.stderr)
		}
	}
}

func TestGqueue(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathWhoAmI, api.WhoAmI{User: "alice"})
	fs.answer(api.PathListJobs, api.JobList{Now: t0, Jobs: []api.Job{
		{ID: 5, Spec: &api.JobSpec{Name: "big", Partition: "gpu", Nodes: 1}, User: "alice", State: api.StatePending, Reason: api.ReasonResources},
	}})
	te := newTestEnv(t, fs.sock)
	if code := te.Gqueue([]string{"gqueue", "--me", "-t", "PD,r", "-p", "gpu"}); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	want := "JOBID  PARTITION  NAME  USER   ST  TIME  NODES  NODELIST(REASON)\n" +
		"5      gpu        big   alice  PD  0:00  1      (Resources)\n"
	if te.stdout.String() != want {
		t.Errorf("stdout =\n%s\nwant\n%s", te.stdout, want)
	}
	var f api.JobFilter
	fs.decode(t, api.PathListJobs, 0, &f)
	wantF := api.JobFilter{Users: []string{"alice"}, Partitions: []string{"gpu"}, States: []api.JobState{api.StatePending, api.StateRunning}, Brief: true}
	if !reflect.DeepEqual(f, wantF) {
		t.Errorf("filter = %+v, want %+v", f, wantF)
	}

	te = newTestEnv(t, fs.sock)
	if code := te.Gqueue([]string{"gqueue", "-h"}); code != 0 || strings.Contains(te.stdout.String(), "JOBID") {
		t.Errorf("-h: exit %d, stdout %q", code, te.stdout)
	}
	te = newTestEnv(t, fs.sock)
	var list api.JobList
	if code := te.Gqueue([]string{"gqueue", "--json"}); code != 0 || json.Unmarshal(te.stdout.Bytes(), &list) != nil || len(list.Jobs) != 1 {
		t.Errorf("--json: exit %d, stdout %q", code, te.stdout)
	}
}

func TestGcancel(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathCancel, api.CancelResponse{Done: []api.JobID{11}, Errors: []api.CancelError{
		{JobID: 12, Code: api.CodePermission, Message: "permission denied: job 12 belongs to bob"},
	}})
	te := newTestEnv(t, fs.sock)
	code := te.Gcancel([]string{"gcancel", "11", "12", "-s", "USR1"})
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, te.stderr)
	}
	if got := te.stderr.String(); got != "gcancel: error: job 12: permission denied: job 12 belongs to bob\n" {
		t.Errorf("stderr = %q", got)
	}
	var req api.CancelRequest
	fs.decode(t, api.PathCancel, 0, &req)
	if !reflect.DeepEqual(req, api.CancelRequest{IDs: []api.JobID{11, 12}, Signal: 10}) {
		t.Errorf("request = %+v", req)
	}

	fs.answer(api.PathCancel, api.CancelResponse{Done: []api.JobID{11}})
	te = newTestEnv(t, fs.sock)
	if code := te.Gcancel([]string{"gcancel", "-u", "alice"}); code != 0 || te.stderr.Len() != 0 {
		t.Errorf("exit %d, stderr %q", code, te.stderr)
	}

	// A refusal of the whole request is one line and exit 1.
	fs.answerFunc(api.PathCancel, func([]byte) (any, *api.RemoteError) {
		return nil, &api.RemoteError{Code: api.CodePermission, Message: "permission denied: only operators may cancel other users' jobs"}
	})
	te = newTestEnv(t, fs.sock)
	if code := te.Gcancel([]string{"gcancel", "-u", "bob"}); code != 1 ||
		te.stderr.String() != "gcancel: error: cancel: permission denied: only operators may cancel other users' jobs\n" {
		t.Errorf("exit %d, stderr %q", code, te.stderr)
	}
}

func TestGinfo(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathListNodes, testNodes())
	te := newTestEnv(t, fs.sock)
	if code := te.Ginfo([]string{"ginfo", "-N", "-h"}); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	if lines := strings.Split(strings.TrimSpace(te.stdout.String()), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "gpu01") {
		t.Errorf("stdout = %q", te.stdout)
	}
	te = newTestEnv(t, fs.sock)
	if code := te.Ginfo([]string{"ginfo"}); code != 0 || !strings.HasPrefix(te.stdout.String(), "PARTITION") {
		t.Errorf("exit %d, stdout %q", code, te.stdout)
	}
}

func TestGacct(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathWhoAmI, api.WhoAmI{User: "alice"})
	fs.answer(api.PathListJobs, api.JobList{Now: t0, Jobs: []api.Job{
		{ID: 3, Spec: &api.JobSpec{Name: "j", Partition: "gpu"}, User: "alice", State: api.StateCompleted, StartTime: t0.Add(-time.Minute), EndTime: t0},
	}})
	te := newTestEnv(t, fs.sock)
	if code := te.Gacct([]string{"gacct", "-S", "now-1hour"}); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	if !strings.Contains(te.stdout.String(), "COMPLETED  0:0       00:01:00") {
		t.Errorf("stdout = %q", te.stdout)
	}
	var f api.JobFilter
	fs.decode(t, api.PathListJobs, 0, &f)
	if !f.OnlyFinished || !f.Since.Equal(t0.Add(-time.Hour)) || !reflect.DeepEqual(f.Users, []string{"alice"}) {
		t.Errorf("filter = %+v", f)
	}
	// -j without -S: no default start time; -a: no user filter.
	te = newTestEnv(t, fs.sock)
	if code := te.Gacct([]string{"gacct", "-a", "-j", "3"}); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, te.stderr)
	}
	f = api.JobFilter{}
	fs.decode(t, api.PathListJobs, 1, &f)
	if !f.Since.IsZero() || f.Users != nil || !reflect.DeepEqual(f.Refs, []api.JobRef{{ID: 3}}) {
		t.Errorf("filter = %+v", f)
	}
}

func TestUnreachable(t *testing.T) {
	te := newTestEnv(t, filepath.Join(t.TempDir(), "nothing"))
	if code := te.Gqueue([]string{"gqueue"}); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	line := te.stderr.String()
	if strings.Count(line, "\n") != 1 || !strings.HasPrefix(line, "gqueue: error: ") || !strings.Contains(line, "is the controller running") {
		t.Errorf("stderr = %q", line)
	}
}

func TestGshareAndPolicyViews(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathShares, api.ShareList{Algorithm: "fair_tree", Rows: []api.ShareRow{
		{Account: "root", RawShares: 1, NormShares: 1, LevelFS: -1},
		{Account: "phys", User: "ann", Depth: 1, RawShares: 1, NormShares: 1, LevelFS: -1, FairShare: 1},
	}})
	fs.answer(api.PathPriority, api.PriorityList{Weights: map[string]int64{"fairshare": 100},
		Rows: []api.PriorityRow{{JobID: 4, User: "ann", Partition: "gpu", Priority: 100, FairShare: 1}}})
	fs.answer(api.PathListJobs, api.JobList{Now: t0, Jobs: []api.Job{
		{ID: 4, Spec: &api.JobSpec{Name: "w", Partition: "gpu"}, User: "ann", State: api.StatePending, Reason: api.ReasonResources, ExpectedStart: t0.Add(time.Hour)},
	}})
	tests := []struct {
		name string
		run  func(te *testEnv) int
		want string
	}{
		{"gshare -h means no header", func(te *testEnv) int { return te.Gshare([]string{"gshare", "-h"}) }, "root        1  1.000000"},
		{"gshare --json", func(te *testEnv) int { return te.Gshare([]string{"gshare", "--json"}) }, `"algorithm": "fair_tree"`},
		{"gqueue --priority", func(te *testEnv) int { return te.Gqueue([]string{"gqueue", "--priority"}) }, "FAIRSHARE"},
		{"gqueue --start", func(te *testEnv) int { return te.Gqueue([]string{"gqueue", "--start"}) }, "START_TIME"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEnv(t, fs.sock)
			if code := tc.run(te); code != 0 || !strings.Contains(te.stdout.String(), tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, te.stdout, te.stderr, tc.want)
			}
			if strings.Contains(tc.name, "no header") && strings.Contains(te.stdout.String(), "Account") {
				t.Fatalf("header printed with -h: %q", te.stdout)
			}
		})
	}
}
