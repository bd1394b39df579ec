package fsm_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// BenchmarkSnapshotArray persists and restores the state holding one
// array of 10,000 tasks with a 4 KiB script and a 40-variable (about
// 2 KiB) environment, and reports the snapshot's size.
func BenchmarkSnapshotArray(b *testing.B) {
	h := newHarness(&testing.T{})
	j := newJob(arrayOf("0-9999"))
	j.Spec.Script = "#!/bin/sh\n" + strings.Repeat("# padding line of a long script\n", 128)
	for i := range 40 {
		j.Spec.Env = append(j.Spec.Env, fmt.Sprintf("VARIABLE_%02d=/some/path/of/forty/chars/%02d", i, i))
	}
	h.submit(j)
	var size int
	b.ResetTimer()
	for range b.N {
		snap, err := h.f.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		sink := &bufferSink{}
		if err := snap.Persist(sink); err != nil {
			b.Fatal(err)
		}
		size = sink.Len()
		fresh := newHarness(&testing.T{})
		if err := fresh.f.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB/snapshot")
}
