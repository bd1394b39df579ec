package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/hostlist"
	"github.com/gsched/gsched/pkg/queuefmt"
	"github.com/gsched/gsched/pkg/units"
)

// compatFlags are gsub's flags for these options and --print-spec.
func compatFlags() []ucli.Flag {
	s := stringFlag
	return []ucli.Flag{
		s("mem-per-cpu", "", "memory per allocated CPU (instead of --mem): a size as for --mem"),
		s("comment", "", "a comment kept with the job (gacct Comment)"),
		s("mail-type", "", "mail on job events: NONE, BEGIN, END, FAIL, REQUEUE, ALL, TIME_LIMIT, TIME_LIMIT_90, TIME_LIMIT_80, TIME_LIMIT_50, ARRAY_TASKS (comma list; sent when the site sets controller.mail_program)"),
		s("mail-user", "", "who gets the job's mail (default: you)"),
		s("nodelist", "w", "nodes that must all be in the allocation, in hostlist syntax (n[1-3],gpu7); the node count is raised to their number"),
		s("exclude", "x", "nodes never to use, in hostlist syntax"),
		&ucli.BoolFlag{Name: "test-only", Usage: "check the job and print where and when it would start, without submitting it"},
		&ucli.BoolFlag{Name: "print-spec", Usage: "print the job specification gsub would submit, as JSON, without contacting the controller"},
	}
}

// PrintedSpec is what gsub --print-spec writes: the spec without the
// script's text, and the array and dependency as parsed.
type PrintedSpec struct {
	Spec        api.JobSpec     `json:"spec"`
	ScriptBytes int             `json:"script_bytes"`
	Array       *PrintedArray   `json:"array,omitempty"`
	Dependency  *api.Dependency `json:"dependency,omitempty"`
	Warnings    []string        `json:"warnings,omitempty"`
	// Notes say what zero values mean.
	Notes []string `json:"notes"`
}

// PrintedArray describes a parsed --array.
type PrintedArray struct {
	Tasks    int    `json:"tasks"`
	First    int    `json:"first"`
	Last     int    `json:"last"`
	Throttle int    `json:"throttle,omitempty"`
	Indices  string `json:"indices"`
}

// printSpec writes spec as gsub --print-spec does.
func printSpec(w io.Writer, spec api.JobSpec, warnings []string) error {
	out := PrintedSpec{Spec: spec, ScriptBytes: len(spec.Script), Warnings: warnings,
		Notes: []string{
			"time_limit_s 0: the partition's default; -1: UNLIMITED",
			"mem_bytes 0: the controller's default (per CPU)",
			"nodes 0: 1, or as many nodes as the GPUs need",
		}}
	out.Spec.Script = ""
	if spec.Array != "" {
		a, err := api.ParseArray(spec.Array, 0)
		if err != nil {
			return err
		}
		out.Array = &PrintedArray{Tasks: len(a.Tasks), First: a.Tasks[0], Last: a.Tasks[len(a.Tasks)-1],
			Throttle: a.Throttle, Indices: api.FormatIndices(a.Tasks)}
	}
	if spec.Dependency != "" {
		d, err := api.ParseDependency(spec.Dependency)
		if err != nil {
			return err
		}
		out.Dependency = &d
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// memPerCPU applies --mem-per-cpu once the CPUs per node are known.
func memPerCPU(o SubmitOptions, spec *api.JobSpec) error {
	if o.MemPerCPU == "" {
		return nil
	}
	if o.Mem != "" || o.MemPerGPU != "" {
		return fmt.Errorf("use only one of --mem, --mem-per-cpu and --mem-per-gpu")
	}
	per, err := units.ParseMemory(o.MemPerCPU)
	if err != nil {
		return fmt.Errorf("--mem-per-cpu: %w", err)
	}
	cpus := int64(spec.CPUsOnNode())
	if per > 0 && cpus > (1<<50)/per {
		return fmt.Errorf("--mem-per-cpu: %s per CPU for %d CPUs is too much memory", strings.TrimSpace(o.MemPerCPU), cpus)
	}
	spec.MemBytes = per * cpus
	return nil
}

// mailOptions checks --mail-type and --mail-user and sets them in spec
// (the controller fills in the default recipient).
func mailOptions(o SubmitOptions, spec *api.JobSpec) error {
	if o.MailType != "" {
		ev, err := api.ParseMailType(o.MailType)
		if err != nil {
			return err
		}
		spec.MailType = ev.String()
	}
	if u := strings.TrimSpace(o.MailUser); u != "" {
		if !api.ValidMailUser(u) {
			return fmt.Errorf("invalid --mail-user %s: give a user name or an address", queuefmt.ShortQuote(u))
		}
		spec.MailUser = u
	}
	return nil
}

// namedNodes checks --nodelist and --exclude (hostlist syntax; the
// controller checks the names) and sets them in spec.
func namedNodes(o SubmitOptions, spec *api.JobSpec) error {
	for _, f := range []struct {
		flag, v string
		dst     *string
	}{{"nodelist", o.NodeList, &spec.NodeList}, {"exclude", o.Exclude, &spec.Exclude}} {
		v := strings.TrimSpace(f.v)
		if v == "" {
			continue
		}
		if strings.Contains(v, "/") {
			return fmt.Errorf("--%s: %s looks like a file name; give the node names (hostlist syntax)", f.flag, queuefmt.CutRunes(v, 40))
		}
		if _, err := hostlist.Expand(v); err != nil {
			return fmt.Errorf("--%s: %w", f.flag, err)
		}
		*f.dst = v
	}
	return nil
}

// testOnly asks the controller where and when the job would start
// (gsub --test-only) and prints it as sbatch does, on standard error:
// "gsub: Job 0 to start at 2026-11-21T10:00:00 using 4 processors on
// nodes n1 in partition main". Without a predicted start it says why and
// fails.
func (e *Env) testOnly(c *ucli.Context, cl Caller, spec api.JobSpec) error {
	var resp api.TestJobResponse
	if err := call(c.Context, cl, api.PathTestJob, api.SubmitRequest{Spec: spec}, &resp); err != nil {
		return fmt.Errorf("test-only: %w", err)
	}
	if resp.Start.IsZero() {
		fmt.Fprintf(e.Stderr, "gsub: Job 0 has no expected start in partition %s (reason: %s)\n", resp.Partition, resp.Reason)
		return &exitError{ExitFailure}
	}
	fmt.Fprintf(e.Stderr, "gsub: Job 0 to start at %s using %d processors on nodes %s in partition %s\n",
		resp.Start.Local().Format("2006-01-02T15:04:05"), resp.CPUs, resp.Nodes, resp.Partition)
	return nil
}
