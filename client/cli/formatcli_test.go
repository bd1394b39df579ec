package cli

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// serveJobs answers job listings from jobs as the controller's filter
// does (ctld/server matches): IDs, users, states (live jobs only unless
// IDs, states or IncludeFinished say otherwise; final ones only with
// OnlyFinished) and Since.
func serveJobs(fs *fakeServer, jobs []api.Job) {
	fs.answerFunc(api.PathListJobs, func(body []byte) (any, *api.RemoteError) {
		var f api.JobFilter
		if err := json.Unmarshal(body, &f); err != nil {
			return nil, &api.RemoteError{Code: api.CodeInvalid, Message: err.Error()}
		}
		out := api.JobList{Now: t0, Jobs: []api.Job{}}
		for _, j := range jobs {
			switch {
			case len(f.IDs) > 0 && !slices.Contains(f.IDs, j.ID),
				len(f.Refs) > 0 && !api.MatchesAny(f.Refs, &j), // as the controller (ctld/server refCandidates)
				len(f.Users) > 0 && !slices.Contains(f.Users, j.User),
				len(f.States) > 0 && !slices.Contains(f.States, j.State),
				len(f.States) == 0 && f.OnlyFinished && !j.State.Final(),
				len(f.States) == 0 && !f.OnlyFinished && !f.IncludeFinished && len(f.IDs) == 0 && len(f.Refs) == 0 && j.State.Final():
				continue
			}
			if t := j.EndTime; !f.Since.IsZero() {
				if t.IsZero() {
					t = j.SubmitTime
				}
				if t.Before(f.Since) {
					continue
				}
			}
			out.Jobs = append(out.Jobs, j)
		}
		return out, nil
	})
}

// arrayTask builds task idx of array arr (whose job IDs run from arr).
func arrayTask(arr api.JobID, idx int, st api.JobState, reason, spec string) api.Job {
	return api.Job{ID: arr + api.JobID(idx), ArrayJobID: arr, ArrayTaskID: idx, State: st, Reason: reason,
		User: "alice", Spec: &api.JobSpec{Name: "sweep", Partition: "gpu", Array: spec}}
}

// arrayCluster: array 100 (tasks 0-3: 0 done, 1 running, 2-3 pending),
// plain jobs 104 (alice, running) and 105 (bob, pending), all submitted
// at t0-1h.
func arrayCluster() []api.Job {
	sub := t0.Add(-time.Hour)
	var jobs []api.Job
	for i, st := range []api.JobState{api.StateCompleted, api.StateRunning, api.StatePending, api.StatePending} {
		j := arrayTask(100, i, st, "", "0-3%2")
		j.SubmitTime = sub
		if st == api.StatePending {
			j.Reason = api.ReasonArrayTaskLimit
		}
		if st == api.StateCompleted {
			j.StartTime, j.EndTime = sub, t0.Add(-30*time.Minute)
		}
		jobs = append(jobs, j)
	}
	jobs = append(jobs,
		api.Job{ID: 104, User: "alice", State: api.StateRunning, SubmitTime: sub, Spec: &api.JobSpec{Name: "one"}},
		api.Job{ID: 105, User: "bob", State: api.StatePending, SubmitTime: sub, Spec: &api.JobSpec{Name: "two"}})
	return jobs
}

// setenv adds environment variables to the test's.
func (te *testEnv) setenv(env map[string]string) {
	getenv := te.Getenv
	te.Getenv = func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k)
	}
}

func TestGqueueJobRefs(t *testing.T) {
	fs := newFakeServer(t)
	serveJobs(fs, arrayCluster())
	tests := []struct {
		args []string
		want string
		refs []api.JobRef // sent to the controller, in one listing
	}{
		{[]string{"-j", "104"}, "104\n", []api.JobRef{{ID: 104}}},
		{[]string{"-j", "100"}, "100_0\n100_1\n100_[2-3%2]\n", []api.JobRef{{ID: 100}}},
		{[]string{"-j", "100", "-r"}, "100_0\n100_1\n100_2\n100_3\n", []api.JobRef{{ID: 100}}},
		{[]string{"-j", "100_2"}, "100_2\n", []api.JobRef{{ID: 100, Task: 2, HasTask: true}}},
		{[]string{"-j", "102"}, "100_2\n", []api.JobRef{{ID: 102}}}, // a task's own job ID
		{[]string{"-j", "100_9,105"}, "105\n", []api.JobRef{{ID: 100, Task: 9, HasTask: true}, {ID: 105}}},
		{[]string{"-j", "100", "-t", "PD"}, "100_[2-3%2]\n", []api.JobRef{{ID: 100}}},
		{[]string{"-j", "104_1"}, "", []api.JobRef{{ID: 104, Task: 1, HasTask: true}}}, // 104 is no array
		{[]string{"-j", "999"}, "", []api.JobRef{{ID: 999}}},
	}
	for _, tt := range tests {
		te := newTestEnv(t, fs.sock)
		before := fs.count(api.PathListJobs)
		args := append([]string{"gqueue", "-h", "-o", "%i"}, tt.args...)
		if code := te.Gqueue(args); code != 0 {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, te.stderr)
			continue
		}
		if got := te.stdout.String(); got != tt.want {
			t.Errorf("%v: stdout %q, want %q", tt.args, got, tt.want)
		}
		if n := fs.count(api.PathListJobs) - before; n != 1 {
			t.Errorf("%v: %d listings, want 1", tt.args, n)
			continue
		}
		var f api.JobFilter
		fs.decode(t, api.PathListJobs, before, &f)
		if !reflect.DeepEqual(f.Refs, tt.refs) || f.IDs != nil {
			t.Errorf("%v: filter refs %v ids %v, want refs %v", tt.args, f.Refs, f.IDs, tt.refs)
		}
	}
}

