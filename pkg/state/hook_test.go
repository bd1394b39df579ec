package state_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/state"
)

// The job hook sees each committed job change once (the first before, the
// last after), nothing of a failed transaction, and nothing once removed.
func TestJobHook(t *testing.T) {
	s, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	s.SetJobHook(func(before, after *api.Job) {
		str := func(j *api.Job) string {
			if j == nil {
				return "-"
			}
			return fmt.Sprintf("%d:%s", j.ID, j.State)
		}
		seen = append(seen, str(before)+">"+str(after))
	})
	write := func(fn func(*state.Txn) error) error { return s.Write(fn) }
	if err := write(func(tx *state.Txn) error {
		if err := tx.PutJob(job(1)); err != nil {
			return err
		}
		if err := tx.PutJob(job(1, inState(api.StateRunning))); err != nil {
			return err
		}
		return tx.PutNode(&api.Node{Name: "n1", State: api.NodeUp})
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := write(func(tx *state.Txn) error { _ = tx.PutJob(job(2)); return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := write(func(tx *state.Txn) error { return tx.PutJob(job(1, inState(api.StateCompleted))) }); err != nil {
		t.Fatal(err)
	}
	s.SetJobHook(nil)
	if err := write(func(tx *state.Txn) error { return tx.PutJob(job(3)) }); err != nil {
		t.Fatal(err)
	}
	want := "[->1:RUNNING 1:RUNNING>1:COMPLETED]"
	if got := fmt.Sprint(seen); got != want {
		t.Errorf("hook saw %s, want %s", got, want)
	}
}
