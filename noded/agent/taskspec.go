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
}

// TaskSpec turns a job assigned to node n into a runtime task.
func TaskSpec(j *api.Job, n *api.Node, pids int64, grace time.Duration, eo EnvOptions) (runtime.TaskSpec, error) {
	if j.Alloc == nil || j.Alloc.Node != n.Name {
		return runtime.TaskSpec{}, fmt.Errorf("job %d is not allocated to node %s", j.ID, n.Name)
	}
	if j.UID == 0 && j.User != "root" && j.User != "0" {
		return runtime.TaskSpec{}, fmt.Errorf("job %d: uid 0 with user %q", j.ID, j.User)
	}
	vars := units.PatternVars{JobID: uint64(j.ID), JobName: j.Spec.Name, User: j.User, Node: n.Name}
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
		CPUs:        float64(j.Alloc.CPUs),
		MemoryBytes: j.Alloc.MemBytes,
		PidsLimit:   pids,
		Deadline:    j.Deadline,
		KillGrace:   grace,
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
	for _, idx := range j.Alloc.GPUs {
		g, ok := byIndex[idx]
		if !ok {
			return runtime.TaskSpec{}, fmt.Errorf("job %d: GPU %d is not on node %s", j.ID, idx, n.Name)
		}
		spec.Devices = append(spec.Devices, runtime.Device{
			Path: fmt.Sprintf("/dev/nvidia%d", g.Minor), HostPath: g.DevicePath, Type: 'c', Major: 195, Minor: int64(g.Minor),
		})
	}
	if len(j.Alloc.GPUs) > 0 {
		for _, d := range n.ExtraDevices {
			spec.Devices = append(spec.Devices, runtime.Device{Path: d, HostPath: d})
		}
	}
	spec.Env = Env(j, n, eo)
	spec.CPUSet = cpuSet(n.Topology, j.Alloc.GPUs, onlineCPUs())
	return spec, nil
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
	env := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range j.Spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
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
	gpus := make([]string, len(j.Alloc.GPUs))
	visible := make([]string, len(j.Alloc.GPUs))
	for i, g := range j.Alloc.GPUs {
		gpus[i] = strconv.Itoa(g)
		visible[i] = strconv.Itoa(i)
	}
	id := strconv.FormatUint(uint64(j.ID), 10)
	set("GSCHED_JOB_ID", id)
	set("GSCHED_JOB_NAME", j.Spec.Name)
	set("GSCHED_JOB_USER", j.User)
	set("GSCHED_JOB_UID", strconv.FormatUint(uint64(j.UID), 10))
	set("GSCHED_JOB_PARTITION", j.Spec.Partition)
	set("GSCHED_CLUSTER_NAME", eo.Cluster)
	set("GSCHED_NODELIST", n.Name)
	set("GSCHED_JOB_NODELIST", n.Name)
	set("GSCHED_NNODES", "1")
	set("GSCHED_NODEID", "0")
	set("GSCHED_NTASKS", strconv.Itoa(j.Spec.NTasks))
	set("GSCHED_CPUS_PER_TASK", strconv.Itoa(j.Spec.CPUsPerTask))
	set("GSCHED_CPUS_ON_NODE", strconv.Itoa(j.Alloc.CPUs))
	set("GSCHED_MEM_PER_NODE", strconv.FormatInt(j.Alloc.MemBytes>>20, 10))
	set("GSCHED_GPUS_ON_NODE", strconv.Itoa(len(j.Alloc.GPUs)))
	set("GSCHED_SUBMIT_DIR", j.Spec.WorkDir)
	set("GSCHED_SUBMIT_HOST", j.Spec.SubmitHost)
	set("GSCHED_RESTART_COUNT", strconv.Itoa(j.Restarts))
	set("GSCHED_JOB_ACCOUNT", j.Spec.Account)
	set("GSCHED_JOB_QOS", j.Spec.QOS)
	set("GSCHED_PROCID", "0")
	set("GSCHED_LOCALID", "0")
	set("GSCHED_NTASKS_PER_NODE", strconv.Itoa(j.Spec.NTasks))
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
		for _, k := range order {
			if name, ok := strings.CutPrefix(k, "GSCHED_"); ok {
				if alias, ok := slurmNames[name]; ok {
					set("SLURM_"+alias, env[k])
				}
			}
		}
		set("SLURM_JOBID", env["GSCHED_JOB_ID"])
		set("SLURM_JOB_NUM_NODES", env["GSCHED_NNODES"])
		set("SLURM_CLUSTER_NAME", eo.Cluster)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		if v, ok := env[k]; ok {
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
	"LOCALID": "LOCALID", "NTASKS_PER_NODE": "NTASKS_PER_NODE", "TMPDIR": "TMPDIR",
}
