package sim

import (
	"bytes"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestGenerate(t *testing.T) {
	c := DefaultGenConfig()
	c.Jobs = 20000
	jobs, err := Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Generate(c)
	if !reflect.DeepEqual(jobs, again) {
		t.Fatal("same seed, different jobs")
	}
	c.Seed = 2
	other, _ := Generate(c)
	if reflect.DeepEqual(jobs, other) {
		t.Fatal("different seeds, same jobs")
	}
	gpus := map[int]int{}
	users := map[string]int{}
	var runs []float64
	for i, j := range jobs {
		if i > 0 && j.Submit < jobs[i-1].Submit {
			t.Fatalf("job %d submitted before its predecessor", i)
		}
		if j.Run < 1 || j.Run > int64(c.MaxRun/time.Second) || j.ReqTime < j.Run || float64(j.ReqTime) > math.Ceil(3*float64(j.Run)) {
			t.Fatalf("job %+v: run or requested time out of range", j)
		}
		if j.CPUs != 8*j.GPUs || j.MemBytes != int64(j.GPUs)*64*gib {
			t.Fatalf("job %+v: CPUs and memory do not scale with GPUs", j)
		}
		gpus[j.GPUs]++
		users[j.User]++
		runs = append(runs, float64(j.Run))
	}
	n := float64(len(jobs))
	// Weights 50/20/15/15 within a few percent.
	for g, w := range map[int]float64{1: .5, 2: .2, 4: .15, 8: .15} {
		if got := float64(gpus[g]) / n; math.Abs(got-w) > 0.02 {
			t.Errorf("%d-GPU share %.3f, want %.2f", g, got, w)
		}
	}
	// Arrival rate 60/h: the last submission near 20000 minutes.
	if last := float64(jobs[len(jobs)-1].Submit) / 60; math.Abs(last-20000)/20000 > 0.03 {
		t.Errorf("last arrival at %.0f min, want about 20000", last)
	}
	// Median run time about 1 h.
	sort.Float64s(runs)
	if med := runs[len(runs)/2]; math.Abs(med-3600)/3600 > 0.05 {
		t.Errorf("median run %.0f s, want about 3600", med)
	}
	// Zipf-like users: user00 submits the most, every user submits.
	if len(users) != c.Users || users["user00"] <= users["user19"] {
		t.Errorf("users %v", users)
	}
}

func TestGenerateErrors(t *testing.T) {
	bad := DefaultGenConfig()
	bad.Users, bad.Rate, bad.GPUs = 0, 0, []GPUWeight{{1, 0}}
	_, err := Generate(bad)
	for _, want := range []string{"users must be", "rate must be positive", "GPU weights must not all be 0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestWriteTraceCSVRoundTrip(t *testing.T) {
	c := DefaultGenConfig()
	c.Jobs = 50
	jobs, err := Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	jobs[3].Account, jobs[4].Partition = "phys", "gpu"
	var b bytes.Buffer
	if err := WriteTraceCSV(&b, jobs); err != nil {
		t.Fatal(err)
	}
	tr, err := ParseCSV(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr.Jobs, jobs) || len(tr.Skipped) != 0 {
		t.Errorf("round trip changed the jobs")
	}
}

func TestParseGPUWeights(t *testing.T) {
	tests := []struct {
		in   string
		want []GPUWeight
		err  string
	}{
		{in: "1:50,2:20,4:15,8:15", want: []GPUWeight{{1, 50}, {2, 20}, {4, 15}, {8, 15}}},
		{in: " 0 : 1 ,, 8:0.5 ", want: []GPUWeight{{0, 1}, {8, 0.5}}},
		{in: "", err: "empty"},
		{in: "4", err: "not COUNT:WEIGHT"},
		{in: "x:1", err: "count must be"},
		{in: "1:-2", err: "weight must be"},
		{in: "1:NaN", err: "weight must be"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseGPUWeights(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
