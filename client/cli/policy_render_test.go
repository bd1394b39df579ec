package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

func TestRenderStarts(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	jobs := []api.Job{
		{ID: 9, Spec: &api.JobSpec{Name: "big", Partition: "gpu"}, User: "ann", State: api.StatePending, Reason: api.ReasonResources, ExpectedStart: at},
		{ID: 3, Spec: &api.JobSpec{Name: "small", Partition: "gpu"}, User: "bo", State: api.StatePending, Reason: api.ReasonPriority},
	}
	var b bytes.Buffer
	if err := RenderStarts(&b, jobs, true, time.UTC); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"JOBID  PARTITION  NAME   USER  ST  START_TIME           NODES  NODELIST(REASON)\n" +
		"3      gpu        small  bo    PD  N/A                  1      (Priority)\n" +
		"9      gpu        big    ann   PD  2026-03-01T12:30:00  1      (Resources)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestRenderPriorities(t *testing.T) {
	pl := api.PriorityList{
		Weights: map[string]int64{"age": 1000, "fairshare": 10000, "jobsize": 100, "partition": 0, "qos": 2000},
		Rows: []api.PriorityRow{
			{JobID: 7, User: "ann", Account: "phys", Partition: "gpu", Priority: 5700, Age: 0.5, FairShare: 0.5, JobSize: 0.01, QOSPrio: 0.1},
			{JobID: 8, User: "bo", Partition: "gpu", Priority: 0, Nice: 100},
		},
	}
	var b bytes.Buffer
	if err := RenderPriorities(&b, pl, true); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"JOBID  PARTITION  USER  ACCOUNT  PRIORITY  AGE  FAIRSHARE  JOBSIZE  PARTITION  QOS  NICE\n" +
		"7      gpu        ann   phys     5700      500  5000       1        0          200  0\n" +
		"8      gpu        bo    -        0         0    0          0        0          0    100\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestRenderAndFilterShares(t *testing.T) {
	sl := api.ShareList{Algorithm: "fair_tree", Rows: []api.ShareRow{
		{Account: "root", RawShares: 1, NormShares: 1, RawUsage: 300, EffectiveUsage: 1, LevelFS: -1},
		{Account: "phys", Depth: 1, RawShares: 2, NormShares: 0.666667, RawUsage: 300, EffectiveUsage: 1, LevelFS: 0.666667},
		{Account: "phys", User: "ann", Depth: 2, RawShares: 1, NormShares: 1, RawUsage: 300, EffectiveUsage: 1, LevelFS: 1, FairShare: 0.5},
		{Account: "bio", Depth: 1, RawShares: 1, NormShares: 0.333333, LevelFS: -1},
		{Account: "bio", User: "bo", Depth: 2, RawShares: 1, NormShares: 1, LevelFS: -1, FairShare: 1},
	}}
	var b bytes.Buffer
	if err := RenderShares(&b, sl, true); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"Account  User  RawShares  NormShares  RawUsage  EffectvUsage  LevelFS   FairShare\n" +
		"root           1          1.000000    300       1.000000      inf       \n" +
		" phys          2          0.666667    300       1.000000      0.666667  \n" +
		"  phys   ann   1          1.000000    300       1.000000      1.000000  0.500000\n" +
		" bio           1          0.333333    0         0.000000      inf       \n" +
		"  bio    bo    1          1.000000    0         0.000000      inf       1.000000\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	got := FilterShares(sl.Rows, []string{"bo"})
	if len(got) != 2 || got[0].Account != "bio" || got[0].User != "" || got[1].User != "bo" {
		t.Errorf("FilterShares = %+v", got)
	}
}
