package sim

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func seedFile(f *testing.F, path string) {
	f.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
}

// checkTrace asserts what every parser promises about the jobs it keeps.
func checkTrace(t *testing.T, tr *Trace) {
	for _, j := range tr.Jobs {
		if j.Submit < 0 || j.Run < 0 || j.ReqTime < 0 || j.CPUs < 1 || j.GPUs < 0 || j.MemBytes < 0 ||
			j.Submit > maxSeconds || j.Run > maxSeconds || j.ReqTime > maxSeconds {
			t.Fatalf("parser kept an impossible job %+v", j)
		}
	}
	// Normalizing never fails and fills every requested time and user.
	for _, j := range Normalize(tr, TraceOptions{}) {
		if j.ReqTime < 1 || j.User == "" || j.ID == "" {
			t.Fatalf("normalized job %+v", j)
		}
	}
}

func FuzzParseSWF(f *testing.F) {
	seedFile(f, "testdata/small.swf")
	f.Add("1 0 0 5 1 -1 -1 1 10 -1 1 1 -1 -1 -1 -1 -1 -1\n")
	f.Add("1 1e9 -1 1e-3 -1 -1 -1 0.5 +Inf -1 5 -1 -1 -1 -1 -1 -1 -1\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ParseSWF(strings.NewReader(in))
		if err != nil {
			return
		}
		checkTrace(t, tr)
	})
}

func FuzzParseCSV(f *testing.F) {
	seedFile(f, "testdata/small.csv")
	f.Add("job_id,user,submit_s,run_s,requested_time_s,gpus,nodes,cpus\nj,u,1,2,3,4,1,5\n")
	f.Add("job_id,user,submit_s,run_s,requested_time_s,gpus,nodes,cpus,gpu_milli,memory_mib\nj,,1e9,1e9,,0,,0,1,1e12\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ParseCSV(strings.NewReader(in))
		if err != nil {
			return
		}
		checkTrace(t, tr)
		// What WriteTraceCSV writes, ParseCSV reads back unchanged.
		jobs := Normalize(tr, TraceOptions{})
		for i := range jobs {
			jobs[i].MemBytes = jobs[i].MemBytes >> 20 << 20 // the format holds whole MiB
		}
		var b bytes.Buffer
		if err := WriteTraceCSV(&b, jobs); err != nil {
			t.Fatal(err)
		}
		back, err := ParseCSV(&b)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, b.String())
		}
		if len(back.Jobs) != len(jobs) {
			t.Fatalf("round trip kept %d of %d jobs", len(back.Jobs), len(jobs))
		}
		for i := range jobs {
			if back.Jobs[i] != jobs[i] {
				t.Fatalf("round trip: %+v became %+v", jobs[i], back.Jobs[i])
			}
		}
	})
}

func FuzzParseCluster(f *testing.F) {
	seedFile(f, "testdata/cluster.toml")
	f.Add("[[node]]\nname = \"n\"\ncount = 3\ncpus = 1\nmem = \"1G\"\ngpus = 2\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCluster(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(c.Nodes) == 0 || len(c.Partitions) == 0 || c.DefaultPartition() == "" {
			t.Fatalf("accepted cluster without nodes or partitions: %+v", c)
		}
	})
}

func FuzzParseAlibabaNodes(f *testing.F) {
	seedFile(f, "testdata/nodes.csv")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseAlibabaNodes(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, n := range c.Nodes {
			if n.CPUs < 1 || n.MemBytes < 0 || n.Name == "" {
				t.Fatalf("impossible node %+v", n)
			}
		}
	})
}

func FuzzParseGPUWeights(f *testing.F) {
	f.Add("1:50,2:20,4:15,8:15")
	f.Add(" 0:1 , ,8:0.5")
	f.Fuzz(func(t *testing.T, in string) {
		ws, err := ParseGPUWeights(in)
		if err != nil {
			return
		}
		for _, w := range ws {
			if w.GPUs < 0 || w.Weight < 0 {
				t.Fatalf("impossible weight %+v", w)
			}
		}
	})
}
