package cli

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/queuefmt"
)

func TestParseAcctFormat(t *testing.T) {
	tests := []struct {
		spec    string
		want    string // "Name:width:R|L ..."
		wantErr string
	}{
		{spec: "JobID,State,ExitCode", want: "JobID:12:L State:10:R ExitCode:8:R"},
		{spec: "jobid, jobname%30 ,STATE", want: "JobID:12:L JobName:30:R State:10:R"},
		{spec: "JobName%-30,JobID%20", want: "JobName:30:L JobID:20:R"},
		{spec: "JobName%0", want: "JobName:10:R"},
		{spec: "node%12,ReqM,maxRSS,alloccpus,ncpus", want: "NodeList:12:R ReqMem:10:R MaxRSS:10:R AllocCPUS:10:R NCPUS:10:R"},
		{spec: "Group,GID,UID,User,Elapsed,ElapsedRaw,Timelimit,Submit,Start,End", want: "Group:9:R GID:6:R UID:6:R User:9:R Elapsed:10:R ElapsedRaw:10:R Timelimit:10:R Submit:19:R Start:19:R End:19:R"},
		{spec: "totalcpu,DerivedExitCode", want: "TotalCPU:10:R DerivedExitCode:10:R"}, // sacct fields gsched does not record
		{spec: "JobID,,State,", want: "JobID:12:L State:10:R"},
		{spec: "", wantErr: "no field names"},
		{spec: " , ", wantErr: "no field names"},
		{spec: "JobID,Bogus", wantErr: `unknown field "Bogus"`},
		{spec: "Job", wantErr: `field "Job" is ambiguous (JobID, JobIDRaw, JobName)`},
		{spec: "JobName%abc", wantErr: "is not a number"},
		{spec: "JobName%", wantErr: "is not a number"},
		{spec: "JobName%--3", wantErr: "is not a number"},
		{spec: "JobName%5000", wantErr: "too large"},
	}
	for _, tt := range tests {
		got, err := ParseAcctFormat(tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseAcctFormat(%q) = %v; want error %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAcctFormat(%q): %v", tt.spec, err)
			continue
		}
		var parts []string
		for _, c := range got {
			j := "L"
			if c.Col.Right {
				j = "R"
			}
			parts = append(parts, c.Field.Name+":"+strconv.Itoa(c.Col.Width)+":"+j)
		}
		if s := strings.Join(parts, " "); s != tt.want {
			t.Errorf("ParseAcctFormat(%q) = %s, want %s", tt.spec, s, tt.want)
		}
	}
}

// acctJobs: a failed task of array 7 that ran on two nodes, and a
// cancelled job that never ran.
func acctJobs() []api.Job {
	return []api.Job{
		{ID: 12, ArrayJobID: 7, ArrayTaskID: 5, User: "alice", UID: 1000, GID: 1000, State: api.StateFailed,
			ExitCode: 3, Priority: 100, Restarts: 1, Reason: "NonZeroExitCode",
			Spec: &api.JobSpec{Name: "a-rather-long-job-name", Partition: "gpu", Account: "physics", QOS: "normal",
				Nodes: 2, NTasksPerNode: 1, CPUsPerTask: 4, MemBytes: 16 << 30, GPUsPerNode: 2, TimeLimit: 90 * 60, WorkDir: "/w"},
			SubmitTime: t0.Add(-time.Hour), StartTime: t0, EndTime: t0.Add(26*time.Hour + 65*time.Second),
			Allocs: []api.Allocation{{Node: "gpu01", CPUs: 4, MemBytes: 16 << 30, GPUs: []int{0, 1}, MaxRSS: 1 << 30}, {Node: "gpu02", CPUs: 4, MemBytes: 16 << 30, GPUs: []int{0, 1}, MaxRSS: 3<<30 + 1}}},
		{ID: 13, User: "bob", UID: 1001, GID: 1001, State: api.StateCancelled, Signal: 15,
			Spec: &api.JobSpec{Name: "x", Partition: "cpu"}, SubmitTime: t0},
	}
}

