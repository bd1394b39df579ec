package cli

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/hostlist"
	"github.com/gsched/gsched/pkg/units"
)

// RunGcontrol runs gcontrol with the process environment.
func RunGcontrol(args []string) int { return DefaultEnv().Gcontrol(args) }

// Gcontrol runs gcontrol, gsched's scontrol: it shows jobs, nodes and
// partitions in detail, expands hostlists, and lets operators drain,
// resume or take down nodes.
func (e *Env) Gcontrol(args []string) int {
	flags := []ucli.Flag{
		&ucli.BoolFlag{Name: "oneliner", Aliases: []string{"o"}, Usage: "show: one line per record"},
		jsonFlag(),
		configFlag(),
		helpFlag(false),
	}
	app := e.newApp("gcontrol", "show and change cluster state (scontrol)",
		"show job|node|partition [NAME] | show hostnames [HOSTLIST] | update nodename=HOSTLIST state=drain|resume|down [reason=TEXT] | update job=JOBLIST KEY=VALUE... | hold|release|requeue JOBLIST | token [username=NAME] [lifespan=SECONDS] [host=HOST] | setdebug LEVEL [all|controller|nodes]",
		flags, e.gcontrolAction)
	if len(args) > 1 {
		args = append(args[:1:1], expandShortOptions(args[1:], flags, true)...)
	}
	return e.run(app, args)
}

func (e *Env) gcontrolAction(c *ucli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usagef("no command given: show, update, hold, release, requeue or token")
	}
	switch strings.ToLower(args[0]) {
	case "show":
		if len(args) < 2 {
			return usagef("show what? job, node, partition or hostnames")
		}
		return e.gcontrolShow(c, strings.ToLower(args[1]), args[2:])
	case "update":
		if isJobUpdate(args[1:]) {
			return e.gcontrolUpdateJob(c, args[1:])
		}
		return e.gcontrolUpdate(c, args[1:])
	case api.ActionHold, api.ActionRelease, api.ActionRequeue:
		return e.gcontrolJobs(c, strings.ToLower(args[0]), args[1:])
	case "token":
		return e.gcontrolToken(c, args[1:])
	case "setdebug":
		return e.gcontrolSetdebug(c, args[1:])
	}
	return usagef("unknown command %q: use show, update, hold, release, requeue or token", args[0])
}

func (e *Env) gcontrolShow(c *ucli.Context, what string, rest []string) error {
	if len(rest) > 1 && what != "hostnames" && what != "hostname" {
		return usagef("show %s takes at most one name", what)
	}
	name := ""
	if len(rest) == 1 {
		name = rest[0]
	}
	switch what {
	case "hostnames", "hostname":
		return e.expandHostlists(rest)
	case "hostlist":
		if len(rest) != 1 {
			return usagef("show hostlist takes one comma-separated list of names")
		}
		return e.ghostnamesCompress(strings.Split(rest[0], ","))
	case "job", "jobs", "jobid":
		return e.gcontrolShowJobs(c, name)
	case "node", "nodes", "nodename":
		return e.gcontrolShowNodes(c, name, false)
	case "partition", "partitions", "partitionname":
		return e.gcontrolShowNodes(c, name, true)
	}
	return usagef("cannot show %q: use job, node, partition or hostnames", what)
}

