package agent

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime"
)

// fuzzNode is the node the fuzzed answers are for.
func fuzzNode() api.Node {
	n := api.Node{Name: "n1", CPUs: 8, MemBytes: 16 << 30, ExtraDevices: []string{"/dev/nvidiactl"}}
	for i := 0; i < 4; i++ {
		n.GPUs = append(n.GPUs, api.GPU{Index: i, Minor: 10 + i, DevicePath: "/dev/nvidia1" + string(rune('0'+i))})
	}
	return n
}

// checkTaskSpec checks what the runtime relies on in a task spec the agent
// built from the controller's answer.
func checkTaskSpec(t *testing.T, n *api.Node, j *api.Job, spec *runtime.TaskSpec) {
	t.Helper()
	if spec.UID == 0 && j.User != "root" && j.User != "0" {
		t.Fatalf("task %s runs as root for user %q", spec.ID, j.User)
	}
	if !filepath.IsAbs(spec.Cwd) {
		t.Fatalf("task %s: working directory %q is not absolute", spec.ID, spec.Cwd)
	}
	if spec.ExecIn == "" {
		if !strings.HasPrefix(string(spec.Script), "#!") {
			t.Fatalf("task %s: script without #!: %q", spec.ID, spec.Script)
		}
		for _, p := range []string{spec.Stdout, spec.Stderr} {
			if p != "" && !filepath.IsAbs(p) {
				t.Fatalf("task %s: output %q is not absolute", spec.ID, p)
			}
		}
	} else if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		t.Fatalf("step task %s without a command", spec.ID)
	}
	for _, d := range spec.WritableDirs {
		if !filepath.IsAbs(d) || d == "/" {
			t.Fatalf("task %s: writable dir %q", spec.ID, d)
		}
	}
	for _, kv := range spec.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" || strings.IndexByte(kv, 0) >= 0 {
			t.Fatalf("task %s: environment entry %q", spec.ID, kv)
		}
	}
	for _, a := range append(append([]string{}, spec.Args...), spec.Argv...) {
		if strings.IndexByte(a, 0) >= 0 {
			t.Fatalf("task %s: argument with a NUL byte %q", spec.ID, a)
		}
	}
	minors := map[int64]bool{}
	for _, g := range n.GPUs {
		minors[int64(g.Minor)] = true
	}
	for _, d := range spec.Devices {
		if d.Major == 195 && !minors[d.Minor] {
			t.Fatalf("task %s: device %+v is not one of the node's GPUs", spec.ID, d)
		}
	}
	if spec.CPUs < 0 || spec.MemoryBytes < 0 {
		t.Fatalf("task %s: negative resources %v CPUs, %d bytes", spec.ID, spec.CPUs, spec.MemoryBytes)
	}
}