func TestAcctFields(t *testing.T) {
	jobs := acctJobs()
	ac := &acctCtx{Loc: time.UTC}
	want := map[string][2]string{
		"JobID": {"7_5", "13"}, "JobIDRaw": {"12", "13"}, "JobName": {"a-rather-long-job-name", "x"},
		"User": {"alice", "bob"}, "UID": {"1000", "1001"}, "GID": {"1000", "1001"}, "Account": {"physics", ""},
		"Partition": {"gpu", "cpu"}, "QOS": {"normal", ""}, "State": {"FAILED", "CANCELLED"},
		"ExitCode": {"3:0", "0:15"}, "Elapsed": {"1-02:01:05", "00:00:00"}, "ElapsedRaw": {"93665", "0"},
		"Submit": {"2025-03-01T11:00:00", "2025-03-01T12:00:00"}, "Start": {"2025-03-01T12:00:00", "Unknown"},
		"End": {"2025-03-02T14:01:05", "Unknown"}, "Timelimit": {"01:30:00", "UNLIMITED"}, "TimelimitRaw": {"90", "UNLIMITED"},
		"NNodes": {"2", "1"}, "AllocNodes": {"2", "0"}, "NCPUS": {"8", "0"}, "AllocCPUS": {"8", "0"}, "ReqCPUS": {"8", "1"},
		"ReqMem": {"16G", "0"}, "ReqNodes": {"2", "1"},
		"AllocTRES": {"cpu=8,mem=32G,node=2,gres/gpu=4", ""}, "ReqTRES": {"cpu=8,mem=32G,node=2,gres/gpu=4", "cpu=1,node=1"},
		"NodeList": {"gpu[01-02]", ""}, "Reason": {"NonZeroExitCode", "None"}, "WorkDir": {"/w", ""},
		"Priority": {"100", "0"}, "Restarts": {"1", "0"}, "MaxRSS": {"3145729K", ""}, "MaxRSSNode": {"gpu02", ""},
	}
	for i := range acctFields {
		f := &acctFields[i]
		w, ok := want[f.Name]
		if !ok {
			if f.Name != "Group" { // a name on this host: checked below
				t.Errorf("field %s has no test", f.Name)
			}
			continue
		}
		for k := range jobs {
			if got := f.Value(&jobs[k], ac); got != w[k] {
				t.Errorf("%s of job %d = %q, want %q", f.Name, jobs[k].ID, got, w[k])
			}
		}
	}
	if g := queuefmt.GroupName(4294967) + queuefmt.GroupName(0); g == "" {
		t.Errorf("groupName gave nothing")
	}
}

func TestRenderAcctModes(t *testing.T) {
	f, err := ParseAcctFormat("JobID,JobName,State,NodeList,ExitCode")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode   int
		header bool
		want   string
	}{
		{acctTable, true, "" +
			"JobID           JobName      State        NodeList ExitCode \n" +
			"------------ ---------- ---------- --------------- -------- \n" +
			"7_5          a-rather-+     FAILED      gpu[01-02]      3:0 \n" +
			"13                    x  CANCELLED   None assigned     0:15 \n"},
		{acctTable, false, "" +
			"7_5          a-rather-+     FAILED      gpu[01-02]      3:0 \n" +
			"13                    x  CANCELLED   None assigned     0:15 \n"},
		{acctParsable, true, "" +
			"JobID|JobName|State|NodeList|ExitCode|\n" +
			"7_5|a-rather-long-job-name|FAILED|gpu[01-02]|3:0|\n" +
			"13|x|CANCELLED|None assigned|0:15|\n"},
		{acctParsable2, true, "" +
			"JobID|JobName|State|NodeList|ExitCode\n" +
			"7_5|a-rather-long-job-name|FAILED|gpu[01-02]|3:0\n" +
			"13|x|CANCELLED|None assigned|0:15\n"},
		{acctParsable2, false, "" +
			"7_5|a-rather-long-job-name|FAILED|gpu[01-02]|3:0\n" +
			"13|x|CANCELLED|None assigned|0:15\n"},
		{acctAutoWidth, true, "" +
			"JobID  JobName                 State      NodeList    ExitCode\n" +
			"7_5    a-rather-long-job-name  FAILED     gpu[01-02]  3:0\n" +
			"13     x                       CANCELLED  -           0:15\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := RenderAcctFormat(&b, acctJobs(), f, tt.mode, tt.header, &acctCtx{Loc: time.UTC}); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("mode %d header %v =\n%s\nwant\n%s", tt.mode, tt.header, b.String(), tt.want)
		}
	}
}

func TestFilterAcct(t *testing.T) {
	jobs := acctJobs()
	ids := func(js []api.Job) (out []api.JobID) {
		for _, j := range js {
			out = append(out, j.ID)
		}
		return out
	}
	tests := []struct {
		until    time.Time
		accounts []string
		want     int
	}{
		{time.Time{}, nil, 2},
		{t0.Add(-time.Minute), nil, 1}, // job 13 was submitted later
		{t0, nil, 2},
		{time.Time{}, []string{"physics"}, 1},
		{time.Time{}, []string{"chem"}, 0},
	}
	for _, tt := range tests {
		if got := FilterAcct(jobs, tt.until, tt.accounts); len(got) != tt.want {
			t.Errorf("FilterAcct(%v, %v) = %v", tt.until, tt.accounts, ids(got))
		}
	}
	if len(jobs) != 2 || jobs[1].ID != 13 {
		t.Errorf("FilterAcct changed its input: %v", ids(jobs))
	}
}

func TestSacctDuration(t *testing.T) {
	for in, want := range map[int64]string{-5: "00:00:00", 0: "00:00:00", 65: "00:01:05", 3600: "01:00:00", 86399: "23:59:59", 86400: "1-00:00:00", 10*86400 + 5: "10-00:00:05"} {
		if got := SacctDuration(in); got != want {
			t.Errorf("SacctDuration(%d) = %q, want %q", in, got, want)
		}
	}
}
