// Command gendoc writes what is generated from the commands' urfave/cli
// definitions (cli.Commands): the OPTIONS sections of man/man1/*.1
// between their marker lines (pkg/clidoc), and the bash and zsh completion
// scripts in conf/completion/. `make man` runs it; with -check it only
// reports files that are out of date (its test runs that).
//
// gctld, gnoded and gsim are package main, so their pages (man8, and
// gsim's man1) are kept by a test in each of those packages instead, which
// `make man` runs with -update.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/client/cli"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/clidoc"
)

// Paths of the completion scripts, relative to the repository root.
const (
	BashPath = "conf/completion/gsched.bash"
	ZshPath  = "conf/completion/_gsched"
)

func main() {
	root := flag.String("root", ".", "the repository's root directory")
	check := flag.Bool("check", false, "only report out-of-date files (exit 1)")
	flag.Parse()
	changed, err := Generate(*root, !*check)
	for _, p := range changed {
		if *check {
			fmt.Fprintf(os.Stderr, "gendoc: %s is out of date: %s\n", p, clidoc.UpdateHint)
		} else {
			fmt.Printf("gendoc: wrote %s\n", p)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gendoc: %v\n", err)
		os.Exit(1)
	}
	if *check && len(changed) > 0 {
		os.Exit(1)
	}
}

// Generate brings every generated file under root up to date (write set)
// or compares it, and returns the files that differed.
func Generate(root string, write bool) (changed []string, err error) {
	apps := cli.Commands()
	var errs []error
	note := func(path string, diff bool, err error) {
		if diff {
			changed = append(changed, path)
		}
		if err != nil && !(diff && !write) {
			errs = append(errs, err)
		}
	}
	for _, app := range apps {
		path := filepath.Join(root, "man", "man1", app.Name+".1")
		diff, err := clidoc.SyncPage(path, app, write)
		note(path, diff, err)
	}
	comps := Completions(apps)
	if write {
		if err := os.MkdirAll(filepath.Join(root, "conf", "completion"), 0o755); err != nil {
			return changed, err
		}
	}
	for path, text := range map[string]string{BashPath: clidoc.Bash(comps), ZshPath: clidoc.Zsh(comps)} {
		path = filepath.Join(root, path)
		diff, err := clidoc.SyncFile(path, []byte(text), write)
		note(path, diff, err)
	}
	return changed, errors.Join(errs...)
}

// Completions adds to each command what its flags do not say: the values
// some options take, positional arguments, option order.
func Completions(apps []*ucli.App) []clidoc.Completion {
	var states []string
	for _, s := range api.AllJobStates {
		states = append(states, string(s))
	}
	signals := []string{"HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "CONT", "STOP", "TSTP"}
	files := []string{clidoc.Files}
	// Job IDs complete from `gqueue -h -o %i`, once gqueue has -o.
	jobs := []string{clidoc.JobIDs}
	if !hasFlag(apps, "gqueue", "o") {
		jobs = nil
	}
	extra := map[string]clidoc.Completion{
		"gsub": {Values: map[string][]string{
			"open-mode": {"append", "truncate"}, "export": {"ALL", "NONE"},
			"output": files, "error": files, "chdir": files,
		}},
		"grun": {Values: map[string][]string{
			"jobid": jobs, "chdir": files, "kill-on-bad-exit": {"0", "1"},
			"cpu-bind": {"none"}, "mpi": {"none"},
		}, Args: [][]string{{clidoc.Commands}}},
		"gattach":    {Args: [][]string{jobs, {clidoc.Commands}}},
		"gqueue":     {Values: map[string][]string{"states": append(append([]string(nil), states...), "all"), "jobs": jobs}},
		"gcancel":    {Values: map[string][]string{"state": states, "signal": signals}, Args: repeat(jobs, 8), Permute: true},
		"gacct":      {Values: map[string][]string{"state": states}},
		"gcontrol":   {Args: [][]string{{"show", "update", "token"}, {"job", "node", "partition", "hostnames"}}, Permute: true},
		"ghostnames": {Permute: true},
	}
	var out []clidoc.Completion
	for _, app := range apps {
		c := extra[app.Name]
		c.App = app
		out = append(out, c)
	}
	return out
}

// repeat lists words as the completion of the first n arguments (none
// when words is nil).
func repeat(words []string, n int) [][]string {
	if words == nil {
		return nil
	}
	out := make([][]string, n)
	for i := range out {
		out[i] = words
	}
	return out
}

func hasFlag(apps []*ucli.App, app, name string) bool {
	for _, a := range apps {
		if a.Name != app {
			continue
		}
		for _, f := range a.Flags {
			for _, n := range f.Names() {
				if n == name {
					return true
				}
			}
		}
	}
	return false
}
