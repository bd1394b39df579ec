package sched

import "github.com/gsched/gsched/pkg/api"

// usage is what a set of jobs holds, for QOS limits.
type usage struct {
	jobs  int
	cpus  int
	mem   int64
	gpus  int
	nodes int
}

func (u *usage) add(v usage) {
	u.jobs += v.jobs
	u.cpus += v.cpus
	u.mem += v.mem
	u.gpus += v.gpus
	u.nodes += v.nodes
}

// qosLimits tracks, for every QOS with limits, what its jobs hold: per
// user and in all. It starts from the running jobs and grows with every
// placement of the pass, so limits see both.
type qosLimits struct {
	byName map[string]*qosState
}

type qosState struct {
	q     *api.QOS
	grp   usage
	users map[string]*usage
}

func newQOSLimits(qos []api.QOS, running []*api.Job) qosLimits {
	l := qosLimits{byName: map[string]*qosState{}}
	for i := range qos {
		q := &qos[i]
		if q.MaxJobsPerUser > 0 || q.MaxTRESPerUser != (api.TRES{}) || q.GrpTRES != (api.TRES{}) {
			l.byName[q.Name] = &qosState{q: q, users: map[string]*usage{}}
		} else {
			delete(l.byName, q.Name) // the last definition of a name wins
		}
	}
	for _, j := range running {
		l.add(j, heldBy(j))
	}
	return l
}

// heldBy is what a running job holds (its allocation, else its request).
func heldBy(j *api.Job) usage {
	if len(j.Allocs) > 0 {
		t := j.AllocTotals()
		return usage{jobs: 1, cpus: t.CPUs, mem: t.MemBytes, gpus: t.GPUs, nodes: t.Nodes}
	}
	return request(j)
}

// request is what a pending job asks for in all.
func request(j *api.Job) usage {
	n := max(j.Spec.Nodes, 1)
	return usage{jobs: 1, cpus: j.Spec.CPUsOnNode() * n, mem: j.Spec.MemBytes * int64(n),
		gpus: j.Spec.GPUsOnNode() * n, nodes: n}
}

func (l *qosLimits) add(j *api.Job, u usage) {
	s := l.byName[j.Spec.QOS]
	if s == nil {
		return
	}
	s.grp.add(u)
	if s.q.MaxJobsPerUser > 0 || s.q.MaxTRESPerUser != (api.TRES{}) {
		pu := s.users[j.User]
		if pu == nil {
			pu = &usage{}
			s.users[j.User] = pu
		}
		pu.add(u)
	}
}

// check returns the reason the job's QOS keeps it from starting now, or
// "" (a job without a QOS, or with an unknown one, has no limits).
func (l *qosLimits) check(j *api.Job) string {
	s := l.byName[j.Spec.QOS]
	if s == nil {
		return ""
	}
	req := request(j)
	var mine usage
	if pu := s.users[j.User]; pu != nil {
		mine = *pu
	}
	if m := s.q.MaxJobsPerUser; m > 0 && mine.jobs+1 > m {
		return api.ReasonQOSMaxJobsPerUser
	}
	switch exceeds(mine, req, s.q.MaxTRESPerUser) {
	case overTRES:
		return api.ReasonQOSMaxTRESPerUser
	case overGPU:
		return api.ReasonQOSMaxGRESPerUser
	}
	if exceeds(s.grp, req, s.q.GrpTRES) != within {
		return api.ReasonQOSGrpTRES
	}
	return ""
}

const (
	within = iota
	overTRES
	overGPU
)

// exceeds says whether held+req goes over lim (0 = no limit) in a
// dimension; as in Slurm's TRES order, CPUs, memory and nodes are checked
// before the GPUs.
func exceeds(held, req usage, lim api.TRES) int {
	over := func(limit, have, want int64) bool { return limit > 0 && have+want > limit }
	switch {
	case over(int64(lim.CPUs), int64(held.cpus), int64(req.cpus)),
		over(lim.MemBytes, held.mem, req.mem),
		over(int64(lim.Nodes), int64(held.nodes), int64(req.nodes)):
		return overTRES
	case over(int64(lim.GPUs), int64(held.gpus), int64(req.gpus)):
		return overGPU
	}
	return within
}