// FuzzSyncAnswer: whatever a controller's sync answer holds, the agent
// turns each job and step task meant for this node into a task the
// runtime can take, named so that the node's reports find the job again,
// or into a one-line error it reports; it never panics.
func FuzzSyncAnswer(f *testing.F) {
	job := api.Job{ID: 7, User: "alice", UID: 1000, GID: 1000, State: api.StateRunning, Restarts: 1,
		Spec: &api.JobSpec{Name: "train", Nodes: 2, NTasks: 4, CPUsPerTask: 2, Script: "#!/bin/sh\necho\n", WorkDir: "/home/alice",
			Output: "out-%j-%N.log", Env: []string{"A=1", "PATH=/bin"}, TimeLimit: 60},
		Allocs:     []api.Allocation{{Node: "n1", CPUs: 4, MemBytes: 1 << 30, GPUs: []int{1, 2}}, {Node: "n2", Addr: "10.0.0.2", CPUs: 4}},
		MasterPort: 29500, Signals: []api.SignalRequest{{Seq: 1, Signal: 10}}}
	step := api.Step{JobID: 7, ID: 3, Attempt: 1, State: api.StepRunning,
		Spec:  api.StepSpec{Argv: []string{"python", "x.py"}, Env: []string{"B=2"}, IOAddr: "h:1", IOToken: "t"},
		Tasks: []api.StepTask{{Rank: 0, Node: "n1", GPUs: []int{1}}, {Rank: 1, Node: "n1", LocalRank: 1, GPUs: []int{2}}, {Rank: 2, Node: "n2"}}}
	for _, resp := range []api.SyncResponse{
		{Jobs: []api.Job{job}, Steps: []api.Step{step}, Acked: []api.TaskRef{{JobID: 3, Attempt: 1}}},
		{Reregister: true},
	} {
		b, err := json.Marshal(resp)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"jobs":[{"id":1,"uid":0,"user":"alice","spec":{"script":"#!/bin/sh"},"allocs":[{"node":"n1","gpus":[9]}]}]}`))
	f.Add([]byte(`{"jobs":[{"id":1,"uid":5,"restarts":-1,"spec":{"work_dir":"rel","env":["=x","A\u0000=1"]},"allocs":[{"node":"n1"}]}]}`))
	n := fuzzNode()
	f.Fuzz(func(t *testing.T, body []byte) {
		var resp api.SyncResponse
		if json.Unmarshal(body, &resp) != nil { // as rpc.Client decodes answers
			return
		}
		jobs := map[api.JobID]*api.Job{}
		for i := range resp.Jobs {
			j := &resp.Jobs[i]
			jobs[j.ID] = j
			spec, err := TaskSpec(j, &n, 100, time.Second, EnvOptions{Cluster: "c", SlurmCompat: true})
			if err != nil {
				if strings.ContainsAny(err.Error(), "\n\r") {
					t.Fatalf("job %d: multi-line error %q", j.ID, err)
				}
				continue
			}
			if ref, ok := ParseTaskID(spec.ID); !ok || ref != (api.TaskRef{JobID: j.ID, Attempt: j.Restarts}) {
				t.Fatalf("task id %q of job %d attempt %d parses as %+v, %v", spec.ID, j.ID, j.Restarts, ref, ok)
			}
			checkTaskSpec(t, &n, j, &spec)
		}
		for i := range resp.Steps {
			st := &resp.Steps[i]
			j := jobs[st.JobID]
			if j == nil {
				continue
			}
			for k := range st.Tasks {
				tk := &st.Tasks[k]
				if tk.Node != n.Name {
					continue
				}
				spec, err := StepTaskSpec(j, st, tk, &n, time.Second, EnvOptions{SlurmCompat: true})
				if err != nil {
					if strings.ContainsAny(err.Error(), "\n\r") {
						t.Fatalf("step %s: multi-line error %q", st.Key(), err)
					}
					continue
				}
				if r, ok := parseStepTaskID(spec.ID); !ok || r.JobID != st.JobID || r.Step != st.ID || r.Rank != tk.Rank {
					t.Fatalf("step task id %q of %s rank %d parses as %+v, %v", spec.ID, st.Key(), tk.Rank, r, ok)
				}
				if ref, ok := ParseTaskID(spec.ExecIn); !ok || ref != (api.TaskRef{JobID: j.ID, Attempt: j.Restarts}) {
					t.Fatalf("step task %s runs in %q, not job %d attempt %d", spec.ID, spec.ExecIn, j.ID, j.Restarts)
				}
				checkTaskSpec(t, &n, j, &spec)
			}
		}
	})
}

// FuzzTaskIDs: runtime task names parse back only from the names the
// agent gives, so a report never lands on another job or attempt.
func FuzzTaskIDs(f *testing.F) {
	for _, s := range []string{"job-1", "job-7.2", "job-05", "job-1.0", "job-1.-1", "job-18446744073709551615",
		"step-1.2.3", "step-01.2.3", "step-1.2.-3", "step-1.2", "step-1.2.3.4", "job-+1", "step-+1.+2.+3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if ref, ok := ParseTaskID(id); ok {
			if ref.Attempt < 0 || TaskID(ref.JobID, ref.Attempt) != id {
				t.Fatalf("ParseTaskID(%q) = %+v, which is named %q", id, ref, TaskID(ref.JobID, ref.Attempt))
			}
		}
		if r, ok := parseStepTaskID(id); ok {
			if r.Step < 0 || r.Rank < 0 || StepTaskID(r.JobID, r.Step, r.Rank) != id {
				t.Fatalf("parseStepTaskID(%q) = %+v, which is named %q", id, r, StepTaskID(r.JobID, r.Step, r.Rank))
			}
			if !isStepTask(id) {
				t.Fatalf("%q parses as a step task but isStepTask says no", id)
			}
		}
	})
}
