package rpc

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// richJobs is a listing with most fields set: allocations, arrays,
// dependencies, images, times, GPU usage on nodes.
func richJobs() any {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
	return api.JobList{Now: t0, Jobs: []api.Job{{
		ID: 7, ArrayJobID: 5, ArrayTaskID: 2, User: "alice", UID: 1000, GID: 1000, State: api.StateRunning,
		Reason: "None", Priority: 1234, SubmitTime: t0, StartTime: t0.Add(time.Second), Deadline: t0.Add(time.Hour),
		Allocs:     []api.Allocation{{Node: "n1", Addr: "10.0.0.1", CPUs: 8, MemBytes: 32 << 30, GPUs: []int{0, 3}, MaxRSS: 5 << 20}},
		MasterPort: 29500, Restarts: 1,
		Spec: &api.JobSpec{Name: "train <&> \u00e9\u2028", Partition: "gpu", Nodes: 1, NTasks: 2, CPUsPerTask: 4, MemBytes: 32 << 30,
			GPUsPerNode: 2, GPUType: "a100", TimeLimit: 3600, Output: "%x-%j.out", WorkDir: "/home/alice",
			Env: []string{"A=1", "B=\"q\""}, Script: "#!/bin/sh\necho \"hi\"\n", Args: []string{"--x"}, Array: "0-9%2",
			Dependency: "afterok:3", Begin: t0, Comment: "c", Image: "oci:/img", MailType: "END", NodeList: "n[1-2]"},
	}, {ID: 8, State: api.StatePending, SubmitTime: t0, Spec: &api.JobSpec{Hold: true}}}}
}

// Answers encoded with goccy/go-json are byte for byte what encoding/json
// writes (signatures cover the bytes; clients of other languages read
// them), and decode to what encoding/json decodes.
func TestAnswerCodecMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{richJobs(), api.NodeList{Nodes: []api.NodeInfo{{Node: api.Node{Name: "n1", CPUs: 64,
		GPUs: []api.GPU{{Index: 0, UUID: "GPU-x", Model: "H100", MemBytes: 80 << 30}}},
		GPUUsage: []api.GPUUsage{{Index: 0, Utilization: 0.73, HasUtilization: true}}}}}} {
		checkAnswerCodec(t, v)
	}
}

func checkAnswerCodec(t *testing.T, v any) {
	t.Helper()
	std, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := encodeAnswer(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, std) {
		t.Fatalf("encodings differ:\n goccy %s\n std   %s", got, std)
	}
	want := reflect.New(reflect.TypeOf(v))
	if err := json.Unmarshal(std, want.Interface()); err != nil {
		t.Fatal(err)
	}
	dec := reflect.New(reflect.TypeOf(v))
	if err := decodeAnswer(std, dec.Interface()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dec.Interface(), want.Interface()) {
		t.Fatalf("decodings differ:\n goccy %+v\n std   %+v", dec.Elem(), want.Elem())
	}
}

// FuzzAnswerCodec: for any JSON that encoding/json decodes into a job
// listing, goccy/go-json decodes the same value and encodes it to the
// same bytes.
func FuzzAnswerCodec(f *testing.F) {
	seed, _ := json.Marshal(richJobs())
	f.Add(seed)
	f.Add([]byte(`{"jobs":[{"id":1,"spec":{"env":null,"nice":-3}}],"now":"2026-01-02T03:04:05+02:00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var std api.JobList
		if json.Unmarshal(data, &std) != nil {
			return
		}
		var got api.JobList
		if err := decodeAnswer(data, &got); err != nil {
			t.Fatalf("encoding/json accepts %q, goccy refuses: %v", data, err)
		}
		if !reflect.DeepEqual(got, std) {
			t.Fatalf("%q decodes to\n goccy %+v\n std   %+v", data, got, std)
		}
		checkAnswerCodec(t, std)
	})
}
