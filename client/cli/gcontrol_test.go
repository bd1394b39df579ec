package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

func TestGcontrolUpdate(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want api.NodeUpdateRequest
		err  string // usage error
	}{
		{"drain", []string{"update", "NodeName=n[1-2]", "State=DRAIN", "Reason=bad fan"},
			api.NodeUpdateRequest{Nodes: []string{"n1", "n2"}, State: "DRAIN", Reason: "bad fan"}, ""},
		{"resume, keys in any case", []string{"update", "state=resume", "nodename=gpu07"},
			api.NodeUpdateRequest{Nodes: []string{"gpu07"}, State: "RESUME"}, ""},
		{"down", []string{"update", "node=n3", "state=down", "reason=PSU"},
			api.NodeUpdateRequest{Nodes: []string{"n3"}, State: "DOWN", Reason: "PSU"}, ""},
		{"drain without reason", []string{"update", "nodename=n1", "state=drain"}, api.NodeUpdateRequest{}, "needs reason"},
		{"no state", []string{"update", "nodename=n1"}, api.NodeUpdateRequest{}, "give nodename"},
		{"bad state", []string{"update", "nodename=n1", "state=sleepy"}, api.NodeUpdateRequest{}, "unknown state"},
		{"bad hostlist", []string{"update", "nodename=n[2-1]", "state=resume"}, api.NodeUpdateRequest{}, "nodename"},
		{"not key=value", []string{"update", "n1"}, api.NodeUpdateRequest{}, "not KEY=VALUE"},
		{"job update", []string{"update", "jobid=4", "timelimit=5"}, api.NodeUpdateRequest{}, "only nodes"},
		{"twice", []string{"update", "state=drain", "state=down"}, api.NodeUpdateRequest{}, "given twice"},
		{"unknown command", []string{"reboot"}, api.NodeUpdateRequest{}, "unknown command"},
		{"show nothing", []string{"show"}, api.NodeUpdateRequest{}, "show what"},
		{"show frobs", []string{"show", "frobs"}, api.NodeUpdateRequest{}, "cannot show"},
		{"bad job id", []string{"show", "job", "x1"}, api.NodeUpdateRequest{}, "invalid job id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t)
			fs.answer(api.PathUpdateNodes, api.NodeUpdateResponse{})
			te := newTestEnv(t, fs.sock)
			code := te.Gcontrol(append([]string{"gcontrol"}, tc.args...))
			if tc.err != "" {
				if code != ExitUsage || !strings.Contains(te.stderr.String(), tc.err) {
					t.Fatalf("exit %d stderr %q, want usage error %q", code, te.stderr, tc.err)
				}
				if n := fs.count(api.PathUpdateNodes); n != 0 {
					t.Errorf("%d updates reached the server", n)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d stderr %q", code, te.stderr)
			}
			var got api.NodeUpdateRequest
			fs.decode(t, api.PathUpdateNodes, 0, &got)
			if strings.Join(got.Nodes, ",") != strings.Join(tc.want.Nodes, ",") || got.State != tc.want.State || got.Reason != tc.want.Reason {
				t.Errorf("request %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestGcontrolShow(t *testing.T) {
	fs := newFakeServer(t)
	start := t0.Add(-90 * time.Second)
	fs.answer(api.PathListJobs, api.JobList{Jobs: []api.Job{{
		ID: 7, User: "alice", UID: 1000, GID: 100, State: api.StateRunning, Priority: 42, SubmitTime: start, StartTime: start,
		Spec: api.JobSpec{Name: "train", Partition: "gpu", NTasks: 2, CPUsPerTask: 4, MemBytes: 8 << 30, GPUsPerNode: 2,
			Nodes: 2, TimeLimit: 3600, Output: "slurm-%j.out", WorkDir: "/w", NoRequeue: true},
		Allocs: []api.Allocation{{Node: "n1", GPUs: []int{0, 1}}, {Node: "n2", GPUs: []int{2, 3}}},
	}}})
	fs.answer(api.PathListNodes, api.NodeList{
		Nodes: []api.NodeInfo{{Node: api.Node{Name: "n1", CPUs: 8, MemBytes: 16 << 30, State: api.NodeDrain, Reason: "fan",
			GPUs: []api.GPU{{Index: 0, Model: "NVIDIA H100"}, {Index: 1, Model: "NVIDIA H100"}}},
			Alloc: api.NodeUsage{CPUs: 4, GPUs: []int{1}, Jobs: 1}, DisplayState: "DRAIN"}},
		Partitions: []api.Partition{{Name: "gpu", Default: true}},
	})
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"show", "job", "7"}, []string{"JobId=7 JobName=train\n", "UserId=alice(1000)", "JobState=RUNNING", "RunTime=1:30",
			"TimeLimit=1:00:00", "NodeList=n[1-2]", "NumNodes=2", "Gpus=4", "GpuIDs=n1:0,1;n2:2,3", "Requeue=false"}},
		{[]string{"-o", "show", "job"}, []string{"JobId=7 JobName=train UserId=alice(1000) "}},
		{[]string{"show", "node", "n1"}, []string{"NodeName=n1", "State=DRAIN Reason=fan", "Gres=gpu:NVIDIA_H100:2", "GpuIDsAlloc=1", "CPUAlloc=4"}},
		{[]string{"show", "partition"}, []string{"PartitionName=gpu", "Default=YES State=UP", "Nodes=n1 TotalNodes=1 TotalCPUs=8"}},
		{[]string{"show", "hostnames", "gpu[01-02]"}, []string{"gpu01\ngpu02\n"}},
	} {
		te := newTestEnv(t, fs.sock)
		if code := te.Gcontrol(append([]string{"gcontrol"}, tc.args...)); code != 0 {
			t.Fatalf("%v: exit %d stderr %q", tc.args, code, te.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(te.stdout.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, te.stdout)
			}
		}
	}
	te := newTestEnv(t, fs.sock)
	if code := te.Gcontrol([]string{"gcontrol", "show", "node", "n9"}); code == 0 || !strings.Contains(te.stderr.String(), `node "n9" not found`) {
		t.Errorf("unknown node: exit %d stderr %q", code, te.stderr)
	}
}
