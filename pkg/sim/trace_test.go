package sim

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

const mib = int64(1) << 20

func parseFile(t *testing.T, path string, parse func(*os.File) (*Trace, error)) *Trace {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := parse(f)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return tr
}

func TestParseSWFFile(t *testing.T) {
	tr := parseFile(t, "testdata/small.swf", func(f *os.File) (*Trace, error) { return ParseSWF(f) })
	wantJobs := []TraceJob{
		{ID: "1", User: "u3", Submit: 0, Run: 100, ReqTime: 200, CPUs: 4},
		{ID: "2", Submit: 10, Run: 50, CPUs: 2, MemBytes: 2 * mib},
		{ID: "5", User: "u5", Submit: 30, Run: 10, ReqTime: 60, CPUs: 2},
		{ID: "7", User: "u6", Submit: 46, Run: 30, CPUs: 3},
	}
	wantSkips := []Skip{
		{Line: 9, ID: "3", Reason: "run time unknown"},
		{Line: 10, ID: "4", Reason: "cancelled before it started"},
		{Line: 12, ID: "5", Reason: "partial execution line"},
		{Line: 13, ID: "6", Reason: "no processor count"},
	}
	if !reflect.DeepEqual(tr.Jobs, wantJobs) {
		t.Errorf("jobs\n got %+v\nwant %+v", tr.Jobs, wantJobs)
	}
	if !reflect.DeepEqual(tr.Skipped, wantSkips) {
		t.Errorf("skipped\n got %+v\nwant %+v", tr.Skipped, wantSkips)
	}
}

func TestParseSWF(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []TraceJob
		skipped int
		err     string
	}{
		{name: "empty", in: ""},
		{name: "only comments", in: "; a\n;b\n\n"},
		{name: "one job", in: "9 5 0 7 1 -1 -1 1 20 -1 1 0 -1 -1 -1 -1 -1 -1\n",
			want: []TraceJob{{ID: "9", User: "u0", Submit: 5, Run: 7, ReqTime: 20, CPUs: 1}}},
		{name: "tabs and no final newline", in: "9\t5\t0\t7\t1\t-1\t-1\t1\t20\t-1\t1\t0\t-1\t-1\t-1\t-1\t-1\t-1",
			want: []TraceJob{{ID: "9", User: "u0", Submit: 5, Run: 7, ReqTime: 20, CPUs: 1}}},
		{name: "run 0 completed is kept", in: "1 0 0 0 1 -1 -1 1 20 -1 1 0 -1 -1 -1 -1 -1 -1",
			want: []TraceJob{{ID: "1", User: "u0", Run: 0, ReqTime: 20, CPUs: 1}}},
		{name: "negative submit skipped", in: "1 -5 0 3 1 -1 -1 1 20 -1 1 0 -1 -1 -1 -1 -1 -1", skipped: 1},
		{name: "huge time skipped", in: "1 0 0 1e300 1 -1 -1 1 20 -1 1 0 -1 -1 -1 -1 -1 -1", skipped: 1},
		{name: "huge processor count skipped", in: "1 0 0 3 1 -1 -1 1e12 20 -1 1 0 -1 -1 -1 -1 -1 -1", skipped: 1},
		{name: "17 fields", in: "1 0 0 3 1 -1 -1 1 20 -1 1 0 -1 -1 -1 -1 -1", err: "line 1: want 18 SWF fields, got 17"},
		{name: "not a number", in: ";h\n1 0 0 x 1 -1 -1 1 20 -1 1 0 -1 -1 -1 -1 -1 -1", err: `line 2: field 4: "x" is not a number`},
		{name: "NaN", in: "1 0 0 NaN 1 -1 -1 1 20 -1 1 0 -1 -1 -1 -1 -1 -1", err: "is not a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := ParseSWF(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrTrace) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tr.Jobs, tc.want) || len(tr.Skipped) != tc.skipped {
				t.Errorf("got %+v skipped %v, want %+v and %d skipped", tr.Jobs, tr.Skipped, tc.want, tc.skipped)
			}
		})
	}
}

func TestParseCSVFile(t *testing.T) {
	tr := parseFile(t, "testdata/small.csv", func(f *os.File) (*Trace, error) { return ParseCSV(f) })
	wantJobs := []TraceJob{
		{ID: "a1", User: "alice", Submit: 0, Run: 100, ReqTime: 200, GPUs: 1, CPUs: 12, MemBytes: 16384 * mib},
		{ID: "a2", Submit: 5, Run: 60, GPUs: 1, CPUs: 6, MemBytes: 12288 * mib},
		{ID: "a4", User: "bob", Submit: 9, Run: 30, ReqTime: 90, CPUs: 1, MemBytes: 512 * mib},
		{ID: "a6", User: "carol", Submit: 15, Run: 45, GPUs: 1, CPUs: 2, MemBytes: 2048 * mib},
	}
	wantSkips := []Skip{
		{Line: 4, ID: "a3", Reason: "no run time (never ran)"},
		{Line: 6, ID: "a5", Reason: "multi-node job (the scheduler places a job on one node)"},
	}
	if !reflect.DeepEqual(tr.Jobs, wantJobs) {
		t.Errorf("jobs\n got %+v\nwant %+v", tr.Jobs, wantJobs)
	}
	if !reflect.DeepEqual(tr.Skipped, wantSkips) {
		t.Errorf("skipped\n got %+v\nwant %+v", tr.Skipped, wantSkips)
	}
}

