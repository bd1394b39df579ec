package hooks

import (
	"strconv"
	"strings"

	"github.com/gsched/gsched/pkg/api"
)

// Script contexts, as $GSCHED_SCRIPT_CONTEXT and Slurm's
// $SLURM_SCRIPT_CONTEXT give them.
const (
	NodeProlog       = "prolog_gnoded"
	NodeEpilog       = "epilog_gnoded"
	ControllerProlog = "prolog_gctld"
	ControllerEpilog = "epilog_gctld"
)

// slurmContext maps a context to Slurm's name for it.
var slurmContext = map[string]string{
	NodeProlog: "prolog_slurmd", NodeEpilog: "epilog_slurmd",
	ControllerProlog: "prolog_slurmctld", ControllerEpilog: "epilog_slurmctld",
}

// JobEnv is the environment of a job's prolog or epilog: the GSCHED_*
// variables and, with slurm, their SLURM_* equivalents. node is the node
// it runs on ("" on the controller, where the job's state and exit code
// are added for the epilog).
func JobEnv(j *api.Job, node, context, cluster string, slurm bool) []string {
	id := strconv.FormatUint(uint64(j.ID), 10)
	nodelist := j.NodeList()
	var gpus []string
	if a := j.AllocOn(node); a != nil {
		for _, g := range a.GPUs {
			gpus = append(gpus, strconv.Itoa(g))
		}
	}
	type kv struct{ g, s, v string } // GSCHED_ name, SLURM_ name ("" = none), value
	vars := []kv{
		{"GSCHED_JOB_ID", "SLURM_JOB_ID", id},
		{"", "SLURM_JOBID", id},
		{"GSCHED_JOB_NAME", "SLURM_JOB_NAME", j.Spec.Name},
		{"GSCHED_JOB_USER", "SLURM_JOB_USER", j.User},
		{"GSCHED_JOB_UID", "SLURM_JOB_UID", strconv.FormatUint(uint64(j.UID), 10)},
		{"GSCHED_JOB_GID", "SLURM_JOB_GID", strconv.FormatUint(uint64(j.GID), 10)},
		{"GSCHED_JOB_PARTITION", "SLURM_JOB_PARTITION", j.Spec.Partition},
		{"GSCHED_JOB_ACCOUNT", "SLURM_JOB_ACCOUNT", j.Spec.Account},
		{"GSCHED_JOB_NODELIST", "SLURM_JOB_NODELIST", nodelist},
		{"", "SLURM_NODELIST", nodelist},
		{"GSCHED_JOB_NUM_NODES", "SLURM_JOB_NUM_NODES", strconv.Itoa(len(j.Allocs))},
		{"GSCHED_JOB_WORK_DIR", "SLURM_JOB_WORK_DIR", j.Spec.WorkDir},
		{"GSCHED_RESTART_COUNT", "SLURM_RESTART_COUNT", strconv.Itoa(j.Restarts)},
		{"GSCHED_CLUSTER_NAME", "SLURM_CLUSTER_NAME", cluster},
		{"GSCHED_SCRIPT_CONTEXT", "SLURM_SCRIPT_CONTEXT", context},
	}
	if j.ArrayJobID != 0 {
		vars = append(vars,
			kv{"GSCHED_ARRAY_JOB_ID", "SLURM_ARRAY_JOB_ID", strconv.FormatUint(uint64(j.ArrayJobID), 10)},
			kv{"GSCHED_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_ID", strconv.Itoa(j.ArrayTaskID)})
	}
	if node != "" {
		vars = append(vars,
			kv{"GSCHED_NODENAME", "SLURMD_NODENAME", node},
			kv{"GSCHED_JOB_GPUS", "SLURM_JOB_GPUS", strings.Join(gpus, ",")},
			kv{"CUDA_VISIBLE_DEVICES", "", strings.Join(gpus, ",")})
	} else if context == ControllerEpilog {
		vars = append(vars,
			kv{"GSCHED_JOB_STATE", "SLURM_JOB_STATE", string(j.State)},
			kv{"GSCHED_JOB_EXIT_CODE", "SLURM_JOB_EXIT_CODE", strconv.Itoa(j.ExitCode)})
	}
	out := make([]string, 0, 2*len(vars))
	for _, v := range vars {
		val := strings.ReplaceAll(v.v, "\x00", "")
		if v.g != "" {
			out = append(out, v.g+"="+val)
		}
		if v.s != "" && slurm {
			if v.s == "SLURM_SCRIPT_CONTEXT" {
				val = slurmContext[context]
			}
			out = append(out, v.s+"="+val)
		}
	}
	return out
}
