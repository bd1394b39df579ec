package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Deleting a stopped container is what `runc delete` does for it: remove
// its cgroups and its state directory (and run its poststop hooks, which
// gsched's containers have none of unless a CDI spec adds some). That
// process costs ~7 ms of CPU per task here, a tenth of a trivial job's
// (docs/BENCHMARKS.md), so the supervisor does it itself when the state
// runc left is as expected, and runs `runc delete` otherwise.

// runcState is the part of runc's state.json (libcontainer's State) that
// deleteStopped reads.
type runcState struct {
	InitProcessPid int               `json:"init_process_pid"`
	CgroupPaths    map[string]string `json:"cgroup_paths"`
	Config         struct {
		Hooks map[string][]json.RawMessage `json:"hooks"`
	} `json:"config"`
}

// errNotPlain says a container needs runc to delete it.
var errNotPlain = errors.New("not a plain stopped container")

// deleteStopped removes the stopped container id under runc root dir root,
// whose init (pid) the caller has reaped: no process of its pid namespace
// is left. It removes the cgroups runc recorded (deepest first, waiting a
// little for the kernel to let go of a cgroup whose last task just
// exited) and then the state directory. It refuses with errNotPlain, and
// touches nothing, when the state names another init or has hooks.
func deleteStopped(root, id string, pid int) error {
	dir := filepath.Join(root, id)
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return err
	}
	var st runcState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("runc state: %w", err)
	}
	if st.InitProcessPid != pid || pid <= 0 {
		return fmt.Errorf("%w: its init is %d, not %d", errNotPlain, st.InitProcessPid, pid)
	}
	for kind, hooks := range st.Config.Hooks {
		if len(hooks) > 0 {
			return fmt.Errorf("%w: %s hooks", errNotPlain, kind)
		}
	}
	paths := make([]string, 0, len(st.CgroupPaths))
	for _, p := range st.CgroupPaths {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("%w: cgroup path %q", errNotPlain, p)
		}
		paths = append(paths, filepath.Clean(p))
	}
	slices.Sort(paths)
	for _, p := range slices.Compact(paths) {
		if err := removeCgroup(p); err != nil {
			return err
		}
	}
	return os.RemoveAll(dir)
}

// removeCgroup removes the cgroup directory p and any cgroup below it,
// deepest first. A cgroup whose tasks have exited may still be busy for a
// moment: rmdir is retried for up to a second.
func removeCgroup(p string) error {
	ents, err := os.ReadDir(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeCgroup(filepath.Join(p, e.Name())); err != nil {
				return err
			}
		}
	}
	delay := time.Millisecond
	for deadline := time.Now().Add(time.Second); ; delay *= 2 {
		err := unix.Rmdir(p)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
			return nil
		case !errors.Is(err, unix.EBUSY) || time.Now().After(deadline):
			return &os.PathError{Op: "rmdir", Path: p, Err: err}
		}
		time.Sleep(min(delay, 100*time.Millisecond))
	}
}
