package priority

import (
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestCompute(t *testing.T) {
	parts := []api.Partition{{Name: "low", PriorityJobFactor: 1}, {Name: "high", PriorityJobFactor: 4}}
	qos := []api.QOS{{Name: "normal", Priority: 10}, {Name: "urgent", Priority: 100}}
	totals := api.TRES{CPUs: 100, GPUs: 16, Nodes: 4, MemBytes: 400 << 30}
	w := Weights{Age: 1000, FairShare: 10000, JobSize: 1000, Partition: 1000, QOS: 2000, MaxAge: 10 * 24 * time.Hour}
	fs := map[api.Assoc]float64{{Account: "phys", User: "alice"}: 0.25}
	job := func(mut func(*api.Job)) *api.Job {
		j := &api.Job{User: "alice", SubmitTime: t0, Spec: &api.JobSpec{Account: "phys", Partition: "low", QOS: "normal", Nodes: 1, NTasks: 1, CPUsPerTask: 10}}
		if mut != nil {
			mut(j)
		}
		return j
	}
	tests := []struct {
		name  string
		now   time.Time
		w     Weights
		job   *api.Job
		want  int64
		check func(t *testing.T, f Factors)
	}{
		// age 0.5·1000 + fs 0.25·10000 + size 0.1·1000 + part 0.25·1000 + qos 0.1·2000
		{"all factors", t0.Add(5 * 24 * time.Hour), w, job(nil), 500 + 2500 + 100 + 250 + 200, nil},
		{"age capped", t0.Add(30 * 24 * time.Hour), w, job(nil), 1000 + 2500 + 100 + 250 + 200, nil},
		{"unknown association gets full fair-share", t0, w, job(func(j *api.Job) { j.User = "bob" }), 10000 + 100 + 250 + 200, nil},
		{"gpu share decides size", t0, w, job(func(j *api.Job) { j.Spec.GPUs = 8 }), 2500 + 500 + 250 + 200, nil},
		{"nice lowers", t0, w, job(func(j *api.Job) { j.Spec.Nice = 300 }), 2500 + 100 + 250 + 200 - 300, nil},
		{"never negative", t0, w, job(func(j *api.Job) { j.Spec.Nice = 1 << 30 }), 0, nil},
		{"favor small", t0, Weights{JobSize: 1000, FavorSmall: true}, job(nil), 900, nil},
		{"high partition, urgent qos", t0, w, job(func(j *api.Job) { j.Spec.Partition, j.Spec.QOS = "high", "urgent" }), 2500 + 100 + 1000 + 2000, nil},
		{"tres weights", t0, Weights{TRES: map[string]int64{"cpu": 100, "gpu": 1000}}, job(func(j *api.Job) { j.Spec.GPUs = 4 }), 10 + 250,
			func(t *testing.T, f Factors) {
				if f.TRES["cpu"] != 0.1 || f.TRES["gpu"] != 0.25 {
					t.Errorf("tres factors %v", f.TRES)
				}
			}},
		{"site", t0, Weights{Site: 42}, job(nil), 42, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewContext(tc.now, tc.w, fs, totals, parts, qos)
			f := c.Compute(tc.job)
			if f.Priority != tc.want {
				t.Fatalf("priority %d, want %d (factors %+v)", f.Priority, tc.want, f)
			}
			for name, v := range map[string]float64{"age": f.Age, "fs": f.FairShare, "size": f.JobSize, "part": f.Partition, "qos": f.QOS} {
				if v < 0 || v > 1 {
					t.Errorf("factor %s = %v outside [0,1]", name, v)
				}
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func FuzzCompute(f *testing.F) {
	f.Add(int64(5), 3, 2, int64(1<<30), 100, int64(3600))
	f.Fuzz(func(t *testing.T, ageSec int64, cpus, gpus int, mem int64, nice int, maxAge int64) {
		c := NewContext(t0.Add(time.Duration(ageSec)*time.Second), Weights{Age: 1000, FairShare: 1000, JobSize: 1000,
			TRES: map[string]int64{"cpu": 1, "mem": 1, "gpu": 1}, MaxAge: time.Duration(maxAge) * time.Second},
			nil, api.TRES{CPUs: 64, GPUs: 8, Nodes: 2, MemBytes: 1 << 40}, nil, nil)
		j := &api.Job{SubmitTime: t0, Spec: &api.JobSpec{NTasks: 1, CPUsPerTask: cpus, GPUs: gpus, MemBytes: mem, Nice: nice}}
		if p := c.Compute(j).Priority; p < 0 {
			t.Fatalf("negative priority %d", p)
		}
	})
}