func TestParseCSV(t *testing.T) {
	const head = "job_id,user,submit_s,run_s,requested_time_s,gpus,nodes,cpus\n"
	tests := []struct {
		name    string
		in      string
		want    []TraceJob
		skipped int
		err     string
	}{
		{name: "header only", in: head},
		{name: "columns in any order, extra ignored",
			in:   "cpus,nodes,gpus,requested_time_s,run_s,submit_s,user,job_id,color\n2,1,1,20,10,5,u,j,red\n",
			want: []TraceJob{{ID: "j", User: "u", Submit: 5, Run: 10, ReqTime: 20, GPUs: 1, CPUs: 2}}},
		{name: "empty nodes and cpus", in: head + "j,u,5,10,20,0,,\n",
			want: []TraceJob{{ID: "j", User: "u", Submit: 5, Run: 10, ReqTime: 20, CPUs: 1}}},
		{name: "fractional gpus round up", in: head + "j,u,5,10,20,0.5,1,1\n",
			want: []TraceJob{{ID: "j", User: "u", Submit: 5, Run: 10, ReqTime: 20, GPUs: 1, CPUs: 1}}},
		{name: "gpu_milli below 1000 is one GPU", in: "job_id,user,submit_s,run_s,requested_time_s,gpus,nodes,cpus,gpu_milli\nj,u,5,10,20,0,1,1,300\n",
			want: []TraceJob{{ID: "j", User: "u", Submit: 5, Run: 10, ReqTime: 20, GPUs: 1, CPUs: 1}}},
		{name: "account and partition", in: "job_id,user,submit_s,run_s,requested_time_s,gpus,nodes,cpus,account,partition\nj,u,5,10,20,0,1,1,phys,gpu\n",
			want: []TraceJob{{ID: "j", User: "u", Account: "phys", Partition: "gpu", Submit: 5, Run: 10, ReqTime: 20, CPUs: 1}}},
		{name: "missing submit skipped", in: head + "j,u,,10,20,0,1,1\n", skipped: 1},
		{name: "negative run skipped", in: head + "j,u,1,-10,20,0,1,1\n", skipped: 1},
		{name: "negative gpus skipped", in: head + "j,u,1,10,20,-1,1,1\n", skipped: 1},
		{name: "huge memory skipped", in: "job_id,user,submit_s,run_s,requested_time_s,gpus,nodes,cpus,memory_mib\nj,u,1,10,20,1,1,1,1e30\n", skipped: 1},
		{name: "empty input", in: "", err: "empty CSV"},
		{name: "missing columns", in: "job_id,user,submit_s\n", err: "lacks column(s) run_s, requested_time_s, gpus, nodes, cpus"},
		{name: "duplicate column", in: "job_id,job_id\n", err: `column "job_id" twice`},
		{name: "bad number", in: head + "j,u,5,ten,20,0,1,1\n", err: `line 2: run_s: "ten" is not a number`},
		{name: "wrong field count", in: head + "j,u,5\n", err: "wrong number of fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := ParseCSV(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrTrace) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tr.Jobs, tc.want) || len(tr.Skipped) != tc.skipped {
				t.Errorf("got %+v skipped %v, want %+v and %d skipped", tr.Jobs, tr.Skipped, tc.want, tc.skipped)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tr := &Trace{Jobs: []TraceJob{
		{ID: "c", Submit: 30, Run: 10},
		{ID: "a", User: "x", Submit: 10, Run: 7, ReqTime: 99},
		{ID: "b", Submit: 10, Run: 0},
		{Submit: 40, Run: 5},
	}}
	tests := []struct {
		name string
		o    TraceOptions
		want []TraceJob
	}{
		{"defaults: factor 2, 100 users", TraceOptions{}, []TraceJob{
			{ID: "a", User: "x", Submit: 10, Run: 7, ReqTime: 99},
			{ID: "b", User: "user01", Submit: 10, Run: 0, ReqTime: 1},
			{ID: "c", User: "user02", Submit: 30, Run: 10, ReqTime: 20},
			{ID: "4", User: "user03", Submit: 40, Run: 5, ReqTime: 10},
		}},
		{"two users, factor 1.5, limit 3", TraceOptions{RunFactor: 1.5, Users: 2, Limit: 3}, []TraceJob{
			{ID: "a", User: "x", Submit: 10, Run: 7, ReqTime: 99},
			{ID: "b", User: "user1", Submit: 10, Run: 0, ReqTime: 1},
			{ID: "c", User: "user0", Submit: 30, Run: 10, ReqTime: 15},
		}},
		{"default time wins", TraceOptions{DefaultTime: 3600, Users: 1}, []TraceJob{
			{ID: "a", User: "x", Submit: 10, Run: 7, ReqTime: 99},
			{ID: "b", User: "user0", Submit: 10, Run: 0, ReqTime: 3600},
			{ID: "c", User: "user0", Submit: 30, Run: 10, ReqTime: 3600},
			{ID: "4", User: "user0", Submit: 40, Run: 5, ReqTime: 3600},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(tr, tc.o)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if tr.Jobs[0].ID != "c" || tr.Jobs[0].User != "" {
		t.Error("Normalize modified its input")
	}
}
