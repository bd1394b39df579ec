package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/units"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestBuildJobFilter(t *testing.T) {
	tests := []struct {
		name     string
		opts     QueueOptions
		want     api.JobFilter
		wantRefs []api.JobRef
		errSub   string
	}{
		{name: "empty", want: api.JobFilter{}},
		{name: "lists", opts: QueueOptions{Users: "a, b", Jobs: "3,4", Partitions: "gpu", Names: "x", States: "pd,RUNNING"},
			want: api.JobFilter{Users: []string{"a", "b"}, Partitions: []string{"gpu"}, Names: []string{"x"},
				States: []api.JobState{api.StatePending, api.StateRunning}},
			wantRefs: []api.JobRef{{ID: 3}, {ID: 4}}},
		{name: "all", opts: QueueOptions{States: "all"}, want: api.JobFilter{IncludeFinished: true}},
		{name: "array task", opts: QueueOptions{Jobs: "12_3,12"}, wantRefs: []api.JobRef{{ID: 12, Task: 3, HasTask: true}, {ID: 12}}},
		{name: "bad state", opts: QueueOptions{States: "SLEEPING"}, errSub: "unknown job state"},
		{name: "bad id", opts: QueueOptions{Jobs: "12_x"}, errSub: "invalid job id"},
		// squeue's task ranges: 12_[1-3] names three tasks.
		{name: "task range", opts: QueueOptions{Jobs: "12_[1,3-4],7"}, wantRefs: []api.JobRef{
			{ID: 12, Task: 1, HasTask: true}, {ID: 12, Task: 3, HasTask: true}, {ID: 12, Task: 4, HasTask: true}, {ID: 7}}},
		{name: "bad id range", opts: QueueOptions{Jobs: "12_[1-3"}, errSub: "invalid job id"},
		{name: "bad task list", opts: QueueOptions{Jobs: "12_[3-1]"}, errSub: "invalid task list"},
		{name: "range of a task", opts: QueueOptions{Jobs: "12_4_[1]"}, errSub: "invalid job id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refs, err := BuildJobFilter(tt.opts)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("error = %v, want containing %q", err, tt.errSub)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(refs, tt.wantRefs) {
				t.Errorf("BuildJobFilter = %+v, %v, %v; want %+v, %v", got, refs, err, tt.want, tt.wantRefs)
			}
		})
	}
}

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want int
		bad  bool
	}{
		{in: "USR1", want: int(syscall.SIGUSR1)},
		{in: "sigusr2", want: int(syscall.SIGUSR2)},
		{in: "SIGTERM", want: int(syscall.SIGTERM)},
		{in: "KILL", want: 9},
		{in: "10", want: 10},
		{in: "64", want: 64},
		{in: "0", bad: true},
		{in: "65", bad: true},
		{in: "-9", bad: true},
		{in: "NOPE", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseSignal(tt.in)
		if (err != nil) != tt.bad || got != tt.want && !tt.bad {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestBuildCancelRequest(t *testing.T) {
	tests := []struct {
		name   string
		opts   CancelOptions
		want   api.CancelRequest
		errSub string
	}{
		{name: "ids", opts: CancelOptions{Args: []string{"12", "13,14"}}, want: api.CancelRequest{IDs: []api.JobID{12, 13, 14}}},
		{name: "user and signal", opts: CancelOptions{User: "bob", Signal: "USR1", State: "R"},
			want: api.CancelRequest{User: "bob", Signal: int(syscall.SIGUSR1), States: []api.JobState{api.StateRunning}}},
		{name: "name", opts: CancelOptions{Name: "x"}, want: api.CancelRequest{Name: "x"}},
		{name: "nothing", errSub: "no job given"},
		{name: "bad id", opts: CancelOptions{Args: []string{"abc"}}, errSub: "invalid job id"},
		{name: "zero id", opts: CancelOptions{Args: []string{"0"}}, errSub: "invalid job id"},
		{name: "bad signal", opts: CancelOptions{Args: []string{"1"}, Signal: "FOO"}, errSub: "invalid signal"},
		{name: "bad state", opts: CancelOptions{State: "zz"}, errSub: "unknown job state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildCancelRequest(tt.opts)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("error = %v, want containing %q", err, tt.errSub)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("BuildCancelRequest = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestReportCancel(t *testing.T) {
	var b bytes.Buffer
	if ReportCancel(&b, "gcancel", api.CancelResponse{Done: []api.JobID{1}}) || b.Len() != 0 {
		t.Errorf("nothing refused: got %q", b.String())
	}
	refused := ReportCancel(&b, "gcancel", api.CancelResponse{Errors: []api.CancelError{
		{JobID: 12, Code: api.CodePermission, Message: "permission denied: job 12 belongs to bob"},
		{JobID: 13, Code: api.CodeNotFound},
	}})
	want := "gcancel: error: job 12: permission denied: job 12 belongs to bob\ngcancel: error: job 13: not_found\n"
	if !refused || b.String() != want {
		t.Errorf("ReportCancel = %v, %q; want true, %q", refused, b.String(), want)
	}
}

func testNodes() api.NodeList {
	return api.NodeList{
		Partitions: []api.Partition{
			{Name: "gpu", Default: true, MaxTime: 86400, State: "UP"},
			{Name: "debug", Nodes: []string{"gpu02"}, State: "UP", MaxTime: 1800},
		},
		Nodes: []api.NodeInfo{
			{Node: api.Node{Name: "gpu02", CPUs: 64, MemBytes: 512 * units.GiB, State: api.NodeUp,
				GPUs: []api.GPU{{Index: 0, Model: "H100"}, {Index: 1, Model: "H100"}}}, DisplayState: "IDLE"},
			{Node: api.Node{Name: "gpu01", CPUs: 64, MemBytes: 512 * units.GiB, State: api.NodeUp,
				DriverVersion: "550.54.15", CUDAVersion: "12.4",
				GPUs: []api.GPU{{Index: 0, Model: "H100", MemBytes: 80 * units.GiB}, {Index: 1, Model: "H100", MemBytes: 80 * units.GiB},
					{Index: 2, Model: "H100", MemBytes: 80 * units.GiB}, {Index: 3, Model: "H100", MemBytes: 80 * units.GiB}}},
				Alloc: api.NodeUsage{CPUs: 8, MemBytes: 64 * units.GiB, GPUs: []int{1}, Jobs: 1}},
			{Node: api.Node{Name: "cpu01", CPUs: 8, MemBytes: 16 * units.GiB, State: api.NodeDrain, Reason: "maintenance", Partitions: []string{"gpu"}}},
		},
	}
}

func TestRenderNodes(t *testing.T) {
	var b bytes.Buffer
	if err := RenderNodes(&b, testNodes(), true); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NODELIST  PARTITION   STATE  CPUS(A/T)  MEMORY(A/T)  GPUS(A/T)  GPUS_FREE  GPU_MODEL:MEM  DRIVER          REASON\n" +
		"cpu01     gpu*        drain  0/8        0/16G        0/0        -          -              -               maintenance\n" +
		"gpu01     gpu*        mixed  8/64       64G/512G     1/4        0,2-3      H100:80G       550.54.15/12.4  -\n" +
		"gpu02     gpu*,debug  idle   0/64       0/512G       0/2        0-1        H100           -               -\n"
	if b.String() != want {
		t.Errorf("RenderNodes =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestRenderPartitions(t *testing.T) {
	var b bytes.Buffer
	list := testNodes()
	list.Partitions = append(list.Partitions, api.Partition{Name: "empty", Nodes: []string{"none"}})
	if err := RenderPartitions(&b, list, true); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"PARTITION  AVAIL  TIMELIMIT   NODES  STATE  NODELIST\n" +
		"gpu*       up     1-00:00:00  1      drain  cpu01\n" +
		"gpu*       up     1-00:00:00  1      idle   gpu02\n" +
		"gpu*       up     1-00:00:00  1      mixed  gpu01\n" +
		"debug      up     30:00       1      idle   gpu02\n" +
		"empty      up     UNLIMITED   0      n/a    \n"
	if b.String() != want {
		t.Errorf("RenderPartitions =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFilterPartitions(t *testing.T) {
	got := FilterPartitions(testNodes(), []string{"debug"})
	if len(got.Partitions) != 1 || len(got.Nodes) != 1 || got.Nodes[0].Name != "gpu02" {
		t.Errorf("FilterPartitions(debug) = %+v", got)
	}
}

func TestRanges(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{3, 0, 1, 2}, "0-3"},
		{[]int{0, 2, 3, 5, 7, 8}, "0,2-3,5,7-8"},
		{[]int{1, 1, 2}, "1-2"},
	}
	for _, tt := range tests {
		if got := Ranges(tt.in); got != tt.want {
			t.Errorf("Ranges(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseStartTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "now", want: t0},
		{in: "now-1hour", want: t0.Add(-time.Hour)},
		{in: "now-30minutes", want: t0.Add(-30 * time.Minute)},
		{in: "NOW-2days", want: t0.Add(-48 * time.Hour)},
		{in: "now-1w", want: t0.Add(-7 * 24 * time.Hour)},
		{in: "now-90", want: t0.Add(-90 * time.Second)},
		{in: "2025-02-01", want: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2025-02-01T10:30", want: time.Date(2025, 2, 1, 10, 30, 0, 0, time.UTC)},
		{in: "2025-02-01T10:30:15", want: time.Date(2025, 2, 1, 10, 30, 15, 0, time.UTC)},
		{in: "yesterday", bad: true},
		{in: "now-1fortnight", bad: true},
		{in: "2025-13-01", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseStartTime(tt.in, t0)
		if (err != nil) != tt.bad || !tt.bad && !got.Equal(tt.want) {
			t.Errorf("ParseStartTime(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestRenderAcct(t *testing.T) {
	jobs := []api.Job{
		{ID: 7, Spec: &api.JobSpec{Name: "train", Partition: "gpu"}, User: "alice", State: api.StateFailed, ExitCode: 2,
			StartTime: t0, EndTime: t0.Add(65 * time.Second),
			Allocs: []api.Allocation{{Node: "gpu01", CPUs: 8, MemBytes: 32 << 30, GPUs: []int{2, 3}}}},
		{ID: 5, Spec: &api.JobSpec{Name: "x", Partition: "gpu"}, User: "bob", State: api.StateCancelled, Signal: 9},
	}
	var b bytes.Buffer
	if err := RenderAcct(&b, jobs, true, time.UTC); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"JobID  JobName  Partition  User   State      ExitCode  Elapsed   Start                End                  NodeList  AllocTRES\n" +
		"5      x        gpu        bob    CANCELLED  0:9       00:00:00  Unknown              Unknown              -         -\n" +
		"7      train    gpu        alice  FAILED     2:0       00:01:05  2025-03-01T12:00:00  2025-03-01T12:01:05  gpu01     cpu=8,mem=32G,node=1,gres/gpu=2\n"
	if b.String() != want {
		t.Errorf("RenderAcct =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestSocketPath(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "gsched.conf")
	if err := os.WriteFile(conf, []byte("[controller]\nsocket = \"/run/x.sock\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got, err := SocketPath(env(map[string]string{EnvSocket: "/tmp/s.sock"}), conf); err != nil || got != "/tmp/s.sock" {
		t.Errorf("GSCHED_SOCKET: got %q, %v", got, err)
	}
	if _, err := SocketPath(env(nil), filepath.Join(dir, "missing.conf")); err == nil {
		t.Errorf("missing explicit config: no error")
	}
	// The file's format belongs to pkg/config; only check that a readable
	// file either gives its socket or a configuration error.
	got, err := SocketPath(env(nil), conf)
	if err == nil && got != "/run/x.sock" {
		t.Errorf("config socket = %q", got)
	}
	if err != nil && !strings.Contains(err.Error(), "configuration") {
		t.Errorf("config error = %v", err)
	}
}

func TestErrorLine(t *testing.T) {
	err := ErrorLine(errors.Join(api.ErrUnavailable, errors.New("x")))
	if strings.Contains(err, "\n") || !strings.Contains(err, "is the controller running") {
		t.Errorf("ErrorLine = %q", err)
	}
	// What the user typed comes back visible, not as terminal controls.
	if got := ErrorLine(errors.New("flag provided but not defined: -\x1b[2J\r\x7f")); got != `flag provided but not defined: -\x1b[2J\x0d\x7f` {
		t.Errorf("ErrorLine = %q", got)
	}
}
