package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/batch"
	"github.com/gsched/gsched/pkg/queuefmt"
	"github.com/gsched/gsched/pkg/rpc"
)

// checkErrorLine: what a command prints for err is one line of text.
func checkErrorLine(t *testing.T, what string, err error) {
	t.Helper()
	if line := ErrorLine(err); line == "" || strings.ContainsFunc(line, unicode.IsControl) {
		t.Fatalf("%s: error is not one line of text: %q", what, line)
	}
}

// splitArgs turns fuzzer text into command-line words: NUL separates them
// (no word of a real command line can hold one).
func splitArgs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// checkSent: a request a command built travels to the controller
// unchanged (JSON keeps every string and number it holds).
func checkSent(t *testing.T, v any, fresh any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("request does not encode: %v", err)
	}
	if err := rpc.Decode(b, fresh); err != nil {
		t.Fatalf("request %s does not decode: %v", b, err)
	}
	if got := reflect.ValueOf(fresh).Elem().Interface(); !reflect.DeepEqual(got, v) {
		t.Fatalf("request changes on the wire:\nsent %+v\ngot  %+v", v, got)
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// FuzzGsubOptions runs gsub's whole option pipeline on a script and a
// command line: the script's #GSUB/#SBATCH directives, the options
// (command line first), and the job spec built from them. Each either
// fails with a one-line error or gives a spec whose counts are in range,
// whose directory is absolute and which reaches the controller unchanged.
func FuzzGsubOptions(f *testing.F) {
	f.Add([]byte(trainScript), "")
	f.Add([]byte("#!/bin/sh\n#SBATCH -N2 --ntasks-per-node=4 --gpus-per-task=1 --cpus-per-gpu=2\n#SBATCH --switches=1@10:00\ntrue\n"), "-J\x00x\x00--exclusive")
	f.Add([]byte("#!/bin/sh\n#SBATCH --gpus=1000000000 --mem=-1 -t 3650-00:00:00\n"), "")
	f.Add([]byte("#!/bin/sh\n#SBATCH --mem-per-gpu=10G --gres=gpu:a100:2 --gpu-mem=40G -C ib&nvme\n"), "--export=NONE,A=1\x00-D\x00sub")
	f.Add([]byte("#!/bin/sh\n#SBATCH -J caf\xe9\n"), "")
	f.Add([]byte("#!/bin/sh\n#SBATCH --wrap=x\n"), "--open-mode=append\x00--nice=-5\x00--hold")
	f.Add([]byte("#!/bin/sh\n#SBATCH -J \"a\rb\" -p 'x y'\n"), "-p\x00a\x1b[31m")
	f.Fuzz(func(t *testing.T, script []byte, cmdline string) {
		in := SubmitInput{Script: script, Cwd: "/home/alice", Environ: []string{"HOME=/home/alice", "FOO=1"}, Hostname: "login1"}
		cmd, err := parseOptionArgs(splitArgs(cmdline))
		if err != nil {
			checkErrorLine(t, "command line", err)
			return
		}
		ctxs := []*ucli.Context{cmd}
		d, err := batch.ParseDirectives(script)
		if err != nil {
			checkErrorLine(t, "directives", err)
			if !errors.Is(err, api.ErrInvalid) {
				t.Fatalf("directive error %v does not match api.ErrInvalid", err)
			}
			return
		}
		if len(d.Args) > 0 {
			dc, err := parseDirectiveArgs(d)
			if err != nil {
				checkErrorLine(t, "directive options", err)
				return
			}
			ctxs = append(ctxs, dc)
		}
		spec, err := BuildSpec(MergeOptions(ctxs...), in)
		if err != nil {
			checkErrorLine(t, "options", err)
			return
		}
		if spec.Script != string(script) || spec.CPUsPerTask < 1 || spec.Nodes < 0 || spec.NTasks < 0 || spec.NTasksPerNode < 0 ||
			spec.GPUs < 0 || spec.GPUsPerNode < 0 || spec.GPUsPerTask < 0 || spec.CPUsPerGPU < 0 || spec.MemBytes < 0 ||
			spec.GPUMemMin < 0 || spec.TimeLimit < api.TimeUnlimited || spec.Switches < 0 || spec.SwitchWait < 0 {
			t.Fatalf("accepted out-of-range options: %+v", spec)
		}
		if !filepath.IsAbs(spec.WorkDir) || filepath.Clean(spec.WorkDir) != spec.WorkDir {
			t.Fatalf("work dir %q", spec.WorkDir)
		}
		if strings.ContainsAny(spec.Name, "\n\r\x00") || spec.Name == "" {
			t.Fatalf("job name %q", spec.Name)
		}
		for _, kv := range spec.Env {
			if k, _, ok := strings.Cut(kv, "="); !ok || !validEnvName(k) {
				t.Fatalf("environment entry %q", kv)
			}
		}
		// Empty lists travel as none (omitempty), which means the same.
		spec.Env, spec.Args = nilIfEmpty(spec.Env), nilIfEmpty(spec.Args)
		checkSent(t, api.SubmitRequest{Spec: spec}, new(api.SubmitRequest))
	})
}

// FuzzGrunOptions runs grun's option parsing on a command line, inside a
// job or not: a one-line usage error, or a step with a command, counts in
// range, an absolute directory and node names from a valid hostlist.
func FuzzGrunOptions(f *testing.F) {
	f.Add("--ntasks-per-node=1\x00--kill-on-bad-exit\x00--cpu_bind=none\x00--nodes=2\x00--nodelist=n2,n3\x00--ntasks=2\x00orted\x00-mca\x00x", "5")
	f.Add("-N1\x00-w\x00gpu[02-03]\x00-n\x004\x00-K0\x00python\x00-K", "5")
	f.Add("-w\x00n[3-1]\x00true", "5")
	f.Add("-n\x001000000000000\x00-D\x00rel\x00x", "")
	f.Add("--jobid=0\x00x", "")
	f.Add("-w\x00n[0-999999999]\x00x", "7")
	f.Add("--mpi=pmix\x00--\x00-x", "abc")
	f.Add("python\x00caf\xe9.py", "5")
	f.Fuzz(func(t *testing.T, cmdline, jobEnv string) {
		e := &Env{
			Getenv:   func(k string) string { return map[string]string{"GSCHED_JOB_ID": jobEnv}[k] },
			Environ:  func() []string { return []string{"HOME=/home/alice"} },
			Getwd:    func() (string, error) { return "/home/alice", nil },
			Hostname: func() (string, error) { return "login1", nil },
			Now:      func() time.Time { return time.Unix(0, 0) },
		}
		flags := grunFlags()
		var spec api.StepSpec
		var stepErr error
		ran := false
		app := &ucli.App{
			Name: "grun", Flags: flags, HideHelp: true, HideHelpCommand: true, HideVersion: true,
			Writer: &bytes.Buffer{}, ErrWriter: &bytes.Buffer{},
			OnUsageError:   func(_ *ucli.Context, err error, _ bool) error { return &usageError{err} },
			ExitErrHandler: func(*ucli.Context, error) {},
			Action: func(c *ucli.Context) error {
				ran = true
				spec, _, stepErr = e.grunStep(c)
				return stepErr
			},
		}
		args := append([]string{"grun"}, expandShortOptions(splitArgs(cmdline), flags, false, grunBare)...)
		if err := app.Run(args); err != nil {
			checkErrorLine(t, "grun", err)
			return
		}
		if !ran {
			return // --help
		}
		if len(spec.Argv) == 0 || spec.NTasks < 0 || spec.NTasksPerNode < 0 || spec.NNodes < 0 || !filepath.IsAbs(spec.Cwd) {
			t.Fatalf("accepted step %+v", spec)
		}
		spec.Env, spec.Nodes = nilIfEmpty(spec.Env), nilIfEmpty(spec.Nodes)
		checkSent(t, api.StepStartRequest{JobID: 5, Spec: spec}, new(api.StepStartRequest))
	})
}

// FuzzClientParsers feeds one string to the small parsers of the
// commands' options: job IDs, states, signals, gacct times and --export.
func FuzzClientParsers(f *testing.F) {
	for _, s := range []string{"1,2, 3", "0", "18446744073709551616", "PD,r,all", "USR1", "sigkill", "65", "-1",
		"now-3days", "now+999999999w", "2025-02-30", "2025-01-02T03:04:05", "12_7,13", "12_", "12_4000001", "ALL,FOO=bar", "NONE,X", "A=1,1B=2", "ALL,NONE"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if ids, err := ParseJobIDs([]string{s}); err != nil {
			checkErrorLine(t, "job ids", err)
		} else {
			for _, id := range ids {
				if id == 0 {
					t.Fatalf("ParseJobIDs(%q) gave job 0", s)
				}
			}
		}
		if refs, err := ParseJobRefs([]string{s}); err != nil {
			checkErrorLine(t, "job refs", err)
		} else {
			for _, r := range refs {
				if back, err := api.ParseJobRef(r.String()); r.ID == 0 || err != nil || back != r {
					t.Fatalf("ParseJobRefs(%q) gave %+v", s, r)
				}
			}
		}
		if states, _, err := ParseStates(s); err != nil {
			checkErrorLine(t, "states", err)
		} else {
			for _, st := range states {
				if _, err := api.ParseJobState(string(st)); err != nil {
					t.Fatalf("ParseStates(%q) gave %q", s, st)
				}
			}
		}
		if n, err := ParseSignal(s); err != nil {
			checkErrorLine(t, "signal", err)
		} else if n < 1 || n > maxSignal {
			t.Fatalf("ParseSignal(%q) = %d", s, n)
		}
		if _, err := ParseStartTime(s, now); err != nil {
			checkErrorLine(t, "start time", err)
		}
		env, err := BuildExportEnv(s, []string{"HOME=/h", "FOO=1", "=x", "BAD"})
		if err != nil {
			checkErrorLine(t, "export", err)
			return
		}
		for _, kv := range env {
			if k, _, ok := strings.Cut(kv, "="); !ok || !validEnvName(k) {
				t.Fatalf("BuildExportEnv(%q) gave %q", s, kv)
			}
		}
	})
}

