// Command gbench loads a running gsched controller through its API and
// measures what the CLI benchmarks (conf/bench/bench.sh) cannot: batched
// submission throughput, and the controller's memory and gqueue's speed
// with many pending jobs. See docs/BENCHMARKS.md.
//
//	gbench submit  [-n 100000] [-batch 1000] [-clients 4]
//	gbench pending [-levels 10000,100000,1000000] [-batch 5000] [-clients 4]
//	gbench pipeline [-n 1000] [-batch 100]
//
// It talks to the controller over its Unix socket ($GSCHED_CONF's
// controller.socket, or -socket), as the user running it. Jobs are
// submitted held (nothing runs) with a one-line script; gbench cancels
// them when done unless -keep.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/rpc"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gbench submit|pending|pipeline [options] (gbench CMD -h for the options)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "submit":
		err = submitCmd(os.Args[2:])
	case "pending":
		err = pendingCmd(os.Args[2:])
	case "pipeline":
		err = pipelineCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use submit, pending or pipeline", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gbench:", err)
		os.Exit(1)
	}
}

// target is the controller gbench talks to.
type target struct {
	socket, conf, pidFile, bin string
}

func targetFlags(fs *flag.FlagSet) *target {
	t := &target{}
	fs.StringVar(&t.conf, "config", os.Getenv("GSCHED_CONF"), "configuration file (default $GSCHED_CONF)")
	fs.StringVar(&t.socket, "socket", "", "controller socket (default: the configuration's)")
	exe, _ := os.Executable()
	fs.StringVar(&t.bin, "bin", filepath.Dir(exe), "directory of gqueue (for the listing timings)")
	return t
}

func (t *target) resolve() error {
	if t.conf == "" {
		t.conf = "/etc/gsched/gsched.conf"
	}
	c, err := config.Load(t.conf)
	if err != nil {
		return err
	}
	if t.socket == "" {
		t.socket = c.Controller.Socket
	}
	t.pidFile = c.Controller.PIDFile
	return nil
}

// heldSpec is the job gbench submits: held, so that nothing runs and the
// figures are the controller's alone.
func heldSpec(dir string) api.JobSpec {
	s := runSpec(dir)
	s.Hold = true
	return s
}

// runSpec is a trivial job: /bin/sh running true, one CPU.
func runSpec(dir string) api.JobSpec {
	return api.JobSpec{Name: "gbench", CPUsPerTask: 1, MemBytes: 256 << 20, Script: "#!/bin/sh\ntrue\n", WorkDir: dir, Output: "/dev/null",
		Env: []string{"PATH=/usr/bin:/bin", "HOME=" + dir}}
}

