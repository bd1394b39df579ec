package server

import (
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// The leader runs a controller prolog once per run that starts while it
// leads, and an epilog once per run that ends (final, or requeued).
func TestCtlHooksDiff(t *testing.T) {
	jobs := map[api.JobID]*api.Job{}
	lookup := func(id api.JobID) *api.Job { return jobs[id] }
	set := func(id api.JobID, st api.JobState, restarts int) *api.Job {
		j := &api.Job{ID: id, State: st, Restarts: restarts}
		jobs[id] = j
		return j
	}
	ids := func(l []*api.Job) []string {
		var out []string
		for _, j := range l {
			out = append(out, j.ID.String()+"."+string(rune('0'+j.Restarts))+":"+string(j.State))
		}
		return out
	}
	h := &ctlHooks{}
	steps := []struct {
		name        string
		running     func() []*api.Job
		wantStarted []string
		wantEnded   []string
	}{
		{"priming: runs of an earlier leader get no prolog", func() []*api.Job { return []*api.Job{set(1, api.StateRunning, 0)} }, nil, nil},
		{"a new run", func() []*api.Job { return []*api.Job{jobs[1], set(2, api.StateRunning, 0)} }, []string{"2.0:RUNNING"}, nil},
		{"completing still counts as live", func() []*api.Job { return []*api.Job{jobs[1], set(2, api.StateCompleting, 0)} }, nil, nil},
		{"ends", func() []*api.Job { set(2, api.StateCompleted, 0); return []*api.Job{jobs[1]} }, nil, []string{"2.0:COMPLETED"}},
		{"requeued and running again", func() []*api.Job { return []*api.Job{set(1, api.StateRunning, 1)} },
			[]string{"1.1:RUNNING"}, []string{"1.0:PENDING"}},
		{"purged", func() []*api.Job { delete(jobs, 1); return nil }, nil, []string{"1.1:"}},
	}
	for _, st := range steps {
		started, ended := h.diff(st.running(), lookup)
		if g, w := ids(started), st.wantStarted; len(g) != len(w) || (len(g) > 0 && g[0] != w[0]) {
			t.Errorf("%s: started %v, want %v", st.name, g, w)
		}
		if g, w := ids(ended), st.wantEnded; len(g) != len(w) || (len(g) > 0 && g[0] != w[0]) {
			t.Errorf("%s: ended %v, want %v", st.name, g, w)
		}
	}
}
