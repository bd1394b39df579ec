package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/hostlist"
	"github.com/gsched/gsched/pkg/runtime"
	"github.com/gsched/gsched/pkg/topology"
	"github.com/gsched/gsched/pkg/units"
)

// EnvOptions shape a job's environment.
type EnvOptions struct {
	Cluster string
	// SlurmCompat also sets the SLURM_* equivalent of every GSCHED_*
	// variable, so tools that detect Slurm (Lightning, submitit, ...)
	// configure themselves.
	SlurmCompat bool
	// NCCLSocketIfname and NCCLIBHCA become NCCL_SOCKET_IFNAME and
	// NCCL_IB_HCA when set.
	NCCLSocketIfname string
	NCCLIBHCA        string
}

// hostfileName is the job's hostfile in its task dir, which containers see
// under /.gsched.
const (
	hostfileName = "hostfile"
	hostfilePath = "/.gsched/" + hostfileName
)

// holderScript is what a multi-node job runs on its other nodes: nothing,
// until the job ends, so that grun can start step tasks in the container.
const holderScript = "#!/bin/sh\n# gsched: this node belongs to a multi-node job; grun starts its tasks here.\nexec sleep infinity\n"

// Hostfile is the job's hostfile: "ADDR slots=N" per node (OpenMPI's
// format), N being the node's tasks.
func Hostfile(j *api.Job) string {
	var b strings.Builder
	per := j.Spec.TasksOnNode()
	for i := range j.Allocs {
		fmt.Fprintf(&b, "%s slots=%d\n", allocAddr(&j.Allocs[i]), per)
	}
	return b.String()
}

func allocAddr(a *api.Allocation) string {
	if a.Addr != "" {
		return a.Addr
	}
	return a.Node
}

// TaskSpec turns a job assigned to node n into a runtime task.
func TaskSpec(j *api.Job, n *api.Node, pids int64, grace time.Duration, eo EnvOptions) (runtime.TaskSpec, error) {
	alloc := j.AllocOn(n.Name)
	if alloc == nil {
		return runtime.TaskSpec{}, fmt.Errorf("job %d is not allocated to node %s", j.ID, n.Name)
	}
	head := j.Allocs[0].Node == n.Name
	if err := checkJob(j); err != nil {
		return runtime.TaskSpec{}, err
	}
	vars := units.PatternVars{JobID: uint64(j.ID), JobName: j.Spec.Name, User: j.User, Node: n.Name,
		ArrayJobID: uint64(j.ArrayJobID), ArrayTaskID: j.ArrayTaskID}
	out := outPath(j.Spec.Output, j.Spec.WorkDir, vars)
	errp := out
	if j.Spec.Error != "" {
		errp = outPath(j.Spec.Error, j.Spec.WorkDir, vars)
	}
	spec := runtime.TaskSpec{
		ID:     TaskID(j.ID, j.Restarts),
		JobID:  uint64(j.ID),
		UID:    j.UID,
		GID:    j.GID,
		Groups: auth.Groups(j.UID, j.GID),
		Script: []byte(j.Spec.Script),
		Args:   j.Spec.Args,
		Cwd:    j.Spec.WorkDir,
		Stdout: out,
		Stderr: errp,
		// A requeued job appends to what its earlier runs wrote, as Slurm does.
		Append:      j.Spec.OpenMode == api.OpenAppend || j.Restarts > 0,
		CPUs:        float64(alloc.CPUs),
		MemoryBytes: alloc.MemBytes,
		PidsLimit:   pids,
		Deadline:    j.Deadline,
		KillGrace:   grace,
	}
	if len(j.Allocs) > 1 {
		spec.Files = map[string]string{hostfileName: Hostfile(j)}
	}
	if !head {
		// The batch script runs on the head node only.
		spec.Script, spec.Args, spec.Stdout, spec.Stderr = []byte(holderScript), nil, "", ""
	}
	dirs := []string{j.Spec.WorkDir, filepath.Dir(out), filepath.Dir(errp)}
	home := auth.HomeDir(j.UID)
	if home != "" && home != "/" {
		if st, err := os.Stat(home); err == nil && st.IsDir() {
			dirs = append(dirs, home)
		}
	}
	spec.WritableDirs = dedupe(dirs)

	byIndex := map[int]api.GPU{}
	for _, g := range n.GPUs {
		byIndex[g.Index] = g
	}
	for _, idx := range alloc.GPUs {
		g, ok := byIndex[idx]
		if !ok {
			return runtime.TaskSpec{}, fmt.Errorf("job %d: GPU %d is not on node %s", j.ID, idx, n.Name)
		}
		spec.Devices = append(spec.Devices, runtime.Device{
			Path: fmt.Sprintf("/dev/nvidia%d", g.Minor), HostPath: g.DevicePath, Type: 'c', Major: 195, Minor: int64(g.Minor),
			CDI: cdiNames(g, j.Spec.Image != ""),
		})
	}
	if len(alloc.GPUs) > 0 {
		for _, d := range n.ExtraDevices {
			spec.Devices = append(spec.Devices, runtime.Device{Path: d, HostPath: d})
		}
	}
	spec.Env = Env(j, n, eo)
	spec.CPUSet = jobCPUSet(n, alloc.GPUs, onlineCPUs())
	spec.Image = imageSpec(j.Spec)
	return spec, nil
}

