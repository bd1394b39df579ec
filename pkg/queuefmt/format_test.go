package queuefmt

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

func TestColumnLayout(t *testing.T) {
	tests := []struct {
		col          Column
		in           string
		squeue, sacc string
	}{
		{Column{}, "train", "train", "train"},
		{Column{Width: 8}, "train", "train   ", "train   "},
		{Column{Width: 8, Right: true}, "train", "   train", "   train"},
		{Column{Width: 3}, "train", "tra", "tr+"},
		{Column{Width: 3, Right: true}, "train", "tra", "tr+"},
		{Column{Width: 5}, "train", "train", "train"},
		{Column{Width: 4, Right: true}, "ééééé", "éééé", "ééé+"},
		{Column{Width: 1}, "ab", "a", "+"},
	}
	for _, tt := range tests {
		if got := tt.col.Squeue(tt.in); got != tt.squeue {
			t.Errorf("%+v.Squeue(%q) = %q, want %q", tt.col, tt.in, got, tt.squeue)
		}
		if got := tt.col.Sacct(tt.in); got != tt.sacc {
			t.Errorf("%+v.Sacct(%q) = %q, want %q", tt.col, tt.in, got, tt.sacc)
		}
	}
}

func TestParseQueueFormat(t *testing.T) {
	tests := []struct {
		spec    string
		want    Format
		wantErr string
	}{
		{spec: "%i", want: Format{{Letter: 'i'}}},
		{spec: "%.18i", want: Format{{Letter: 'i', Col: Column{18, true}}}},
		{spec: "%-20j", want: Format{{Letter: 'j', Col: Column{20, false}}}},
		{spec: "%10P", want: Format{{Letter: 'P', Col: Column{10, false}}}},
		{spec: "%.i", want: Format{{Letter: 'i', Col: Column{0, true}}}},
		{spec: "id=%i|%%|%T.", want: Format{{Literal: "id="}, {Letter: 'i'}, {Literal: "|%|"}, {Letter: 'T'}, {Literal: "."}}},
		{spec: "%1000j", want: Format{{Letter: 'j', Col: Column{1000, false}}}},
		{spec: "", wantErr: "no fields"},
		{spec: "   ", wantErr: "no fields"},
		{spec: "just text %%", wantErr: "no fields"},
		{spec: "%", wantErr: "needs a field letter"},
		{spec: "%i %.18", wantErr: "needs a field letter"},
		{spec: "%.", wantErr: "needs a field letter"},
		{spec: "%!", wantErr: "unknown field '!'"},
		{spec: "%.5é", wantErr: "unknown field 'é'"},
		{spec: "%..5i", wantErr: "unknown field '.'"},
		{spec: "%1001j", wantErr: "too large"},
		{spec: "%99999999999999999999j", wantErr: "too large"},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseFormat(%q) = %v, %v; want error %q", tt.spec, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFormat(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}
}

// queueJob is a running two-node job with every field set.
func queueJob() api.Job {
	start := t0.Add(-90 * time.Second)
	return api.Job{
		ID: 42, User: "alice", UID: 1000, GID: 1000, State: api.StateRunning, Priority: 2147483648,
		Spec: &api.JobSpec{Name: "a-very-long-name", Partition: "gpu", Nodes: 2, NTasksPerNode: 2, CPUsPerTask: 4,
			MemBytes: 64 << 30, GPUsPerNode: 4, GPUType: "h100", TimeLimit: 3600, Account: "physics", QOS: "high",
			WorkDir: "/home/alice/run", Nice: 5, Constraint: "ib"},
		SubmitTime: t0.Add(-time.Hour), StartTime: start, Deadline: start.Add(time.Hour),
		Allocs: []api.Allocation{{Node: "gpu01", CPUs: 8}, {Node: "gpu02", CPUs: 8}},
	}
}

func TestQueueFields(t *testing.T) {
	j := queueJob()
	pending := api.Job{ID: 7, State: api.StatePending, Reason: api.ReasonPriority, Spec: &api.JobSpec{CPUsPerTask: 2},
		ExpectedStart: t0.Add(time.Hour)}
	task := api.Job{ID: 130, ArrayJobID: 123, ArrayTaskID: 7, State: api.StateRunning}
	qc := &Ctx{Now: t0, Loc: time.UTC, BitstrLen: DefaultBitstrLen}
	tests := []struct {
		job    api.Job
		letter byte
		want   string
	}{
		{j, 'i', "42"}, {j, 'A', "42"}, {j, 'F', "42"}, {j, 'K', "N/A"},
		{j, 'P', "gpu"}, {j, 'j', "a-very-long-name"}, {j, 'u', "alice"}, {j, 'U', "1000"}, {j, 'G', "1000"},
		{j, 'T', "RUNNING"}, {j, 't', "R"}, {j, 'M', "1:30"}, {j, 'l', "1:00:00"}, {j, 'L', "58:30"},
		{j, 'D', "2"}, {j, 'R', "gpu[01-02]"}, {j, 'r', "None"}, {j, 'N', "gpu[01-02]"},
		{j, 'b', "gres/gpu:h100:4"}, {j, 'C', "16"}, {j, 'c', "8"}, {j, 'm', "64G"}, {j, 'Q', "2147483648"},
		{j, 'p', "0.50000000"}, {j, 'y', "5"},
		{j, 'S', "2025-03-01T11:58:30"}, {j, 'e', "2025-03-01T12:58:30"}, {j, 'V', "2025-03-01T11:00:00"},
		{j, 'a', "physics"}, {j, 'q', "high"}, {j, 'Z', "/home/alice/run"}, {j, 'f', "ib"}, {j, 'E', "(null)"},
		{j, 'h', "OK"}, {j, 'B', "gpu01"}, {j, 'w', "N/A"},
		{pending, 'R', "(Priority)"}, {pending, 'r', "Priority"}, {pending, 'N', ""}, {pending, 'C', "2"},
		{pending, 'b', "N/A"}, {pending, 'S', "2025-03-01T13:00:00"}, {pending, 'e', "N/A"}, {pending, 'l', "UNLIMITED"},
		{pending, 'L', "UNLIMITED"}, {pending, 'M', "0:00"}, {pending, 'P', "-"}, {pending, 'B', "n/a"},
		{task, 'i', "123_7"}, {task, 'A', "130"}, {task, 'F', "123"}, {task, 'K', "7"},
	}
	for _, tt := range tests {
		r := Row{Job: &tt.job}
		if got := r.field(tt.letter, qc); got != tt.want {
			t.Errorf("job %s %%%c = %q, want %q", tt.job.DisplayID(), tt.letter, got, tt.want)
		}
	}

	// A planner's word on a pending job wins over its record (the
	// controller lays out listings with the latest pass's plans); other
	// jobs keep their records'.
	planner := func(j *api.Job) (Plan, bool) {
		return Plan{Reason: api.ReasonResources, ExpectedStart: t0.Add(2 * time.Hour), Priority: 77}, j.ID == pending.ID
	}
	for _, tt := range []struct {
		job    api.Job
		letter byte
		want   string
	}{
		{pending, 'R', "(Resources)"}, {pending, 'r', "Resources"}, {pending, 'S', "2025-03-01T14:00:00"}, {pending, 'Q', "77"},
		{j, 'Q', "2147483648"}, {j, 'R', "gpu[01-02]"},
	} {
		rows := Rows([]*api.Job{&tt.job}, true, planner)
		if got := rows[0].field(tt.letter, qc); got != tt.want {
			t.Errorf("planned job %s %%%c = %q, want %q", tt.job.DisplayID(), tt.letter, got, tt.want)
		}
	}
}

func TestRenderQueueFormat(t *testing.T) {
	jobs := []api.Job{queueJob(), {ID: 7, User: "bob", State: api.StatePending, Reason: api.ReasonResources, Spec: &api.JobSpec{}}}
	tests := []struct {
		spec string
		want string
	}{
		{"%i %T %j", "JOBID STATE NAME\n7 PENDING -\n42 RUNNING a-very-long-name\n"},
		{"%.5i|%-8j|%.3t|%R", "JOBID|NAME    | ST|NODELIST(REASON)\n    7|-       | PD|(Resources)\n   42|a-very-l|  R|gpu[01-02]\n"},
		{"%.2i %5T", "JO STATE\n 7 PENDI\n42 RUNNI\n"},
		{"[%A_%F]%%", "[JOBID_ARRAY_JOB_ID]%\n[7_7]%\n[42_42]%\n"},
	}
	for _, tt := range tests {
		f, err := ParseFormat(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		v := View{Format: f, Fold: true, Ctx: Ctx{Now: t0, Loc: time.UTC}}
		var b bytes.Buffer
		if err := v.Render(&b, ptrs(jobs), true); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("format %q =\n%s\nwant\n%s", tt.spec, b.String(), tt.want)
		}
	}
	// squeue's default format, for the record of what it looks like.
	f, _ := ParseFormat(SqueueDefaultFormat)
	var b bytes.Buffer
	_ = RenderFormat(&b, []Row{{Job: &jobs[0]}}, f, true, &Ctx{Now: t0, Loc: time.UTC})
	want := "             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)\n" +
		"                42       gpu a-very-l    alice  R       1:30      2 gpu[01-02]\n"
	if b.String() != want {
		t.Errorf("default format =\n%q\nwant\n%q", b.String(), want)
	}
}

func TestParseQueueSort(t *testing.T) {
	tests := []struct {
		spec    string
		want    []SortKey
		wantErr string
	}{
		{spec: "i", want: []SortKey{{'i', false}}},
		{spec: "-t,-p,i", want: []SortKey{{'t', true}, {'p', true}, {'i', false}}},
		{spec: "+P, -Q ,", want: []SortKey{{'P', false}, {'Q', true}}},
		{spec: "", wantErr: "no field letters"},
		{spec: ",", wantErr: "no field letters"},
		{spec: "--t", wantErr: "not a field letter"},
		{spec: "ti", wantErr: "not a field letter"},
		{spec: "-", wantErr: "not a field letter"},
		{spec: "1", wantErr: "not a field letter"},
		{spec: "i,%", wantErr: "not a field letter"},
	}
	for _, tt := range tests {
		got, err := ParseSort(tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSort(%q) = %v, %v; want error %q", tt.spec, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSort(%q) = %v, %v; want %v", tt.spec, got, err, tt.want)
		}
	}
}

