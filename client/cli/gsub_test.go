package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/units"
)

func TestBuildSpec(t *testing.T) {
	script := []byte("#!/bin/sh\necho hi\n")
	base := SubmitInput{Script: script, ScriptPath: "/home/a/train.sh", Cwd: "/home/a", Environ: []string{"A=1"}, Hostname: "login1"}
	defaults := api.JobSpec{
		Name: "train.sh", CPUsPerTask: 1, Output: DefaultOutput, WorkDir: "/home/a",
		Env: []string{"A=1"}, Script: string(script), SubmitHost: "login1",
	}
	tests := []struct {
		name   string
		opts   SubmitOptions
		in     func(*SubmitInput)
		want   func(*api.JobSpec)
		errSub string
	}{
		{name: "defaults", want: func(*api.JobSpec) {}},
		{
			name: "everything",
			opts: SubmitOptions{
				JobName: "job", Partition: "gpu", Nodes: "1", NTasks: "4", CPUsPerTask: "8", Mem: "16G",
				GPUsPerNode: "2", Time: "1-00:00:00", Output: "o-%j", Error: "e-%j", OpenMode: "APPEND",
				Chdir: "sub/../dir", Export: "NONE", Hold: true,
			},
			want: func(s *api.JobSpec) {
				s.Name, s.Partition, s.Nodes, s.NTasks, s.CPUsPerTask = "job", "gpu", 1, 4, 8
				s.MemBytes, s.GPUsPerNode, s.TimeLimit = 16*units.GiB, 2, 86400
				s.Output, s.Error, s.OpenMode = "o-%j", "e-%j", api.OpenAppend
				s.WorkDir, s.Env, s.Hold = "/home/a/dir", []string{}, true
			},
		},
		{name: "absolute chdir", opts: SubmitOptions{Chdir: "/scratch/x/"}, want: func(s *api.JobSpec) { s.WorkDir = "/scratch/x" }},
		{name: "gpus total", opts: SubmitOptions{GPUs: "4"}, want: func(s *api.JobSpec) { s.GPUs = 4 }},
		{name: "gres", opts: SubmitOptions{Gres: "gpu:3"}, want: func(s *api.JobSpec) { s.GPUsPerNode = 3 }},
		{name: "unlimited time", opts: SubmitOptions{Time: "UNLIMITED"}, want: func(s *api.JobSpec) { s.TimeLimit = api.TimeUnlimited }},
		{name: "wrap name", in: func(in *SubmitInput) { in.Wrap, in.ScriptPath = true, "" }, want: func(s *api.JobSpec) { s.Name = DefaultWrapName }},
		{name: "stdin name", in: func(in *SubmitInput) { in.ScriptPath = "" }, want: func(s *api.JobSpec) { s.Name = DefaultStdinName }},
		{name: "script args", in: func(in *SubmitInput) { in.Args = []string{"a", "b"} }, want: func(s *api.JobSpec) { s.Args = []string{"a", "b"} }},
		{name: "two nodes", opts: SubmitOptions{Nodes: "2", NTasksPerNode: "4", GPUsPerTask: "1", CPUsPerGPU: "8"},
			want: func(s *api.JobSpec) { s.Nodes, s.NTasksPerNode, s.GPUsPerTask, s.CPUsPerGPU = 2, 4, 1, 8 }},
		{name: "exclusive switches", opts: SubmitOptions{Exclusive: true, Switches: "1@10:00"},
			want: func(s *api.JobSpec) { s.Exclusive, s.Switches, s.SwitchWait = true, 1, 600 }},
		{name: "bad switches", opts: SubmitOptions{Switches: "0"}, errSub: "--switches: invalid switch request"},
		{name: "zero gpus per task", opts: SubmitOptions{GPUsPerTask: "0"}, errSub: "--gpus-per-task \"0\": must be at least 1"},
		{name: "zero nodes", opts: SubmitOptions{Nodes: "0"}, errSub: "--nodes \"0\": must be at least 1"},
		{name: "negative tasks", opts: SubmitOptions{NTasks: "-3"}, errSub: "--ntasks \"-3\": must be at least 1"},
		{name: "zero cpus", opts: SubmitOptions{CPUsPerTask: "0"}, errSub: "--cpus-per-task \"0\": must be at least 1"},
		{name: "garbage cpus", opts: SubmitOptions{CPUsPerTask: "many"}, errSub: "not a whole number"},
		{name: "bad mem", opts: SubmitOptions{Mem: "4Q"}, errSub: "--mem: invalid memory size"},
		{name: "bad time", opts: SubmitOptions{Time: "1:2:3:4"}, errSub: "--time: invalid time limit"},
		{name: "huge time", opts: SubmitOptions{Time: "400-00"}, errSub: "time limit too large"},
		{name: "bad gres", opts: SubmitOptions{Gres: "mps:10"}, errSub: "unknown generic resource"},
		{name: "typed gpus", opts: SubmitOptions{GPUs: "h100:2"}, want: func(s *api.JobSpec) { s.GPUs, s.GPUType = 2, "h100" }},
		{name: "typed gres", opts: SubmitOptions{Gres: "gpu:a100:4"}, want: func(s *api.JobSpec) { s.GPUsPerNode, s.GPUType = 4, "a100" }},
		{name: "gpu memory minimum", opts: SubmitOptions{GPUs: "1", GPUMem: "40G"}, want: func(s *api.JobSpec) { s.GPUs, s.GPUMemMin = 1, 40<<30 }},
		{name: "mem per gpu", opts: SubmitOptions{GPUsPerNode: "2", MemPerGPU: "16G"}, want: func(s *api.JobSpec) { s.GPUsPerNode, s.MemBytes = 2, 32<<30 }},
		{name: "mem per gpu without gpus", opts: SubmitOptions{MemPerGPU: "16G"}, errSub: "needs GPUs"},
		{name: "mem and mem per gpu", opts: SubmitOptions{GPUs: "1", Mem: "1G", MemPerGPU: "16G"}, errSub: "only one of --mem"},
		{name: "bad gpu mem", opts: SubmitOptions{GPUs: "1", GPUMem: "huge"}, errSub: "--gpu-mem"},
		{name: "constraint", opts: SubmitOptions{Constraint: "ib&nvme"}, want: func(s *api.JobSpec) { s.Constraint = "ib&nvme" }},
		{name: "two gpu options", opts: SubmitOptions{GPUs: "2", Gres: "gpu:2"}, errSub: "only one of"},
		{name: "open mode", opts: SubmitOptions{OpenMode: "rw"}, errSub: "--open-mode"},
		{name: "bad export", opts: SubmitOptions{Export: "1BAD=x"}, errSub: "not a valid variable name"},
		{name: "account qos nice", opts: SubmitOptions{Account: "physics", QOS: "urgent", Nice: "50"},
			want: func(s *api.JobSpec) { s.Account, s.QOS, s.Nice = "physics", "urgent", 50 }},
		{name: "negative nice is sent (the controller decides)", opts: SubmitOptions{Nice: "-5"}, want: func(s *api.JobSpec) { s.Nice = -5 }},
		{name: "bad nice", opts: SubmitOptions{Nice: "lots"}, errSub: "--nice"},
		{name: "absurd nice", opts: SubmitOptions{Nice: "99999999999"}, errSub: "--nice"},
		{name: "multi-line name", opts: SubmitOptions{JobName: "a\nb"}, errSub: "one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			if tt.in != nil {
				tt.in(&in)
			}
			got, err := BuildSpec(tt.opts, in)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("BuildSpec error = %v, want containing %q", err, tt.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaults
			if in.Args != nil {
				want.Args = in.Args
			}
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("BuildSpec =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestBuildExportEnv(t *testing.T) {
	environ := []string{"HOME=/h", "PATH=/bin", "X=1", "=bad", "NOEQ"}
	tests := []struct {
		spec   string
		want   []string
		errSub string
	}{
		{spec: "", want: []string{"HOME=/h", "PATH=/bin", "X=1"}},
		{spec: "ALL", want: []string{"HOME=/h", "PATH=/bin", "X=1"}},
		{spec: "all", want: []string{"HOME=/h", "PATH=/bin", "X=1"}},
		{spec: "NONE", want: []string{}},
		{spec: "ALL,X=2,NEW=a=b", want: []string{"HOME=/h", "NEW=a=b", "PATH=/bin", "X=2"}},
		{spec: "PATH,Y=3", want: []string{"PATH=/bin", "Y=3"}},
		{spec: "MISSING", want: []string{}},
		{spec: "X=", want: []string{"X="}},
		{spec: "NONE,X", want: []string{"X=1"}},
		{spec: "ALL,NONE", errSub: "exclude each other"},
		{spec: "A-B=1", errSub: "not a valid variable name"},
		{spec: "=1", errSub: "not a valid variable name"},
	}
	for _, tt := range tests {
		got, err := BuildExportEnv(tt.spec, environ)
		if tt.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errSub) {
				t.Errorf("BuildExportEnv(%q) error = %v, want containing %q", tt.spec, err, tt.errSub)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("BuildExportEnv(%q) = %q, %v; want %q", tt.spec, got, err, tt.want)
		}
	}
}

func TestWaitExitCode(t *testing.T) {
	tests := []struct {
		state api.JobState
		code  int
		want  int
	}{
		{api.StateCompleted, 0, 0},
		{api.StateFailed, 3, 3},
		{api.StateFailed, 0, 1},
		{api.StateFailed, 300, 1},
		{api.StateCancelled, 0, 1},
		{api.StateTimeout, 0, 1},
		{api.StateOutOfMemory, 0, 1},
		{api.StateNodeFail, 0, 1},
	}
	for _, tt := range tests {
		if got := WaitExitCode(api.Job{State: tt.state, ExitCode: tt.code}); got != tt.want {
			t.Errorf("WaitExitCode(%s, %d) = %d, want %d", tt.state, tt.code, got, tt.want)
		}
	}
}

func TestExpandShortOptions(t *testing.T) {
	flags := gsubFlags()
	tests := []struct {
		in      []string
		permute bool
		want    []string
	}{
		{in: []string{"-Jname", "-c8", "script", "-Jx"}, want: []string{"-J", "name", "-c", "8", "--", "script", "-Jx"}},
		{in: []string{"-J", "-weird", "-t=5", "--job-name", "x", "--mem=4G"}, want: []string{"-J", "-weird", "-t=5", "--job-name", "x", "--mem=4G"}},
		{in: []string{"-W", "-H", "--parsable", "s.sh"}, want: []string{"-W", "-H", "--parsable", "--", "s.sh"}},
		{in: []string{"-job-name", "x"}, want: []string{"-job-name", "x"}},
		{in: []string{"--", "-J", "x"}, want: []string{"--", "-J", "x"}},
		{in: []string{"-Xfoo"}, want: []string{"-Xfoo"}},
		{in: []string{"12", "-t5", "13"}, permute: true, want: []string{"-t", "5", "--", "12", "13"}},
	}
	for _, tt := range tests {
		if got := expandShortOptions(tt.in, flags, tt.permute); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("expandShortOptions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