// checkJob refuses a job the controller could not have sent: the node
// starts nothing it cannot run as asked (a root task for another user, a
// relative directory, an attempt its reports could not name).
func checkJob(j *api.Job) error {
	switch {
	case j.Spec == nil:
		return fmt.Errorf("job %d: no spec", j.ID)
	case j.UID == 0 && j.User != "root" && j.User != "0":
		return fmt.Errorf("job %d: uid 0 with user %q", j.ID, j.User)
	case j.Restarts < 0:
		return fmt.Errorf("job %d: negative restart count %d", j.ID, j.Restarts)
	case !filepath.IsAbs(j.Spec.WorkDir):
		return fmt.Errorf("job %d: working directory %q is not absolute", j.ID, j.Spec.WorkDir)
	case !strings.HasPrefix(j.Spec.Script, "#!"):
		return fmt.Errorf("job %d: the script does not start with #!", j.ID)
	}
	if err := noNUL(j.Spec.Args, j.Spec.Env, []string{j.Spec.Output, j.Spec.Error, j.Spec.WorkDir}); err != nil {
		return fmt.Errorf("job %d: %w", j.ID, err)
	}
	return nil
}

// noNUL refuses NUL bytes, which no argument, environment entry or path
// can hold.
func noNUL(lists ...[]string) error {
	for _, l := range lists {
		for _, s := range l {
			if strings.IndexByte(s, 0) >= 0 {
				return fmt.Errorf("%q holds a NUL byte", truncate(s, 40))
			}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// cpuSet binds a GPU job to the CPUs of its GPUs' NUMA nodes that this
// host really has ("" = no binding: no GPUs, unknown topology, or none of
// those CPUs here). The CPU quota still limits it to its allocated count.
func cpuSet(t *api.GPUTopology, gpus []int, online []int) string {
	if len(gpus) == 0 {
		return ""
	}
	var keep []int
	for _, c := range topology.CPUsFor(t, gpus) {
		if slices.Contains(online, c) {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	return topology.FormatList(keep)
}

var (
	onlineOnce sync.Once
	onlineList []int
)

// onlineCPUs reads the host's online CPUs once (/sys/devices/system/cpu/online).
func onlineCPUs() []int {
	onlineOnce.Do(func() {
		b, err := os.ReadFile("/sys/devices/system/cpu/online")
		if err != nil {
			return
		}
		onlineList, _ = topology.ParseList(strings.TrimSpace(string(b)))
	})
	return onlineList
}

func outPath(pattern, dir string, vars units.PatternVars) string {
	p := units.ExpandOutputPattern(pattern, vars)
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p)
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range in {
		d = filepath.Clean(d)
		if d == "/" || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Env is the job's environment: the submitter's (as --export chose), then
// gsched's variables, which win.
func Env(j *api.Job, n *api.Node, eo EnvOptions) []string {
	b := newEnvBuilder(j.Spec.Env)
	env, set := b.env, b.set
	if _, ok := env["PATH"]; !ok {
		set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	if _, ok := env["USER"]; !ok {
		set("USER", j.User)
	}
	if _, ok := env["HOME"]; !ok {
		if h := auth.HomeDir(j.UID); h != "" {
			set("HOME", h)
		}
	}
	var alloc api.Allocation
	nodeID := 0
	for i := range j.Allocs {
		if j.Allocs[i].Node == n.Name {
			alloc, nodeID = j.Allocs[i], i
		}
	}
	gpus := make([]string, len(alloc.GPUs))
	visible := make([]string, len(alloc.GPUs))
	for i, g := range alloc.GPUs {
		gpus[i] = strconv.Itoa(g)
		visible[i] = strconv.Itoa(i)
	}
	nodeList := j.NodeList()
	if nodeList == "" {
		nodeList = n.Name
	}
	id := strconv.FormatUint(uint64(j.ID), 10)
	set("GSCHED_JOB_ID", id)
	set("GSCHED_JOB_NAME", j.Spec.Name)
	set("GSCHED_JOB_USER", j.User)
	set("GSCHED_JOB_UID", strconv.FormatUint(uint64(j.UID), 10))
	set("GSCHED_JOB_PARTITION", j.Spec.Partition)
	set("GSCHED_CLUSTER_NAME", eo.Cluster)
	set("GSCHED_NODELIST", nodeList)
	set("GSCHED_JOB_NODELIST", nodeList)
	set("GSCHED_NNODES", strconv.Itoa(max(len(j.Allocs), 1)))
	set("GSCHED_NODEID", strconv.Itoa(nodeID))
	set("GSCHED_NTASKS", strconv.Itoa(j.Spec.NTasks))
	set("GSCHED_CPUS_PER_TASK", strconv.Itoa(j.Spec.CPUsPerTask))
	set("GSCHED_CPUS_ON_NODE", strconv.Itoa(alloc.CPUs))
	set("GSCHED_MEM_PER_NODE", strconv.FormatInt(alloc.MemBytes>>20, 10))
	set("GSCHED_GPUS_ON_NODE", strconv.Itoa(len(alloc.GPUs)))
	set("GSCHED_SUBMIT_DIR", j.Spec.WorkDir)
	set("GSCHED_SUBMIT_HOST", j.Spec.SubmitHost)
	set("GSCHED_RESTART_COUNT", strconv.Itoa(j.Restarts))
	set("GSCHED_JOB_ACCOUNT", j.Spec.Account)
	set("GSCHED_JOB_QOS", j.Spec.QOS)
	set("GSCHED_PROCID", "0")
	set("GSCHED_LOCALID", "0")
	set("GSCHED_NTASKS_PER_NODE", strconv.Itoa(j.Spec.TasksOnNode()))
	set("GSCHED_TASKS_PER_NODE", hostlist.Counts(jobTaskCounts(j)))
	set("GSCHED_NODENAME", n.Name)
	if j.IsArrayTask() {
		// The array's shape, from its spec (checked on submission).
		a, _ := api.ParseArray(j.Spec.Array, 0)
		set("GSCHED_ARRAY_JOB_ID", strconv.FormatUint(uint64(j.ArrayJobID), 10))
		set("GSCHED_ARRAY_TASK_ID", strconv.Itoa(j.ArrayTaskID))
		if len(a.Tasks) > 0 {
			set("GSCHED_ARRAY_TASK_COUNT", strconv.Itoa(len(a.Tasks)))
			set("GSCHED_ARRAY_TASK_MIN", strconv.Itoa(a.Tasks[0]))
			set("GSCHED_ARRAY_TASK_MAX", strconv.Itoa(a.Tasks[len(a.Tasks)-1]))
			if step := arrayStep(a.Tasks); step > 0 {
				set("GSCHED_ARRAY_TASK_STEP", strconv.Itoa(step))
			}
		}
	}
	// The rendezvous of torchrun-style launchers: the head node and a
	// port no other live job on it has. RANK and WORLD_SIZE are set per
	// task by grun, not here (one script is not every rank).
	if len(j.Allocs) > 0 {
		set("MASTER_ADDR", allocAddr(&j.Allocs[0]))
	}
	if j.MasterPort > 0 {
		set("MASTER_PORT", strconv.Itoa(j.MasterPort))
	}
	set("NODE_RANK", strconv.Itoa(nodeID))
	set("GROUP_RANK", strconv.Itoa(nodeID))
	if len(j.Allocs) > 1 {
		set("GSCHED_HOSTFILE", hostfilePath)
	}
	if eo.NCCLSocketIfname != "" {
		set("NCCL_SOCKET_IFNAME", eo.NCCLSocketIfname)
	}
	if eo.NCCLIBHCA != "" {
		set("NCCL_IB_HCA", eo.NCCLIBHCA)
	}
	set("GSCHED_TMPDIR", "/tmp") // private to the job
	set("TMPDIR", "/tmp")
	if lim := j.Spec.TimeLimit; lim > 0 {
		set("GSCHED_TIME_LIMIT", strconv.FormatInt(lim, 10))
	}
	if len(gpus) > 0 {
		set("GSCHED_JOB_GPUS", strings.Join(gpus, ","))
		// The container holds only the allocated devices, which CUDA
		// numbers from 0 in PCI order.
		set("CUDA_VISIBLE_DEVICES", strings.Join(visible, ","))
		set("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
	} else {
		delete(env, "CUDA_VISIBLE_DEVICES")
	}
	if eo.SlurmCompat {
		for _, k := range b.order {
			if name, ok := strings.CutPrefix(k, "GSCHED_"); ok {
				if alias, ok := slurmNames[name]; ok {
					set("SLURM_"+alias, env[k])
				}
			}
		}
		set("SLURM_JOBID", env["GSCHED_JOB_ID"])
		set("SLURM_JOB_NUM_NODES", env["GSCHED_NNODES"])
		set("SLURM_CLUSTER_NAME", eo.Cluster)
		// Open MPI's mpirun reads these to launch through srun (grun).
		set("SLURMD_NODENAME", n.Name)
	}
	return b.list()
}

// jobTaskCounts is how many of the job's tasks each of its nodes holds:
// the job's tasks spread in blocks, as a step with no counts lays them out.
func jobTaskCounts(j *api.Job) []int {
	nn := max(len(j.Allocs), 1)
	per := j.Spec.TasksOnNode()
	return api.BlockCounts(min(max(j.Spec.NTasks, 1), per*nn), nn)
}

// envBuilder collects KEY=VALUE entries in first-set order; a later set of
// a key replaces its value in place.
type envBuilder struct {
	env   map[string]string
	order []string
}

func newEnvBuilder(base []string) *envBuilder {
	b := &envBuilder{env: map[string]string{}}
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			continue // "=x" names no variable
		}
		b.set(k, v)
	}
	return b
}

func (b *envBuilder) set(k, v string) {
	if _, ok := b.env[k]; !ok {
		b.order = append(b.order, k)
	}
	b.env[k] = v
}

// list returns the entries, leaving out keys deleted from env.
func (b *envBuilder) list() []string {
	out := make([]string, 0, len(b.order))
	for _, k := range b.order {
		if v, ok := b.env[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// slurmNames maps GSCHED_<name> to SLURM_<name> for the variables Slurm
// sets in a batch job (the same name unless listed otherwise).
var slurmNames = map[string]string{
	"JOB_ID": "JOB_ID", "JOB_NAME": "JOB_NAME", "JOB_USER": "JOB_USER", "JOB_UID": "JOB_UID",
	"JOB_PARTITION": "JOB_PARTITION", "NODELIST": "NODELIST", "JOB_NODELIST": "JOB_NODELIST",
	"NNODES": "NNODES", "NODEID": "NODEID", "NTASKS": "NTASKS", "CPUS_PER_TASK": "CPUS_PER_TASK",
	"CPUS_ON_NODE": "CPUS_ON_NODE", "MEM_PER_NODE": "MEM_PER_NODE", "GPUS_ON_NODE": "GPUS_ON_NODE",
	"SUBMIT_DIR": "SUBMIT_DIR", "SUBMIT_HOST": "SUBMIT_HOST", "RESTART_COUNT": "RESTART_COUNT",
	"JOB_GPUS": "JOB_GPUS", "JOB_ACCOUNT": "JOB_ACCOUNT", "JOB_QOS": "JOB_QOS", "PROCID": "PROCID",
	"LOCALID": "LOCALID", "NTASKS_PER_NODE": "NTASKS_PER_NODE", "TASKS_PER_NODE": "TASKS_PER_NODE", "TMPDIR": "TMPDIR",
	"STEP_ID": "STEP_ID", "STEP_NUM_TASKS": "STEP_NUM_TASKS", "STEP_NUM_NODES": "STEP_NUM_NODES",
	"STEP_NODELIST": "STEP_NODELIST", "STEP_TASKS_PER_NODE": "STEP_TASKS_PER_NODE",
	"ARRAY_JOB_ID": "ARRAY_JOB_ID", "ARRAY_TASK_ID": "ARRAY_TASK_ID", "ARRAY_TASK_COUNT": "ARRAY_TASK_COUNT",
	"ARRAY_TASK_MIN": "ARRAY_TASK_MIN", "ARRAY_TASK_MAX": "ARRAY_TASK_MAX", "ARRAY_TASK_STEP": "ARRAY_TASK_STEP",
}

// arrayStep is the common difference of evenly spaced indices (Slurm's
// SLURM_ARRAY_TASK_STEP), 1 for a plain range, 0 when uneven.
func arrayStep(idx []int) int {
	if len(idx) < 2 {
		return 1
	}
	step := idx[1] - idx[0]
	for i := 2; i < len(idx); i++ {
		if idx[i]-idx[i-1] != step {
			return 0
		}
	}
	return step
}