// submitN submits n held jobs in batches of batch from clients
// connections at once, and returns the elapsed time and the IDs.
func submitN(ctx context.Context, socket string, n, batch, clients int) (time.Duration, []api.JobID, error) {
	dir, _ := os.Getwd()
	spec := heldSpec(dir)
	var next atomic.Int64
	var mu sync.Mutex
	var ids []api.JobID
	errs := make(chan error, clients)
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := rpc.Dial(socket)
			defer cl.Close()
			for {
				first := next.Add(int64(batch)) - int64(batch)
				if first >= int64(n) {
					return
				}
				k := min(int64(batch), int64(n)-first)
				var got []api.JobID
				if batch == 1 {
					var resp api.SubmitResponse
					if err := cl.Call(ctx, api.PathSubmit, api.SubmitRequest{Spec: spec}, &resp); err != nil {
						errs <- err
						return
					}
					got = []api.JobID{resp.JobID}
				} else {
					req := api.SubmitBatchRequest{Specs: make([]api.JobSpec, k)}
					for i := range req.Specs {
						req.Specs[i] = spec
					}
					var resp api.SubmitBatchResponse
					if err := cl.Call(ctx, api.PathSubmitBatch, req, &resp); err != nil {
						errs <- err
						return
					}
					got = resp.JobIDs
				}
				mu.Lock()
				ids = append(ids, got...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return elapsed, ids, err
	}
	return elapsed, ids, nil
}

// cancelAll cancels ids in requests of at most 50,000.
func cancelAll(ctx context.Context, socket string, ids []api.JobID) error {
	cl := rpc.Dial(socket)
	defer cl.Close()
	for len(ids) > 0 {
		k := min(len(ids), 50000)
		var resp api.CancelResponse
		if err := cl.Call(ctx, api.PathCancel, api.CancelRequest{IDs: ids[:k]}, &resp); err != nil {
			return err
		}
		ids = ids[k:]
	}
	return nil
}

func submitCmd(args []string) error {
	fs := flag.NewFlagSet("gbench submit", flag.ExitOnError)
	t := targetFlags(fs)
	n := fs.Int("n", 100000, "jobs to submit")
	batch := fs.Int("batch", 1000, "jobs per request (1: one submission per request)")
	clients := fs.Int("clients", 4, "concurrent connections")
	keep := fs.Bool("keep", false, "leave the jobs pending")
	fs.Parse(args)
	if err := t.resolve(); err != nil {
		return err
	}
	if *batch < 1 || *batch > api.MaxSubmitBatch || *clients < 1 || *n < 1 {
		return errors.New("want -n ≥ 1, 1 ≤ -batch ≤ 10000, -clients ≥ 1")
	}
	ctx := context.Background()
	elapsed, ids, err := submitN(ctx, t.socket, *n, *batch, *clients)
	if err != nil {
		return err
	}
	fmt.Printf("submitted %d held jobs in %.3f s: %.0f jobs/s (batch %d, %d clients, each acknowledged after its raft entry was fsynced and applied)\n",
		len(ids), elapsed.Seconds(), float64(len(ids))/elapsed.Seconds(), *batch, *clients)
	if !*keep {
		return cancelAll(ctx, t.socket, ids)
	}
	return nil
}

func pendingCmd(args []string) error {
	fs := flag.NewFlagSet("gbench pending", flag.ExitOnError)
	t := targetFlags(fs)
	levels := fs.String("levels", "10000,100000,1000000", "pending job counts to measure at")
	batch := fs.Int("batch", 5000, "jobs per request")
	clients := fs.Int("clients", 4, "concurrent connections")
	keep := fs.Bool("keep", false, "leave the jobs pending")
	fs.Parse(args)
	if err := t.resolve(); err != nil {
		return err
	}
	var want []int
	for _, s := range strings.Split(*levels, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 1 {
			return fmt.Errorf("-levels: %q is not a positive count", s)
		}
		want = append(want, v)
	}
	sort.Ints(want)
	ctx := context.Background()
	pid, err := readPID(t.pidFile)
	if err != nil {
		return fmt.Errorf("the controller's pid (controller.pid_file): %w", err)
	}
	rss0, err := rssBytes(pid)
	if err != nil {
		return err
	}
	fmt.Printf("gctld pid %d, RSS %.1f MiB before\n", pid, float64(rss0)/(1<<20))
	fmt.Printf("%10s %10s %10s %12s %10s %12s %12s %15s %12s\n", "pending", "submit s", "jobs/s", "RSS MiB", "B/job", "gqueue s", "gqueue -u s",
		"-u nobody s", "-t R s")
	var all []api.JobID
	for _, level := range want {
		elapsed, ids, err := submitN(ctx, t.socket, level-len(all), *batch, *clients)
		all = append(all, ids...)
		if err != nil {
			return err
		}
		time.Sleep(3 * time.Second) // let a scheduling pass and the GC settle
		rss, err := rssBytes(pid)
		if err != nil {
			return err
		}
		full, err := timeCmd(filepath.Join(t.bin, "gqueue"), t.conf)
		if err != nil {
			return err
		}
		user, err := timeCmd(filepath.Join(t.bin, "gqueue"), t.conf, "-h", "-u", os.Getenv("USER"))
		if err != nil {
			return err
		}
		// Index lookups that match none of the held jobs: another
		// user's, and the running ones.
		other, err := timeCmd(filepath.Join(t.bin, "gqueue"), t.conf, "-h", "-u", "nobody")
		if err != nil {
			return err
		}
		running, err := timeCmd(filepath.Join(t.bin, "gqueue"), t.conf, "-h", "-t", "R")
		if err != nil {
			return err
		}
		fmt.Printf("%10d %10.2f %10.0f %12.1f %10.0f %12.3f %12.3f %15.3f %12.3f\n", len(all), elapsed.Seconds(), float64(len(ids))/elapsed.Seconds(),
			float64(rss)/(1<<20), float64(rss-rss0)/float64(len(all)), full.Seconds(), user.Seconds(), other.Seconds(), running.Seconds())
	}
	if !*keep {
		return cancelAll(ctx, t.socket, all)
	}
	return nil
}

// timeCmd runs gqueue with args, output discarded, and returns the
// median of 3 wall-clock times.
func timeCmd(path, conf string, args ...string) (time.Duration, error) {
	var ds []time.Duration
	for range 3 {
		cmd := exec.Command(path, args...)
		cmd.Env = append(os.Environ(), "GSCHED_CONF="+conf)
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[1], nil
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// rssBytes reads VmRSS of pid.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// pipelineCmd submits n trivial jobs through the batch API, in requests
// of batch, and waits until none is pending or running: the launch
// throughput of the cluster (real runc containers) without the CLI's
// process start-up, and the host CPU time each job cost (all processes:
// controller, node daemons, supervisors, runc).
func pipelineCmd(args []string) error {
	fs := flag.NewFlagSet("gbench pipeline", flag.ExitOnError)
	t := targetFlags(fs)
	n := fs.Int("n", 1000, "jobs")
	batch := fs.Int("batch", 100, "jobs per request")
	fs.Parse(args)
	if err := t.resolve(); err != nil {
		return err
	}
	if *n < 1 || *batch < 1 || *batch > api.MaxSubmitBatch {
		return errors.New("want -n ≥ 1 and 1 ≤ -batch ≤ 10000")
	}
	dir, _ := os.Getwd()
	spec := runSpec(dir)
	ctx := context.Background()
	cl := rpc.Dial(t.socket)
	defer cl.Close()
	cpu0, err := hostCPUSeconds()
	if err != nil {
		return err
	}
	start := time.Now()
	var ids []api.JobID
	for len(ids) < *n {
		req := api.SubmitBatchRequest{Specs: make([]api.JobSpec, min(*batch, *n-len(ids)))}
		for i := range req.Specs {
			req.Specs[i] = spec
		}
		var resp api.SubmitBatchResponse
		if err := cl.Call(ctx, api.PathSubmitBatch, req, &resp); err != nil {
			return err
		}
		ids = append(ids, resp.JobIDs...)
	}
	submitted := time.Since(start)
	live := api.JobFilter{IDs: ids, States: []api.JobState{api.StatePending, api.StateRunning, api.StateCompleting}}
	for {
		var jl api.JobList
		if err := cl.Call(ctx, api.PathListJobs, live, &jl); err != nil {
			return err
		}
		if len(jl.Jobs) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu1, err := hostCPUSeconds()
	if err != nil {
		return err
	}
	var jl api.JobList
	if err := cl.Call(ctx, api.PathListJobs, api.JobFilter{IDs: ids}, &jl); err != nil {
		return err
	}
	states := map[api.JobState]int{}
	for _, j := range jl.Jobs {
		states[j.State]++
	}
	fmt.Printf("%d jobs: submitted in %.3f s, all ended after %.3f s: %.1f jobs/s; host CPU %.1f ms per job; states %v\n",
		len(ids), submitted.Seconds(), elapsed.Seconds(), float64(len(ids))/elapsed.Seconds(), (cpu1-cpu0)*1000/float64(len(ids)), states)
	return nil
}

// hostCPUSeconds is the CPU time the host has spent outside idle and
// iowait, from /proc/stat.
func hostCPUSeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, errors.New("/proc/stat: no cpu line")
	}
	var busy int64
	for i, v := range f[1:8] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		busy += x
	}
	return float64(busy) / 100, nil // USER_HZ
}
