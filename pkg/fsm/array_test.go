package fsm_test

import (
	"bytes"
	"io"
	"testing"
	"unsafe"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
)

func arrayOf(spec string) specOpt { return func(j *api.Job) { j.Spec.Array = spec } }

func scriptData(s string) *byte { return unsafe.StringData(s) }

// One submission of an array makes one pending job per task, with
// consecutive IDs, the first task's ID as the array's; the tasks share
// the template's script in memory, also after a snapshot is restored.
func TestSubmitArray(t *testing.T) {
	h := newHarness(t)
	h.submit(newJob())                                    // 1
	ids := h.submit(newJob(arrayOf("3,5-6%2")), newJob()) // 2,3,4 then 5
	if len(ids) != 2 || ids[0] != 2 || ids[1] != 5 {
		t.Fatalf("submit returned %v, want [2 5] (the array's ID, then the next job's)", ids)
	}
	want := []struct {
		id   api.JobID
		task int
	}{{2, 3}, {3, 5}, {4, 6}}
	first := h.job(2)
	for _, w := range want {
		j := h.job(w.id)
		if j.ArrayJobID != 2 || j.ArrayTaskID != w.task || j.State != api.StatePending || j.DisplayID() != "2_"+itoa(w.task) {
			t.Fatalf("job %d: array %d task %d state %s", w.id, j.ArrayJobID, j.ArrayTaskID, j.State)
		}
		if scriptData(j.Spec.Script) != scriptData(first.Spec.Script) {
			t.Fatalf("task %d holds its own copy of the script", w.task)
		}
	}
	if j := h.job(5); j.IsArrayTask() {
		t.Fatalf("the job after the array is an array task: %+v", j)
	}

	sink := snapshotOf(t, h.f)
	fresh := newHarness(t)
	if err := fresh.f.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	a, b := fresh.job(2), fresh.job(4)
	if b.ArrayJobID != 2 || b.ArrayTaskID != 6 {
		t.Fatalf("restored task: %+v", b)
	}
	if scriptData(a.Spec.Script) != scriptData(b.Spec.Script) {
		t.Fatal("restored tasks hold separate copies of the script")
	}
}

// A template whose array spec does not parse is a corrupt command: the
// whole submission is refused and no ID is used.
func TestSubmitArrayCorrupt(t *testing.T) {
	h := newHarness(t)
	_, err := h.f.ApplyCommand(&fsm.Command{Type: fsm.CmdSubmit, Time: h.now,
		Submit: &fsm.SubmitCmd{Jobs: []api.Job{newJob(arrayOf("0-2")), newJob(arrayOf("5-1"))}}})
	if err == nil {
		t.Fatal("a corrupt array spec was applied")
	}
	if ids := h.submit(newJob()); ids[0] != 1 {
		t.Fatalf("next ID %d, want 1", ids[0])
	}
}

func itoa(n int) string { return api.JobID(n).String() }
