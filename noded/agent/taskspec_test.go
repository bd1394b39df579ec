package agent_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime"
)

func TestTaskSpecFiles(t *testing.T) {
	tests := []struct {
		name         string
		spec         func(*api.JobSpec)
		stdout       string
		stderr       string
		append       bool
		writableDirs []string
	}{
		{
			name:         "job id and name relative to the work dir; stderr follows stdout",
			spec:         func(s *api.JobSpec) { s.Output = "logs/%x-%j.out" },
			stdout:       "/work/alice/logs/train-7.out",
			stderr:       "/work/alice/logs/train-7.out",
			writableDirs: []string{"/work/alice", "/work/alice/logs"},
		},
		{
			name:         "separate stderr",
			spec:         func(s *api.JobSpec) { s.Output, s.Error = "%j.out", "err/%j.err" },
			stdout:       "/work/alice/7.out",
			stderr:       "/work/alice/err/7.err",
			writableDirs: []string{"/work/alice", "/work/alice/err"},
		},
		{
			name:         "absolute patterns",
			spec:         func(s *api.JobSpec) { s.Output, s.Error = "/scratch/out/%u-%N-%5j.log", "/scratch/err/%%%j" },
			stdout:       "/scratch/out/alice-n1-00007.log",
			stderr:       "/scratch/err/%7",
			writableDirs: []string{"/scratch/err", "/scratch/out", "/work/alice"},
		},
		{
			name:         "paths are cleaned and dirs deduplicated",
			spec:         func(s *api.JobSpec) { s.WorkDir, s.Output, s.Error = "/work/alice/", "./a/../%j.out", "sub/../x.err" },
			stdout:       "/work/alice/7.out",
			stderr:       "/work/alice/x.err",
			writableDirs: []string{"/work/alice"},
		},
		{
			name:         "a file in / does not make / writable",
			spec:         func(s *api.JobSpec) { s.Output = "/%j.out" },
			stdout:       "/7.out",
			stderr:       "/7.out",
			writableDirs: []string{"/work/alice"},
		},
		{
			name:         "append mode",
			spec:         func(s *api.JobSpec) { s.OpenMode = api.OpenAppend },
			stdout:       "/work/alice/slurm-7.out",
			stderr:       "/work/alice/slurm-7.out",
			append:       true,
			writableDirs: []string{"/work/alice"},
		},
		{
			name:         "truncate mode",
			spec:         func(s *api.JobSpec) { s.OpenMode = api.OpenTruncate },
			stdout:       "/work/alice/slurm-7.out",
			stderr:       "/work/alice/slurm-7.out",
			writableDirs: []string{"/work/alice"},
		},
	}
	n := testNode()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := runningJob(7, func(j *api.Job) { tt.spec(j.Spec) })
			spec, err := agent.TaskSpec(&j, &n, 100, time.Second, agent.EnvOptions{Cluster: "lab"})
			if err != nil {
				t.Fatal(err)
			}
			if spec.Stdout != tt.stdout || spec.Stderr != tt.stderr || spec.Append != tt.append {
				t.Errorf("stdout %q stderr %q append %v, want %q %q %v", spec.Stdout, spec.Stderr, spec.Append, tt.stdout, tt.stderr, tt.append)
			}
			if !slices.Equal(spec.WritableDirs, tt.writableDirs) {
				t.Errorf("writable dirs %v, want %v", spec.WritableDirs, tt.writableDirs)
			}
		})
	}
}

