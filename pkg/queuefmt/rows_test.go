package queuefmt

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// arrayTask builds task idx of array arr (whose job IDs run from arr).
func arrayTask(arr api.JobID, idx int, st api.JobState, reason, spec string) api.Job {
	return api.Job{ID: arr + api.JobID(idx), ArrayJobID: arr, ArrayTaskID: idx, State: st, Reason: reason,
		User: "alice", Spec: &api.JobSpec{Name: "sweep", Partition: "gpu", Array: spec}}
}

func TestCompressTasks(t *testing.T) {
	tests := []struct {
		ids   []int
		limit int
		want  string
	}{
		{nil, 0, ""},
		{[]int{5}, 0, "5"},
		{[]int{1, 3, 5, 6, 7}, 0, "1,3,5-7"},
		{[]int{0, 1}, 0, "0-1"},
		{[]int{5, 6, 7, 8, 9, 10, 11}, 0, "5-11"},
		{[]int{0, 2, 4, 6, 8, 10, 12}, 8, "0,2,4,6,..."},
		{[]int{0, 2, 4, 6, 8, 10, 12}, 0, "0,2,4,6,8,10,12"},
		{[]int{1000000}, 3, "1000000"}, // the first item always shows
	}
	for _, tt := range tests {
		if got := CompressTasks(tt.ids, tt.limit); got != tt.want {
			t.Errorf("CompressTasks(%v, %d) = %q, want %q", tt.ids, tt.limit, got, tt.want)
		}
	}
}

func TestArrayThrottle(t *testing.T) {
	for spec, want := range map[string]int{"": 0, "0-99": 0, "0-99%4": 4, "1,3%2": 2, "0-9%": 0, "0-9%x": 0, "0-9%0": 0, "0-9%-3": 0} {
		if got := arrayThrottle(spec); got != want {
			t.Errorf("arrayThrottle(%q) = %d, want %d", spec, got, want)
		}
	}
}

func TestQueueRowsFolding(t *testing.T) {
	var mixed []api.Job
	// Array 100: tasks 0-1 running, 2-9 pending behind the throttle, 10
	// and 11 pending for priority; array 200 has one pending task; job 50
	// is no array.
	for i := 0; i < 12; i++ {
		switch {
		case i < 2:
			mixed = append(mixed, arrayTask(100, i, api.StateRunning, "", "0-11%2"))
		case i < 10:
			mixed = append(mixed, arrayTask(100, i, api.StatePending, api.ReasonArrayTaskLimit, "0-11%2"))
		default:
			mixed = append(mixed, arrayTask(100, i, api.StatePending, api.ReasonPriority, "0-11%2"))
		}
	}
	mixed = append(mixed, arrayTask(200, 3, api.StatePending, api.ReasonPriority, "0-3"))
	mixed = append(mixed, api.Job{ID: 50, State: api.StatePending, Reason: api.ReasonPriority, User: "bob"})
	sparse := []api.Job{
		arrayTask(300, 7, api.StatePending, "", "1,3,5-7,9"),
		arrayTask(300, 1, api.StatePending, "", "1,3,5-7,9"),
		arrayTask(300, 5, api.StatePending, api.ReasonNone, "1,3,5-7,9"),
		arrayTask(300, 3, api.StatePending, "", "1,3,5-7,9"),
		arrayTask(300, 6, api.StatePending, "", "1,3,5-7,9"),
		arrayTask(300, 9, api.StateCompleted, "", "1,3,5-7,9"),
	}
	tests := []struct {
		name string
		jobs []api.Job
		fold bool
		want []string // "%i %A %K %r"
	}{
		{"mixed", mixed, true, []string{
			"50 50 N/A Priority",
			"100_0 100 0 None", "100_1 101 1 None",
			"100_[2-9%2] 100 2-9%2 JobArrayTaskLimit",
			"100_[10-11%2] 100 10-11%2 Priority",
			"200_3 203 3 Priority",
		}},
		{"sparse, reasons None and empty alike", sparse, true, []string{
			"300_[1,3,5-7] 300 1,3,5-7 None", "300_9 309 9 None",
		}},
		{"unfolded (-r)", sparse[:3], false, []string{
			"300_1 301 1 None", "300_5 305 5 None", "300_7 307 7 None",
		}},
	}
	f, err := ParseFormat("%i %A %K %r")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		qc := &Ctx{Now: t0, Loc: time.UTC, BitstrLen: DefaultBitstrLen}
		rows := Rows(ptrs(tt.jobs), tt.fold, nil)
		SortRows(rows, nil, qc)
		var got []string
		for i := range rows {
			got = append(got, f.line(&rows[i], qc))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestRenderQueueFolds(t *testing.T) {
	var jobs []api.Job
	for i := 5; i < 100; i++ {
		jobs = append(jobs, arrayTask(123, i, api.StatePending, api.ReasonArrayTaskLimit, "0-99%4"))
	}
	jobs = append(jobs, arrayTask(123, 4, api.StateRunning, "", "0-99%4"))
	jobs[len(jobs)-1].Allocs = []api.Allocation{{Node: "gpu01"}}
	var b bytes.Buffer
	if err := RenderQueue(&b, ptrs(jobs), t0, true); err != nil {
		t.Fatal(err)
	}
	want := "JOBID         PARTITION  NAME   USER   ST  TIME  NODES  NODELIST(REASON)\n" +
		"123_4         gpu        sweep  alice  R   0:00  1      gpu01\n" +
		"123_[5-99%4]  gpu        sweep  alice  PD  0:00  1      (JobArrayTaskLimit)\n"
	if b.String() != want {
		t.Errorf("RenderQueue =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestRenderQueue(t *testing.T) {
	jobs := []api.Job{
		{ID: 12, Spec: &api.JobSpec{Name: "train", Partition: "gpu", Nodes: 1}, User: "alice", State: api.StateRunning,
			StartTime: t0.Add(-3723 * time.Second), Allocs: []api.Allocation{{Node: "gpu01"}}},
		{ID: 11, Spec: &api.JobSpec{Name: "prep", Partition: "gpu"}, User: "bob", State: api.StatePending, Reason: api.ReasonResources},
		{ID: 13, Spec: &api.JobSpec{Name: "x"}, User: "bob", State: api.StatePending},
	}
	var b bytes.Buffer
	if err := RenderQueue(&b, ptrs(jobs), t0, true); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"JOBID  PARTITION  NAME   USER   ST  TIME     NODES  NODELIST(REASON)\n" +
		"11     gpu        prep   bob    PD  0:00     1      (Resources)\n" +
		"12     gpu        train  alice  R   1:02:03  1      gpu01\n" +
		"13     -          x      bob    PD  0:00     1      (None)\n"
	if b.String() != want {
		t.Errorf("RenderQueue =\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	_ = RenderQueue(&b, ptrs(jobs[:1]), t0, false)
	if strings.Contains(b.String(), "JOBID") {
		t.Errorf("header printed with header=false: %q", b.String())
	}
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// ptrs points at each of jobs, as a listing's renderer takes them.
func ptrs(jobs []api.Job) []*api.Job {
	out := make([]*api.Job, len(jobs))
	for i := range jobs {
		out[i] = &jobs[i]
	}
	return out
}
