package testcluster

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// gacct's MaxRSS: a job whose tail holds a 96 MiB line (no newline in
// /dev/zero) peaks above 96 MiB; one that only runs true stays far below.
func TestAcctMaxRSS(t *testing.T) {
	c := Start(t, Options{MemPerNode: "2G"})
	dir := c.WorkDir(nobody, nobody)
	big := c.Submit(api.JobSpec{MemBytes: 512 << 20, Script: "#!/bin/bash\nhead -c 96M /dev/zero | tail | wc -c\n"})
	small := c.Submit(api.JobSpec{MemBytes: 512 << 20, Script: "#!/bin/sh\ntrue\n"})
	for _, id := range []api.JobID{big, small} {
		if j := c.WaitJob(id, 60*time.Second); j.State != api.StateCompleted {
			t.Fatalf("job %d: %s (%s)", id, j.State, j.Reason)
		}
	}
	peakKiB := func(id api.JobID) int64 {
		t.Helper()
		r := c.CLI(0, 0, dir, "gacct", "-n", "-P", "-o", "MaxRSS,MaxRSSNode", "-j", id.String())
		rss, node, ok := strings.Cut(strings.TrimSpace(r.Stdout), "|")
		kib, err := strconv.ParseInt(strings.TrimSuffix(rss, "K"), 10, 64)
		if r.Code != 0 || !ok || !strings.HasSuffix(rss, "K") || err != nil || node != "n1" {
			t.Fatalf("gacct MaxRSS of %d: code %d out %q err %q", id, r.Code, r.Stdout, r.Stderr)
		}
		return kib
	}
	b, s := peakKiB(big), peakKiB(small)
	t.Logf("MaxRSS: %d KiB (96 MiB line), %d KiB (true)", b, s)
	if b < 96<<10 || b > 512<<10 {
		t.Errorf("MaxRSS %d KiB, want between 96 MiB and the 512 MiB limit", b)
	}
	if s <= 0 || s >= 32<<10 {
		t.Errorf("MaxRSS of true %d KiB, want above 0 and below 32 MiB", s)
	}
}