func TestGqueueFormatOptions(t *testing.T) {
	fs := newFakeServer(t)
	serveJobs(fs, arrayCluster())
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"-o", "%.6i|%-4j|%t"}, want: "" +
			" JOBID|NAME|ST\n" +
			" 100_1|swee|R\n" +
			"100_[2|swee|PD\n" +
			"   104|one |R\n" +
			"   105|two |PD\n"},
		{args: []string{"-h", "-S", "-i"}, env: map[string]string{"SQUEUE_FORMAT": "%i %u"}, want: "105 bob\n104 alice\n100_[2-3%2] alice\n100_1 alice\n"},
		{args: []string{"-h", "-o", "%A"}, env: map[string]string{"SQUEUE_FORMAT": "%i %u", "SQUEUE_SORT": "-t,u"}, want: "101\n104\n100\n105\n"},
		{args: []string{"-h", "-o", "%i", "-S", "i"}, env: map[string]string{"SQUEUE_SORT": "nonsense"}, want: "100_1\n100_[2-3%2]\n104\n105\n"},
		{args: []string{"-h", "-o", "%i", "-S", "u,j"}, want: "104\n100_1\n100_[2-3%2]\n105\n"},
		{args: []string{"-h", "-t", "all", "-o", "%i %K"}, env: map[string]string{"SLURM_BITSTR_LEN": "1"}, want: "100_0 0\n100_1 1\n100_[2-3%2] 2-3%2\n104 N/A\n105 N/A\n"},
		{args: []string{"-l", "-u", "bob"}, want: "" +
			"Sat Mar  1 12:00:00 2025\n" +
			"             JOBID PARTITION     NAME     USER    STATE       TIME TIME_LIMI  NODES NODELIST(REASON)\n" +
			"               105         -      two      bob  PENDING       0:00 UNLIMITED      1 (None)\n"},
		{args: []string{"-u", "bob"}, env: map[string]string{"SQUEUE_FORMAT": "%i"}, want: "JOBID\n105\n"},
		{args: []string{"-u", "bob", "--json", "-o", "%i"}}, // checked below: JSON, unfolded
	}
	for _, tt := range tests {
		te := newTestEnv(t, fs.sock)
		te.setenv(tt.env)
		if code := te.Gqueue(append([]string{"gqueue"}, tt.args...)); code != 0 {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, te.stderr)
			continue
		}
		if tt.want == "" {
			var list api.JobList
			if err := json.Unmarshal(te.stdout.Bytes(), &list); err != nil || len(list.Jobs) != 1 {
				t.Errorf("%v: %v, stdout %q", tt.args, err, te.stdout)
			}
			continue
		}
		if got := te.stdout.String(); got != tt.want {
			t.Errorf("%v %v:\n%s\nwant\n%s", tt.args, tt.env, got, tt.want)
		}
	}
}

func TestGqueueFoldsJSONNever(t *testing.T) {
	fs := newFakeServer(t)
	serveJobs(fs, arrayCluster())
	te := newTestEnv(t, fs.sock)
	var list api.JobList
	if code := te.Gqueue([]string{"gqueue", "-j", "100", "--json"}); code != 0 || json.Unmarshal(te.stdout.Bytes(), &list) != nil {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, te.stdout, te.stderr)
	}
	var ids []string
	for _, j := range list.Jobs {
		ids = append(ids, j.DisplayID())
	}
	if !reflect.DeepEqual(ids, []string{"100_0", "100_1", "100_2", "100_3"}) {
		t.Errorf("JSON jobs = %v", ids)
	}
}