// FuzzGcontrolUpdate: gcontrol update's words give a request naming
// nodes, one of the three states, a reason where one is needed, and
// travelling unchanged; or a one-line usage error.
func FuzzGcontrolUpdate(f *testing.F) {
	for _, s := range []string{"nodename=n[1-2]\x00state=drain\x00reason=disk", "node=n1\x00state=RESUME", "nodes=n1\x00state=down\x00reason= ",
		"nodename=n[1-0]\x00state=drain", "jobid=3", "state=idle\x00nodename=a,b", "reason=caf\xe9\x00node=n1\x00state=drain", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, words string) {
		req, err := ParseNodeUpdate(splitArgs(words))
		if err != nil {
			checkErrorLine(t, "update", err)
			return
		}
		switch {
		case len(req.Nodes) == 0:
			t.Fatalf("no nodes: %+v", req)
		case req.State != "DRAIN" && req.State != "DOWN" && req.State != "RESUME":
			t.Fatalf("state %q", req.State)
		case req.State != "RESUME" && strings.TrimSpace(req.Reason) == "":
			t.Fatalf("%s without a reason", req.State)
		}
		checkSent(t, req, new(api.NodeUpdateRequest))
	})
}

// FuzzAcctFormat: gacct -o specs parse to known fields that lay out in
// every mode, or to a one-line error.
func FuzzAcctFormat(f *testing.F) {
	for _, s := range []string{AcctDefaultFormat, AcctLongFormat, AcctBriefFormat, "jobid,jobname%30,node%-12", "Job", "JobName%",
		"JobName%-0", "x%5000", "totalcpu,maxrss", ",,", "JobID%99999999999999999999", "jobn%3,é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		af, err := ParseAcctFormat(spec)
		if err != nil {
			checkErrorLine(t, "format", err)
			return
		}
		if len(af) == 0 {
			t.Fatalf("ParseAcctFormat(%q) gave no fields", spec)
		}
		for _, c := range af {
			if c.Col.Width < 1 || c.Col.Width > queuefmt.MaxFieldWidth || c.Field == nil || c.Field.Value == nil {
				t.Fatalf("ParseAcctFormat(%q) gave %+v", spec, c)
			}
		}
		jobs := acctJobs()
		for _, mode := range []int{acctTable, acctParsable, acctParsable2, acctAutoWidth} {
			var b bytes.Buffer
			if err := RenderAcctFormat(&b, jobs, af, mode, true, &acctCtx{Loc: time.UTC}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			want := 3
			if mode == acctTable {
				want = 4
			}
			if len(lines) != want {
				t.Fatalf("mode %d: %d lines: %q", mode, len(lines), b.String())
			}
			for _, l := range lines {
				switch mode {
				case acctParsable2:
					if n := strings.Count(l, "|"); n != len(af)-1 {
						t.Fatalf("-P line %q has %d separators for %d fields", l, n, len(af))
					}
				case acctParsable:
					if n := strings.Count(l, "|"); n != len(af) || !strings.HasSuffix(l, "|") {
						t.Fatalf("-p line %q", l)
					}
				case acctTable:
					w := 0
					for _, c := range af {
						w += c.Col.Width + 1
					}
					if n := utf8.RuneCountInString(l); n != w {
						t.Fatalf("line %q is %d characters, want %d", l, n, w)
					}
				}
			}
		}
	})
}
