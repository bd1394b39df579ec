package fake_test

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/runtime"
	"github.com/gsched/gsched/pkg/runtime/fake"
	"github.com/gsched/gsched/pkg/runtime/runtimetest"
)

func TestContract(t *testing.T) {
	runtimetest.Run(t, func(*testing.T) runtime.Runtime { return fake.New() }, runtimetest.Config{
		Exit: func(rt runtime.Runtime, id string, code int) {
			if err := rt.(*fake.Runtime).Exit(id, code); err != nil {
				t.Errorf("Exit(%s): %v", id, err)
			}
		},
		Reopen: func(_ *testing.T, rt runtime.Runtime) runtime.Runtime { return rt.(*fake.Runtime).Reopen() },
	})
}

func TestRecords(t *testing.T) {
	ctx := context.Background()
	rt := fake.New()
	spec := runtime.TaskSpec{ID: "a", JobID: 7, Args: []string{"x"}}
	if err := rt.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	spec.Args[0] = "changed" // the fake keeps its own copy
	if err := rt.Signal(ctx, "a", syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if err := rt.Signal(ctx, "a", syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	if got := rt.Signals("a"); !slices.Equal(got, []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2}) {
		t.Fatalf("Signals = %v", got)
	}
	if err := rt.Kill(ctx, "a", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := rt.Kills("a"); !slices.Equal(got, []time.Duration{3 * time.Second}) {
		t.Fatalf("Kills = %v", got)
	}
	st, err := rt.Status(ctx, "a")
	if err != nil || st.Running || !st.Killed || st.ExitCode != 143 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	starts := rt.Starts()
	if len(starts) != 1 || starts[0].JobID != 7 || starts[0].Args[0] != "x" {
		t.Fatalf("Starts = %+v", starts)
	}
	if s, ok := rt.Spec("a"); !ok || s.ID != "a" {
		t.Fatalf("Spec = %+v, %v", s, ok)
	}
}

func TestFinishFields(t *testing.T) {
	ctx := context.Background()
	rt := fake.New()
	if err := rt.Start(ctx, runtime.TaskSpec{ID: "oom", JobID: 1}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Finish("oom", runtime.Status{ExitCode: 137, Signal: 9, OOMKilled: true}); err != nil {
		t.Fatal(err)
	}
	st, err := rt.Wait(ctx, "oom")
	if err != nil || !st.OOMKilled || st.Signal != 9 || st.ID != "oom" || st.JobID != 1 || st.StartedAt.IsZero() {
		t.Fatalf("Wait = %+v, %v", st, err)
	}
	if err := rt.Finish("oom", runtime.Status{}); err == nil {
		t.Fatal("Finish of an ended task succeeded")
	}
}

func TestFailStartAndStartError(t *testing.T) {
	ctx := context.Background()
	rt := fake.New()
	rt.FailStart("bad", "runc create: boom")
	if err := rt.Start(ctx, runtime.TaskSpec{ID: "bad"}); err != nil {
		t.Fatal(err)
	}
	st, err := rt.Status(ctx, "bad")
	if err != nil || st.Running || st.Error != "runc create: boom" || st.ExitCode == 0 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	boom := errors.New("disk full")
	rt.SetStartError(boom)
	if err := rt.Start(ctx, runtime.TaskSpec{ID: "x"}); !errors.Is(err, boom) {
		t.Fatalf("Start: %v", err)
	}
	rt.SetStartError(nil)
	if err := rt.Start(ctx, runtime.TaskSpec{ID: "x"}); err != nil {
		t.Fatal(err)
	}
}

func TestAddAndWaitStarted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rt := fake.New()
	rt.Add(runtime.TaskSpec{ID: "old", JobID: 3}, runtime.Status{ExitCode: 2})
	st, err := rt.Wait(ctx, "old")
	if err != nil || st.ExitCode != 2 || st.JobID != 3 {
		t.Fatalf("Wait(old) = %+v, %v", st, err)
	}
	got := make(chan runtime.TaskSpec, 1)
	go func() {
		s, err := rt.WaitStarted(ctx, "later")
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	if err := rt.Start(ctx, runtime.TaskSpec{ID: "later", JobID: 9}); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s.JobID != 9 {
		t.Fatalf("WaitStarted = %+v", s)
	}
}

// SetExitAfter: tasks started afterwards end with status 0 by themselves.
func TestSetExitAfter(t *testing.T) {
	r := fake.New()
	ctx := context.Background()
	r.SetExitAfter(10 * time.Millisecond)
	if err := r.Start(ctx, runtime.TaskSpec{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	st, err := r.Wait(ctx, "a")
	if err != nil || st.Running || st.ExitCode != 0 || st.Killed || st.FinishedAt.Before(st.StartedAt.Add(10*time.Millisecond)) {
		t.Fatalf("status %+v, %v", st, err)
	}
}