func TestGacctFormatOptions(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathWhoAmI, api.WhoAmI{User: "alice"})
	jobs := acctJobs()
	jobs[0].EndTime = t0.Add(time.Minute)
	jobs[1].EndTime = t0.Add(time.Minute)
	serveJobs(fs, jobs)
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"-a", "-P", "-o", "JobID,State,ExitCode"}, want: "JobID|State|ExitCode\n7_5|FAILED|3:0\n13|CANCELLED|0:15\n"},
		{args: []string{"-a", "-p", "-n", "-b"}, want: "7_5|FAILED|3:0|\n13|CANCELLED|0:15|\n"},
		{args: []string{"-a", "-b"}, want: "" +
			"JobID             State ExitCode \n" +
			"------------ ---------- -------- \n" +
			"7_5              FAILED      3:0 \n" +
			"13            CANCELLED     0:15 \n"},
		{args: []string{"-a", "-P", "-X"}, env: map[string]string{"SACCT_FORMAT": "jobidraw,user,account"}, want: "JobIDRaw|User|Account\n12|alice|physics\n13|bob|\n"},
		{args: []string{"-a", "-P", "-o", "jobid"}, env: map[string]string{"SACCT_FORMAT": "bogus"}, want: "JobID\n7_5\n13\n"},
		{args: []string{"-a", "-P", "-o", "jobid", "-A", "physics"}, want: "JobID\n7_5\n"},
		{args: []string{"-a", "-P", "-o", "jobid", "-E", "2025-03-01T11:30"}, want: "JobID\n7_5\n"},
		{args: []string{"-P", "-o", "jobid", "-j", "12"}, want: "JobID\n7_5\n"},
		{args: []string{"-a", "-P", "-l", "-n"}, want: "7_5|12|a-rather-long-job-name|gpu|3145729K|8|00:01:00|FAILED|3:0|16G|cpu=8,mem=32G,node=2,gres/gpu=4|cpu=8,mem=32G,node=2,gres/gpu=4\n" +
			"13|13|x|cpu||0|00:00:00|CANCELLED|0:15|0|cpu=1,node=1|\n"},
	}
	for _, tt := range tests {
		te := newTestEnv(t, fs.sock)
		te.setenv(tt.env)
		if code := te.Gacct(append([]string{"gacct"}, tt.args...)); code != 0 {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, te.stderr)
			continue
		}
		if got := te.stdout.String(); got != tt.want {
			t.Errorf("%v %v:\n%s\nwant\n%s", tt.args, tt.env, got, tt.want)
		}
	}
}

func TestFormatUsageErrors(t *testing.T) {
	fs := newFakeServer(t)
	serveJobs(fs, nil)
	fs.answer(api.PathWhoAmI, api.WhoAmI{User: "alice"})
	tests := []struct {
		cmd  string
		args []string
		env  map[string]string
		want string
	}{
		{"gqueue", []string{"-o", "%i %"}, nil, `gqueue: error: --format: invalid format "%i %": "%" at the end needs a field letter`},
		{"gqueue", []string{"-o", ""}, nil, "--format: invalid format \"\": it has no fields"},
		{"gqueue", nil, map[string]string{"SQUEUE_FORMAT": "%5!"}, "$SQUEUE_FORMAT: invalid format \"%5!\": unknown field '!'"},
		{"gqueue", []string{"-S", "t,xy"}, nil, `--sort: invalid sort "t,xy": "xy" is not a field letter`},
		{"gqueue", nil, map[string]string{"SQUEUE_SORT": "--i"}, `$SQUEUE_SORT: invalid sort "--i"`},
		{"gqueue", []string{"-j", "12_x"}, nil, `--jobs: invalid job id "12_x"`},
		{"gacct", []string{"-o", "JobID,Nope"}, nil, `--format: invalid format "JobID,Nope": unknown field "Nope" (known: Account,`},
		{"gacct", nil, map[string]string{"SACCT_FORMAT": "JobName%x"}, `$SACCT_FORMAT: invalid format "JobName%x": width "x" of JobName is not a number`},
		{"gacct", []string{"-E", "someday"}, nil, "--endtime: invalid time"},
		{"gacct", []string{"-j", "1_2_3"}, nil, `--jobs: invalid job id "1_2_3"`},
	}
	for _, tt := range tests {
		te := newTestEnv(t, fs.sock)
		te.setenv(tt.env)
		var code int
		if tt.cmd == "gqueue" {
			code = te.Gqueue(append([]string{"gqueue"}, tt.args...))
		} else {
			code = te.Gacct(append([]string{"gacct"}, tt.args...))
		}
		first, _, _ := strings.Cut(te.stderr.String(), "\n")
		if code != ExitUsage || !strings.Contains(first, tt.want) {
			t.Errorf("%s %v %v: exit %d, stderr %q; want 2 and %q", tt.cmd, tt.args, tt.env, code, te.stderr, tt.want)
		}
	}
}

func TestGacctArrays(t *testing.T) {
	fs := newFakeServer(t)
	fs.answer(api.PathWhoAmI, api.WhoAmI{User: "alice"})
	serveJobs(fs, arrayCluster())
	for _, tt := range []struct {
		jobs, want string
	}{
		{"100", "JobID|State\n100_0|COMPLETED\n"},
		{"100_0", "JobID|State\n100_0|COMPLETED\n"},
		{"100_1", "JobID|State\n"}, // still running
	} {
		te := newTestEnv(t, fs.sock)
		if code := te.Gacct([]string{"gacct", "-P", "-o", "JobID,State", "-j", tt.jobs}); code != 0 || te.stdout.String() != tt.want {
			t.Errorf("-j %s: exit %d, stdout %q, stderr %q; want %q", tt.jobs, code, te.stdout, te.stderr, tt.want)
		}
	}
}