func TestTaskSpecDevices(t *testing.T) {
	n := testNode()
	tests := []struct {
		name string
		gpus []int
		want []runtime.Device
	}{
		{name: "no GPUs: no devices at all"},
		{
			name: "device minors, not indices, plus the control devices",
			gpus: []int{0, 2},
			want: []runtime.Device{
				{Path: "/dev/nvidia4", HostPath: "/dev/nvidia4", Type: 'c', Major: 195, Minor: 4},
				{Path: "/dev/nvidia6", HostPath: "/dev/nvidia6", Type: 'c', Major: 195, Minor: 6},
				{Path: "/dev/nvidiactl", HostPath: "/dev/nvidiactl"},
				{Path: "/dev/nvidia-uvm", HostPath: "/dev/nvidia-uvm"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := runningJob(7, withGPUs(tt.gpus...))
			spec, err := agent.TaskSpec(&j, &n, 0, 0, agent.EnvOptions{Cluster: "lab"})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(spec.Devices, tt.want) {
				t.Errorf("devices:\n got %+v\nwant %+v", spec.Devices, tt.want)
			}
		})
	}
	// Fake GPUs keep their host path; the container sees /dev/nvidiaN.
	fakeNode := testNode()
	fakeNode.GPUs[1].DevicePath = "/var/lib/gsched/fake/gpu1"
	j := runningJob(7, withGPUs(1))
	spec, err := agent.TaskSpec(&j, &fakeNode, 0, 0, agent.EnvOptions{Cluster: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	if d := spec.Devices[0]; d.Path != "/dev/nvidia5" || d.HostPath != "/var/lib/gsched/fake/gpu1" || d.Minor != 5 {
		t.Errorf("fake GPU device %+v", d)
	}
}

func TestTaskSpecErrors(t *testing.T) {
	n := testNode()
	tests := []struct {
		name string
		job  api.Job
		want string
	}{
		{"no allocation", runningJob(7, func(j *api.Job) { j.Allocs = nil }), "not allocated to node n1"},
		{"allocated elsewhere", runningJob(7, func(j *api.Job) { j.Allocs[0].Node = "n2" }), "not allocated to node n1"},
		{"uid 0 for another user", runningJob(7, func(j *api.Job) { j.UID = 0 }), `uid 0 with user "alice"`},
		{"unknown GPU", runningJob(7, withGPUs(0, 4)), "GPU 4 is not on node n1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := agent.TaskSpec(&tt.job, &n, 0, 0, agent.EnvOptions{Cluster: "lab"}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("TaskSpec = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// Root's own jobs are allowed, by name or number.
	for _, u := range []string{"root", "0"} {
		j := runningJob(7, func(j *api.Job) { j.UID, j.GID, j.User = 0, 0, u })
		if _, err := agent.TaskSpec(&j, &n, 0, 0, agent.EnvOptions{Cluster: "lab"}); err != nil {
			t.Errorf("root job as %q: %v", u, err)
		}
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name   string
		job    api.Job
		want   map[string]string // a subset of the environment
		absent []string
	}{
		{
			name: "gsched variables",
			job: runningJob(7, func(j *api.Job) {
				j.Spec.TimeLimit = 3600
				j.Spec.SubmitHost = "login1"
			}),
			want: map[string]string{
				"GSCHED_JOB_ID": "7", "GSCHED_JOB_NAME": "train", "GSCHED_JOB_USER": "alice", "GSCHED_JOB_UID": "54321",
				"GSCHED_JOB_PARTITION": "gpu", "GSCHED_CLUSTER_NAME": "lab", "GSCHED_NODELIST": "n1", "GSCHED_JOB_NODELIST": "n1",
				"GSCHED_NNODES": "1", "GSCHED_NODEID": "0", "GSCHED_NTASKS": "2", "GSCHED_CPUS_PER_TASK": "2",
				"GSCHED_CPUS_ON_NODE": "4", "GSCHED_MEM_PER_NODE": "8192", "GSCHED_GPUS_ON_NODE": "0",
				"GSCHED_SUBMIT_DIR": "/work/alice", "GSCHED_SUBMIT_HOST": "login1", "GSCHED_TIME_LIMIT": "3600",
				"USER": "alice", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			},
			absent: []string{"HOME", "CUDA_VISIBLE_DEVICES", "GSCHED_JOB_GPUS", "CUDA_DEVICE_ORDER"},
		},
		{
			name:   "no time limit: no GSCHED_TIME_LIMIT",
			job:    runningJob(7),
			absent: []string{"GSCHED_TIME_LIMIT"},
		},
		{
			name: "GPUs renumbered from 0 for CUDA, host indices in GSCHED_JOB_GPUS",
			job:  runningJob(7, withGPUs(1, 3)),
			want: map[string]string{
				"CUDA_VISIBLE_DEVICES": "0,1", "GSCHED_JOB_GPUS": "1,3", "GSCHED_GPUS_ON_NODE": "2", "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
			},
		},
		{
			name: "the submitter's CUDA_VISIBLE_DEVICES is replaced",
			job: runningJob(7, withGPUs(2), func(j *api.Job) {
				j.Spec.Env = []string{"CUDA_VISIBLE_DEVICES=0,1,2,3"}
			}),
			want: map[string]string{"CUDA_VISIBLE_DEVICES": "0", "GSCHED_JOB_GPUS": "2"},
		},
		{
			name: "no GPUs: the submitter's CUDA_VISIBLE_DEVICES is dropped",
			job: runningJob(7, func(j *api.Job) {
				j.Spec.Env = []string{"A=1", "CUDA_VISIBLE_DEVICES=3", "B=2"}
			}),
			want:   map[string]string{"A": "1", "B": "2"},
			absent: []string{"CUDA_VISIBLE_DEVICES", "GSCHED_JOB_GPUS"},
		},
		{
			name: "user environment kept, gsched's variables win",
			job: runningJob(7, func(j *api.Job) {
				j.Spec.Env = []string{
					"PATH=/opt/bin", "USER=someone", "HOME=/home/elsewhere", "FOO=a=b", "EMPTY=",
					"GSCHED_JOB_ID=999", "GSCHED_NODELIST=evil", "GSCHED_CUSTOM=mine",
				}
			}),
			want: map[string]string{
				"PATH": "/opt/bin", "USER": "someone", "HOME": "/home/elsewhere", "FOO": "a=b", "EMPTY": "",
				"GSCHED_JOB_ID": "7", "GSCHED_NODELIST": "n1", "GSCHED_CUSTOM": "mine",
			},
		},
	}
	n := testNode()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := agent.Env(&tt.job, &n, agent.EnvOptions{Cluster: "lab"})
			m := envMap(t, env)
			for k, v := range tt.want {
				if got, ok := m[k]; !ok || got != v {
					t.Errorf("%s = %q (set: %v), want %q", k, got, ok, v)
				}
			}
			for _, k := range tt.absent {
				if v, ok := m[k]; ok {
					t.Errorf("%s = %q, want it unset", k, v)
				}
			}
			for _, kv := range env {
				if !strings.Contains(kv, "=") || strings.HasPrefix(kv, "=") {
					t.Errorf("malformed entry %q", kv)
				}
			}
		})
	}
}

func TestEnvKeepsSubmitterOrder(t *testing.T) {
	j := runningJob(7, func(j *api.Job) { j.Spec.Env = []string{"Z=1", "A=2", "M=3"} })
	n := testNode()
	env := agent.Env(&j, &n, agent.EnvOptions{Cluster: "lab"})
	if len(env) < 3 || !slices.Equal(env[:3], []string{"Z=1", "A=2", "M=3"}) {
		t.Errorf("env starts %v, want the submitter's variables first, in order", env)
	}
	if again := agent.Env(&j, &n, agent.EnvOptions{Cluster: "lab"}); !slices.Equal(env, again) {
		t.Error("Env is not deterministic")
	}
}

// With Slurm compatibility every GSCHED_* variable Slurm has an equivalent
// of is mirrored, with the same value, and the submitter's stale SLURM_*
// values are replaced; without it none is added.
func TestEnvSlurmCompat(t *testing.T) {
	j := runningJob(7, withGPUs(1, 3), func(j *api.Job) {
		j.Spec.Env = []string{"SLURM_JOB_ID=999"} // submitted from inside an old Slurm job
		j.Spec.Account, j.Restarts = "phys", 2
	})
	n := testNode()
	on := envMap(t, agent.Env(&j, &n, agent.EnvOptions{Cluster: "lab", SlurmCompat: true}))
	for gs, sl := range map[string]string{
		"GSCHED_JOB_ID": "SLURM_JOB_ID", "GSCHED_JOB_NAME": "SLURM_JOB_NAME", "GSCHED_JOB_NODELIST": "SLURM_JOB_NODELIST",
		"GSCHED_NNODES": "SLURM_NNODES", "GSCHED_NTASKS": "SLURM_NTASKS", "GSCHED_PROCID": "SLURM_PROCID",
		"GSCHED_LOCALID": "SLURM_LOCALID", "GSCHED_NODEID": "SLURM_NODEID", "GSCHED_CPUS_PER_TASK": "SLURM_CPUS_PER_TASK",
		"GSCHED_CPUS_ON_NODE": "SLURM_CPUS_ON_NODE", "GSCHED_MEM_PER_NODE": "SLURM_MEM_PER_NODE",
		"GSCHED_GPUS_ON_NODE": "SLURM_GPUS_ON_NODE", "GSCHED_JOB_GPUS": "SLURM_JOB_GPUS", "GSCHED_SUBMIT_DIR": "SLURM_SUBMIT_DIR",
		"GSCHED_JOB_ACCOUNT": "SLURM_JOB_ACCOUNT", "GSCHED_JOB_PARTITION": "SLURM_JOB_PARTITION",
		"GSCHED_RESTART_COUNT": "SLURM_RESTART_COUNT", "GSCHED_NTASKS_PER_NODE": "SLURM_NTASKS_PER_NODE",
		"GSCHED_TMPDIR": "SLURM_TMPDIR", "GSCHED_JOB_ID ": "SLURM_JOBID",
	} {
		want, ok := on[strings.TrimSpace(gs)]
		if !ok || on[sl] != want {
			t.Errorf("%s = %q, want %q (as %s)", sl, on[sl], want, gs)
		}
	}
	if on["SLURM_JOB_ID"] != "7" || on["SLURM_RESTART_COUNT"] != "2" || on["SLURM_JOB_NUM_NODES"] != "1" || on["SLURM_CLUSTER_NAME"] != "lab" {
		t.Errorf("SLURM_* values: %v", on)
	}
	off := envMap(t, agent.Env(&j, &n, agent.EnvOptions{Cluster: "lab"}))
	for k := range off {
		if strings.HasPrefix(k, "SLURM_") && k != "SLURM_JOB_ID" {
			t.Errorf("%s set without Slurm compatibility", k)
		}
	}
}