func (e *Env) gcontrolShowJobs(c *ucli.Context, name string) error {
	filter := api.JobFilter{IncludeFinished: true}
	if name != "" {
		id, err := strconv.ParseUint(name, 10, 64)
		if err != nil || id == 0 {
			return usagef("invalid job id %q", name)
		}
		filter.IDs = []api.JobID{api.JobID(id)}
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var list api.JobList
	if err := call(c.Context, cl, api.PathListJobs, filter, &list); err != nil {
		return fmt.Errorf("list jobs: %w", err)
	}
	if name != "" && len(list.Jobs) == 0 {
		return fmt.Errorf("job %s: invalid job id specified", name)
	}
	sort.Slice(list.Jobs, func(a, b int) bool { return list.Jobs[a].ID < list.Jobs[b].ID })
	if c.Bool("json") {
		return writeJSON(e.Stdout, list)
	}
	w := bufio.NewWriter(e.Stdout)
	for i := range list.Jobs {
		writeRecord(w, JobRecord(&list.Jobs[i], e.Now()), c.Bool("oneliner"))
	}
	return w.Flush()
}

func (e *Env) gcontrolShowNodes(c *ucli.Context, name string, partitions bool) error {
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var list api.NodeList
	if err := call(c.Context, cl, api.PathListNodes, struct{}{}, &list); err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	w := bufio.NewWriter(e.Stdout)
	found := false
	if partitions {
		for i := range list.Partitions {
			p := &list.Partitions[i]
			if name == "" || p.Name == name {
				found = true
				writeRecord(w, PartitionRecord(list, p), c.Bool("oneliner"))
			}
		}
	} else {
		for i := range list.Nodes {
			n := &list.Nodes[i]
			if name == "" || n.Name == name {
				found = true
				writeRecord(w, NodeRecord(n), c.Bool("oneliner"))
			}
		}
	}
	if name != "" && !found {
		what := "node"
		if partitions {
			what = "partition"
		}
		return fmt.Errorf("%s %q not found", what, name)
	}
	return w.Flush()
}

// kv is one Key=Value of a scontrol-style record; a nil-key entry breaks
// the line in the multi-line form.
type kv struct{ k, v string }

var lineBreak = kv{}

// writeRecord writes a record as scontrol does: Key=Value words, a few to
// an indented line, a blank line after; or all on one line.
func writeRecord(w io.Writer, rec []kv, oneLine bool) {
	first := true
	for _, f := range rec {
		if f == lineBreak {
			if !oneLine {
				io.WriteString(w, "\n  ")
				first = true
			}
			continue
		}
		if !first {
			io.WriteString(w, " ")
		}
		first = false
		fmt.Fprintf(w, "%s=%s", f.k, f.v)
	}
	io.WriteString(w, "\n")
	if !oneLine {
		io.WriteString(w, "\n")
	}
}

func orNone(s string) string {
	if s == "" {
		return "(null)"
	}
	return s
}

func timeOrUnknown(t time.Time) string {
	if t.IsZero() {
		return "Unknown"
	}
	return t.Local().Format("2006-01-02T15:04:05")
}

// JobRecord is `scontrol show job`'s view of a job.
func JobRecord(j *api.Job, now time.Time) []kv {
	s := j.Spec
	run := int64(0)
	if !j.StartTime.IsZero() {
		end := j.EndTime
		if end.IsZero() {
			end = now
		}
		run = int64(end.Sub(j.StartTime).Seconds())
	}
	limit := "UNLIMITED"
	if s.TimeLimit > 0 {
		limit = units.FormatTimeLimit(s.TimeLimit)
	}
	gpus := []string{}
	for _, a := range j.Allocs {
		if len(a.GPUs) > 0 {
			ids := make([]string, len(a.GPUs))
			for i, g := range a.GPUs {
				ids[i] = strconv.Itoa(g)
			}
			gpus = append(gpus, a.Node+":"+strings.Join(ids, ","))
		}
	}
	rec := []kv{
		{"JobId", j.ID.String()}, {"JobName", s.Name}, lineBreak,
		{"UserId", fmt.Sprintf("%s(%d)", j.User, j.UID)}, {"GroupId", strconv.FormatUint(uint64(j.GID), 10)},
		{"Account", orNone(s.Account)}, {"QOS", orNone(s.QOS)}, lineBreak,
		{"Priority", strconv.FormatInt(j.Priority, 10)}, {"Nice", strconv.Itoa(s.Nice)}, lineBreak,
		{"JobState", string(j.State)}, {"Reason", orNone(j.Reason)}, {"ExitCode", ExitCodeString(j)}, lineBreak,
		{"Requeue", strconv.FormatBool(!s.NoRequeue)}, {"Restarts", strconv.Itoa(j.Restarts)}, lineBreak,
		{"RunTime", units.FormatDuration(run)}, {"TimeLimit", limit}, lineBreak,
		{"SubmitTime", timeOrUnknown(j.SubmitTime)}, {"StartTime", timeOrUnknown(j.StartTime)}, {"EndTime", timeOrUnknown(j.EndTime)}, lineBreak,
		{"Partition", orNone(s.Partition)}, {"NodeList", orNone(j.NodeList())}, lineBreak,
		{"NumNodes", strconv.Itoa(max(len(j.Allocs), s.NodeCount()))}, {"NumTasks", strconv.Itoa(s.NTasks)},
		{"CPUs/Task", strconv.Itoa(s.CPUsPerTask)}, lineBreak,
		{"MinMemoryNode", units.FormatMemory(s.MemBytes)}, {"Gpus", strconv.Itoa(s.TotalGPUs())},
		{"GpuIDs", orNone(strings.Join(gpus, ";"))}, lineBreak,
		{"WorkDir", s.WorkDir}, lineBreak,
		{"StdOut", s.Output}, lineBreak,
	}
	if s.NodeList != "" || s.Exclude != "" {
		rec = append(rec, kv{"ReqNodeList", orNone(s.NodeList)}, kv{"ExcNodeList", orNone(s.Exclude)}, lineBreak)
	}
	if s.Constraint != "" || s.Exclusive {
		rec = append(rec, kv{"Features", orNone(s.Constraint)}, kv{"Exclusive", strconv.FormatBool(s.Exclusive)}, lineBreak)
	}
	return rec[:len(rec)-1]
}

// NodeRecord is `scontrol show node`'s view of a node.
func NodeRecord(n *api.NodeInfo) []kv {
	gpus := make([]string, 0, len(n.GPUs))
	models := map[string]int{}
	for _, g := range n.GPUs {
		gpus = append(gpus, strconv.Itoa(g.Index))
		models[g.Model]++
	}
	used := make([]string, len(n.Alloc.GPUs))
	for i, g := range n.Alloc.GPUs {
		used[i] = strconv.Itoa(g)
	}
	var gres []string
	for m, k := range models {
		gres = append(gres, fmt.Sprintf("gpu:%s:%d", strings.ReplaceAll(m, " ", "_"), k))
	}
	sort.Strings(gres)
	rec := []kv{
		{"NodeName", n.Name}, {"Addr", orNone(n.Addr)}, lineBreak,
		{"State", n.DisplayState}, {"Reason", orNone(n.Reason)}, lineBreak,
		{"CPUTot", strconv.Itoa(n.CPUs)}, {"CPUAlloc", strconv.Itoa(n.Alloc.CPUs)}, lineBreak,
		{"RealMemory", units.FormatMemory(n.MemBytes)}, {"AllocMem", units.FormatMemory(n.Alloc.MemBytes)}, lineBreak,
		{"Gres", orNone(strings.Join(gres, ","))}, {"GpuIDs", orNone(strings.Join(gpus, ","))},
		{"GpuIDsAlloc", orNone(strings.Join(used, ","))}, lineBreak,
		{"Partitions", orNone(strings.Join(n.Partitions, ","))}, {"Features", orNone(strings.Join(n.Features, ","))}, lineBreak,
		{"Jobs", strconv.Itoa(n.Alloc.Jobs)}, {"LastHeartbeat", timeOrUnknown(n.LastHeartbeat)},
	}
	if n.DriverVersion != "" {
		rec = append(rec, lineBreak, kv{"DriverVersion", n.DriverVersion}, kv{"CUDAVersion", orNone(n.CUDAVersion)})
	}
	if n.Health != nil {
		rec = append(rec, lineBreak, kv{"Health", healthField(n.Health)})
	}
	rec = append(rec, gpuUsageFields(n)...)
	rec = append(rec, reservedFields(n.Reserved)...)
	return rec
}

// PartitionRecord is `scontrol show partition`'s view of a partition.
func PartitionRecord(list api.NodeList, p *api.Partition) []kv {
	var names []string
	cpus := 0
	for i := range list.Nodes {
		n := &list.Nodes[i]
		for _, pn := range nodePartitions(list, n) {
			if pn == p.Name {
				names = append(names, n.Name)
				cpus += n.CPUs
			}
		}
	}
	state := p.State
	if state == "" {
		state = "UP"
	}
	return []kv{
		{"PartitionName", p.Name}, lineBreak,
		{"Default", yesNo(p.Default)}, {"State", state}, lineBreak,
		{"Nodes", orNone(hostlist.Compress(names))}, {"TotalNodes", strconv.Itoa(len(names))}, {"TotalCPUs", strconv.Itoa(cpus)},
	}
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// gcontrolUpdate changes nodes: update nodename=n[1-2] state=drain reason="disk".
func (e *Env) gcontrolUpdate(c *ucli.Context, args []string) error {
	req, err := ParseNodeUpdate(args)
	if err != nil {
		return err
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var resp api.NodeUpdateResponse
	if err := call(c.Context, cl, api.PathUpdateNodes, req, &resp); err != nil {
		return fmt.Errorf("update nodes: %w", err)
	}
	return nil
}

// maxUpdateNodes is the most nodes one update may name (the controller's
// limit).
const maxUpdateNodes = 100_000

// keyValue is one KEY=VALUE word of a gcontrol command, KEY lower-cased.
type keyValue struct{ k, v string }

// keyValues splits cmd's KEY=VALUE words (scontrol's syntax), refusing
// words without "=", invalid UTF-8 and a key given twice.
func keyValues(cmd string, args []string) ([]keyValue, error) {
	out := make([]keyValue, 0, len(args))
	seen := map[string]bool{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, usagef("%s: %q is not KEY=VALUE", cmd, a)
		}
		if !utf8.ValidString(a) {
			return nil, usagef("%s: %q is not valid UTF-8", cmd, a)
		}
		k = strings.ToLower(k)
		if seen[k] {
			return nil, usagef("%s: %s given twice", cmd, k)
		}
		seen[k] = true
		out = append(out, keyValue{k, v})
	}
	return out, nil
}

// ParseNodeUpdate reads gcontrol update's KEY=VALUE words into a request.
func ParseNodeUpdate(args []string) (api.NodeUpdateRequest, error) {
	var req api.NodeUpdateRequest
	kvs, err := keyValues("update", args)
	if err != nil {
		return req, err
	}
	for _, kv := range kvs {
		k, v := kv.k, kv.v
		switch k {
		case "nodename", "node", "nodes":
			names, err := hostlist.Expand(v)
			if err != nil {
				return req, usagef("update: nodename: %v", err)
			}
			if len(names) > maxUpdateNodes {
				return req, usagef("update: nodename names %d nodes, at most %d at a time", len(names), maxUpdateNodes)
			}
			req.Nodes = names
		case "state":
			req.State = v
		case "reason":
			req.Reason = v
		default:
			return req, usagef("update: unknown key %q (use nodename, state and reason)", k)
		}
	}
	if len(req.Nodes) == 0 || req.State == "" {
		return req, usagef("update: give nodename=HOSTLIST and state=drain|resume|down")
	}
	state, err := api.NodeUpdateState(req.State, req.Reason)
	if err != nil {
		return req, usagef("update: %v", err)
	}
	req.State = state
	return req, nil
}

// gcontrolToken asks for a token for remote use of the commands, printed
// as GSCHED_TOKEN=... (as `scontrol token` prints SLURM_JWT=...).
func (e *Env) gcontrolToken(c *ucli.Context, args []string) error {
	req, err := parseTokenArgs(args)
	if err != nil {
		return err
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var resp api.TokenResponse
	if err := call(c.Context, cl, api.PathToken, req, &resp); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if c.Bool("json") {
		return writeJSON(e.Stdout, resp)
	}
	_, err = fmt.Fprintf(e.Stdout, "%s=%s\n", EnvToken, resp.Token)
	return err
}

// parseTokenArgs reads token's KEY=VALUE arguments: username=, lifespan=
// (seconds, or a duration such as 12h), host=.
func parseTokenArgs(args []string) (api.TokenRequest, error) {
	var req api.TokenRequest
	kvs, err := keyValues("token", args)
	if err != nil {
		return req, err
	}
	for _, kv := range kvs {
		k, v := kv.k, kv.v
		switch k {
		case "username", "user":
			if v == "" {
				return req, usagef("token: empty username")
			}
			req.User = v
		case "lifespan":
			secs, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				d, derr := time.ParseDuration(v)
				if derr != nil {
					return req, usagef("token: lifespan %q: want seconds or a duration such as 12h", v)
				}
				secs = int64(d / time.Second)
			}
			if secs <= 0 {
				return req, usagef("token: lifespan must be positive")
			}
			req.Lifespan = secs
		case "host":
			req.Host = v
		default:
			return req, usagef("token: unknown key %q (use username, lifespan and host)", k)
		}
	}
	return req, nil
}
