package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func ptr[T any](v T) *T { return &v }

func TestParseJobUpdate(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want api.JobUpdateRequest
		err  string
	}{
		{"time limit, keys in any case", []string{"JobId=12", "TimeLimit=1:30:00"},
			api.JobUpdateRequest{IDs: []api.JobID{12}, Set: api.JobUpdate{TimeLimit: ptr[int64](5400)}}, ""},
		{"unlimited", []string{"job=12", "timelimit=UNLIMITED"},
			api.JobUpdateRequest{IDs: []api.JobID{12}, Set: api.JobUpdate{TimeLimit: ptr[int64](api.TimeUnlimited)}}, ""},
		{"every key", []string{"jobid=12,13_[1-2]", "partition=gpu", "numnodes=3", "qos=high", "nice=-5", "comment=a b", "jobname=x", "account=phys"},
			api.JobUpdateRequest{IDs: []api.JobID{12}, Tasks: []api.ArrayTaskRef{{Array: 13, Task: 1}, {Array: 13, Task: 2}},
				Set: api.JobUpdate{Partition: ptr("gpu"), Nodes: ptr(3), QOS: ptr("high"), Nice: ptr(-5), Comment: ptr("a b"),
					Name: ptr("x"), Account: ptr("phys")}}, ""},
		{"empty comment clears it", []string{"job=1", "comment="},
			api.JobUpdateRequest{IDs: []api.JobID{1}, Set: api.JobUpdate{Comment: ptr("")}}, ""},
		{"no job", []string{"timelimit=5"}, api.JobUpdateRequest{}, "give job="},
		{"nothing to change", []string{"job=5"}, api.JobUpdateRequest{}, "nothing to change"},
		{"job and jobid", []string{"job=5", "jobid=6", "nice=1"}, api.JobUpdateRequest{}, "not both"},
		{"bad job", []string{"job=5x", "nice=1"}, api.JobUpdateRequest{}, "invalid job id"},
		{"bad time", []string{"job=5", "timelimit=soon"}, api.JobUpdateRequest{}, "timelimit"},
		{"zero nodes", []string{"job=5", "numnodes=0"}, api.JobUpdateRequest{}, "positive number"},
		{"bad nice", []string{"job=5", "nice=lots"}, api.JobUpdateRequest{}, "nice"},
		{"node key", []string{"job=5", "state=drain"}, api.JobUpdateRequest{}, "node key"},
		{"unknown key", []string{"job=5", "features=ib"}, api.JobUpdateRequest{}, "unknown job key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseJobUpdate(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(tc.want)
			if string(g) != string(w) {
				t.Fatalf("got  %s\nwant %s", g, w)
			}
		})
	}
}

// gcontrol hold, release, requeue and update job= send their requests and
// report each refused job on standard error, exiting 1.
func TestGcontrolJobCommands(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		path   string
		want   string // the request, as JSON
		answer api.JobControlResponse
		code   int
		stderr string
	}{
		{[]string{"hold", "12", "13_[1-2]"}, api.PathJobControl,
			`{"action":"hold","ids":[12],"tasks":[{"array":13,"task":1},{"array":13,"task":2}]}`,
			api.JobControlResponse{Done: []api.JobID{12, 14, 15}}, 0, ""},
		{[]string{"RELEASE", "12,13"}, api.PathJobControl, `{"action":"release","ids":[12,13]}`,
			api.JobControlResponse{Done: []api.JobID{13}, Errors: []api.CancelError{{JobID: 12, Code: api.CodePermission, Message: "permission denied: held by an operator"}}},
			1, "gcontrol: error: job 12: permission denied: held by an operator"},
		{[]string{"requeue", "7"}, api.PathJobControl, `{"action":"requeue","ids":[7]}`,
			api.JobControlResponse{Done: []api.JobID{7}}, 0, ""},
		{[]string{"update", "jobid=7", "TimeLimit=10"}, api.PathUpdateJob, `{"ids":[7],"set":{"time_limit_s":600}}`,
			api.JobControlResponse{Errors: []api.CancelError{{JobID: 7, Code: api.CodePermission, Message: "only operators may raise"}}},
			1, "job 7: only operators may raise"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := newFakeServer(t)
			fs.answer(tc.path, tc.answer)
			te := newTestEnv(t, fs.sock)
			code := te.Gcontrol(append([]string{"gcontrol"}, tc.args...))
			if code != tc.code || !strings.Contains(te.stderr.String(), tc.stderr) {
				t.Fatalf("exit %d stderr %q, want %d %q", code, te.stderr, tc.code, tc.stderr)
			}
			var got json.RawMessage
			fs.decode(t, tc.path, 0, &got)
			if string(got) != tc.want {
				t.Fatalf("request %s, want %s", got, tc.want)
			}
		})
	}
	te := newTestEnv(t, newFakeServer(t).sock)
	if code := te.Gcontrol([]string{"gcontrol", "hold"}); code != ExitUsage || !strings.Contains(te.stderr.String(), "give the jobs") {
		t.Fatalf("hold without jobs: exit %d %q", code, te.stderr)
	}
}

// FuzzParseJobUpdate: gcontrol update job= words give a request naming
// jobs and something to change, travelling unchanged; or a one-line
// usage error.
func FuzzParseJobUpdate(f *testing.F) {
	for _, s := range []string{"job=12\x00timelimit=1:00:00", "JobId=1_[1-3],4\x00Partition=gpu\x00NumNodes=2", "job=1\x00nice=-4\x00comment=",
		"job=1\x00timelimit=UNLIMITED\x00qos=x\x00account=y\x00jobname=z", "job=\x00nice=1", "jobid=1\x00job=2", "job=1\x00nice=1e9", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, words string) {
		req, err := ParseJobUpdate(splitArgs(words))
		if err != nil {
			checkErrorLine(t, "update", err)
			return
		}
		if len(req.IDs)+len(req.Tasks) == 0 || req.Set.Empty() {
			t.Fatalf("no job or nothing to change: %+v", req)
		}
		if tl := req.Set.TimeLimit; tl != nil && *tl < api.TimeUnlimited {
			t.Fatalf("time limit %d", *tl)
		}
		checkSent(t, req, new(api.JobUpdateRequest))
	})
}