func TestSortQueueRows(t *testing.T) {
	jobs := []api.Job{
		{ID: 1, Spec: &api.JobSpec{Partition: "gpu"}, State: api.StateRunning, Priority: 10},
		{ID: 2, Spec: &api.JobSpec{Partition: "cpu"}, State: api.StatePending, Priority: 30},
		{ID: 3, Spec: &api.JobSpec{Partition: "gpu"}, State: api.StatePending, Priority: 20},
		{ID: 4, Spec: &api.JobSpec{Partition: "gpu"}, State: api.StatePending, Priority: 40},
		{ID: 5, Spec: &api.JobSpec{Partition: "cpu"}, State: api.StateRunning, Priority: 40},
	}
	tests := []struct {
		spec string
		want []api.JobID
	}{
		{"", []api.JobID{1, 2, 3, 4, 5}},
		{"-i", []api.JobID{5, 4, 3, 2, 1}},
		{"P,t,-p", []api.JobID{2, 5, 4, 3, 1}}, // squeue's documented default
		{"-t", []api.JobID{1, 5, 2, 3, 4}},
		{"-Q", []api.JobID{4, 5, 2, 3, 1}},
		{"j", []api.JobID{1, 2, 3, 4, 5}}, // equal names: job ID breaks the tie
	}
	qc := &Ctx{Now: t0, Loc: time.UTC}
	for _, tt := range tests {
		var keys []SortKey
		if tt.spec != "" {
			var err error
			if keys, err = ParseSort(tt.spec); err != nil {
				t.Fatal(err)
			}
		}
		rows := Rows(ptrs(jobs), true, nil)
		SortRows(rows, keys, qc)
		var got []api.JobID
		for _, r := range rows {
			got = append(got, r.Job.ID)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("sort %q = %v, want %v", tt.spec, got, tt.want)
		}
	}
}
