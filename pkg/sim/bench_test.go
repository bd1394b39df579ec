package sim

import (
	"strings"
	"testing"
)

// BenchmarkReplay100k replays 100,000 synthetic jobs (DefaultGenConfig
// with 100 users at 110 jobs per hour: about 85% of the cluster's GPU time
// while jobs arrive) on 125 nodes × 8 GPUs with EASY backfill and no
// fair-share, passes on every event and every 60 s.
func BenchmarkReplay100k(b *testing.B) {
	benchReplay(b, PolicyEASY, FairShareNone)
}

// BenchmarkReplay100kFairTree is the same with Fair Tree fair-share.
func BenchmarkReplay100kFairTree(b *testing.B) {
	benchReplay(b, PolicyEASY, "fair_tree")
}

func benchReplay(b *testing.B, policy, fs string) {
	c, err := ParseCluster(strings.NewReader("[[node]]\nname = \"gpu\"\ncount = 125\ncpus = 64\nmem = \"1T\"\ngpus = 8\n"))
	if err != nil {
		b.Fatal(err)
	}
	g := DefaultGenConfig()
	g.Jobs, g.Users, g.Rate = 100_000, 100, 110
	jobs, err := Generate(g)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		s, err := New(c, jobs, Options{Policy: policy, FairShare: fs})
		if err != nil {
			b.Fatal(err)
		}
		r, err := s.Run()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.Summary.Passes), "passes")
		b.ReportMetric(float64(r.Summary.SchedMean.Microseconds()), "µs/pass")
		b.ReportMetric(r.Summary.MeanWait, "mean-wait-s")
	}
}
