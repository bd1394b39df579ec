package testcluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// A 2-node gang job with 2 tasks per node and a GPU per task: the batch
// script runs on the first node only; grun starts all 4 ranks at once in
// the job's containers on both nodes, each with its own rank, GPU and the
// shared rendezvous; their output comes back to the batch script's output
// through grun, labelled.
func TestGangJobRanksAndEnv(t *testing.T) {
	c := Start(t, Options{Nodes: 2, CPUsPerNode: 2, GPUsPerNode: 2, Binaries: true})
	dir := c.WorkDir(nobody, nobody)
	script := `#!/bin/sh
#GSUB -N 2 --ntasks-per-node=2 --gpus-per-task=1 -t 5
echo "batch on node $GSCHED_NODEID of $GSCHED_NNODES: $GSCHED_JOB_NODELIST master $MASTER_ADDR:$MASTER_PORT"
grun -l sh -c 'echo "rank=$RANK local=$LOCAL_RANK world=$WORLD_SIZE lws=$LOCAL_WORLD_SIZE node=$NODE_RANK procid=$GSCHED_PROCID master=$MASTER_ADDR:$MASTER_PORT cvd=$CUDA_VISIBLE_DEVICES gpus=$GSCHED_STEP_GPUS devs=$(ls /dev | grep -c "^nvidia[0-9]") uid=$(id -u)" > env.$RANK; echo hello from $RANK'
echo "grun exit $?"
cat $GSCHED_HOSTFILE
`
	if err := os.WriteFile(filepath.Join(dir, "job.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.CLI(nobody, nobody, dir, "gsub", "--wait", "--parsable", "job.sh")
	out, _ := os.ReadFile(filepath.Join(dir, "gsched-"+strings.TrimSpace(r.Stdout)+".out"))
	if r.Code != 0 {
		t.Fatalf("gsub --wait: %d %s%s\noutput:\n%s", r.Code, r.Stdout, r.Stderr, out)
	}
	id, _ := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	j := c.Job(api.JobID(id))
	if j.State != api.StateCompleted || len(j.Allocs) != 2 || j.NodeList() != "n[1-2]" {
		t.Fatalf("job = %s %s on %v", j.State, j.Reason, j.Allocs)
	}
	o := string(out)
	for _, want := range []string{"batch on node 0 of 2: n[1-2] master 127.0.0.1:", "grun exit 0",
		"0: hello from 0", "1: hello from 1", "2: hello from 2", "3: hello from 3", "127.0.0.1 slots=2"} {
		if !strings.Contains(o, want) {
			t.Errorf("job output lacks %q:\n%s", want, o)
		}
	}
	master := "127.0.0.1:" + strconv.Itoa(j.MasterPort)
	for rank := 0; rank < 4; rank++ {
		b, err := os.ReadFile(filepath.Join(dir, "env."+strconv.Itoa(rank)))
		if err != nil {
			t.Fatalf("rank %d wrote nothing: %v\noutput:\n%s", rank, err, o)
		}
		local, node := rank%2, rank/2
		want := "rank=" + strconv.Itoa(rank) + " local=" + strconv.Itoa(local) + " world=4 lws=2 node=" + strconv.Itoa(node) +
			" procid=" + strconv.Itoa(rank) + " master=" + master + " cvd=" + strconv.Itoa(local) +
			" gpus=" + strconv.Itoa(j.Allocs[node].GPUs[local]) + " devs=2 uid=65534\n"
		if string(b) != want {
			t.Errorf("rank %d env:\n got %q\nwant %q", rank, b, want)
		}
	}
}

// A failing rank makes grun fail and stops the other ranks (kill on bad
// exit); --kill-on-bad-exit=0 lets them finish.
func TestGangStepKillOnBadExit(t *testing.T) {
	c := Start(t, Options{Nodes: 2, CPUsPerNode: 2, Binaries: true})
	dir := c.WorkDir(nobody, nobody)
	script := `#!/bin/sh
#GSUB -N 2 -t 5
start=$(date +%s)
grun sh -c 'if [ $RANK = 1 ]; then exit 7; fi; sleep 60'
echo "kill exit $? after $(( $(date +%s) - start ))s"
grun --kill-on-bad-exit=0 sh -c 'if [ $RANK = 1 ]; then exit 3; fi; sleep 1; echo survivor $RANK'
echo "keep exit $?"
`
	if err := os.WriteFile(filepath.Join(dir, "job.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.CLI(nobody, nobody, dir, "gsub", "--wait", "--parsable", "job.sh")
	out, _ := os.ReadFile(filepath.Join(dir, "gsched-"+strings.TrimSpace(r.Stdout)+".out"))
	if r.Code != 0 {
		t.Fatalf("gsub --wait: %d %s%s\noutput:\n%s", r.Code, r.Stdout, r.Stderr, out)
	}
	o := string(out)
	if !strings.Contains(o, "kill exit 7 after") || !strings.Contains(o, "keep exit 3") || !strings.Contains(o, "survivor 0") {
		t.Fatalf("output:\n%s", o)
	}
	var secs int
	for _, l := range strings.Split(o, "\n") {
		if rest, ok := strings.CutPrefix(l, "kill exit 7 after "); ok {
			secs, _ = strconv.Atoi(strings.TrimSuffix(rest, "s"))
		}
	}
	if secs > 30 {
		t.Errorf("rank 0 was not stopped when rank 1 failed: grun took %ds", secs)
	}
}

// A gang that does not fit waits holding nothing: while one node is busy,
// a 2-node job stays PENDING and the other node stays idle; once the busy
// job ends, the gang starts on both nodes at once.
func TestGangWaitsWithoutHolding(t *testing.T) {
	c := Start(t, Options{Nodes: 2, CPUsPerNode: 2, Binaries: true})
	dir := c.WorkDir(0, 0)
	busy := c.Submit(api.JobSpec{WorkDir: dir, Nodes: 1, NTasks: 1, CPUsPerTask: 2, Script: "#!/bin/sh\nsleep 600\n"})
	c.WaitFor(busy, 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	gang := c.Submit(api.JobSpec{WorkDir: dir, Nodes: 2, NTasks: 2, CPUsPerTask: 2, Script: "#!/bin/sh\necho $GSCHED_JOB_NODELIST\n"})
	time.Sleep(time.Second) // a few scheduling passes
	g := c.Job(gang)
	if g.State != api.StatePending || len(g.Allocs) != 0 || g.Reason != api.ReasonResources {
		t.Fatalf("gang = %s %s %v, want PENDING (Resources) with nothing allocated", g.State, g.Reason, g.Allocs)
	}
	for _, n := range c.Nodes().Nodes {
		if n.Name != c.Job(busy).Allocs[0].Node && (n.Alloc.CPUs != 0 || n.Alloc.Jobs != 0) {
			t.Fatalf("idle node %s holds %+v while the gang waits", n.Name, n.Alloc)
		}
	}
	if r := c.CLI(0, 0, dir, "gcancel", strconv.FormatUint(uint64(busy), 10)); r.Code != 0 {
		t.Fatalf("gcancel: %+v", r)
	}
	g = c.WaitJob(gang, 30*time.Second)
	if g.State != api.StateCompleted || len(g.Allocs) != 2 {
		t.Fatalf("gang = %s %s %v", g.State, g.Reason, g.Allocs)
	}
	nodes := g.NodeNames()
	sort.Strings(nodes)
	if strings.Join(nodes, ",") != "n1,n2" {
		t.Fatalf("gang ran on %v", nodes)
	}
}

// grun outside a job allocates, runs the step, and releases the
// allocation, exiting with the step's status.
func TestGrunAllocates(t *testing.T) {
	c := Start(t, Options{Nodes: 2, CPUsPerNode: 2, Binaries: true})
	dir := c.WorkDir(nobody, nobody)
	r := c.CLI(nobody, nobody, dir, "grun", "-N", "2", "-t", "5", "sh", "-c", "echo task $RANK of $WORLD_SIZE on node $NODE_RANK")
	if r.Code != 0 {
		t.Fatalf("grun: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	sort.Strings(lines)
	if strings.Join(lines, "|") != "task 0 of 2 on node 0|task 1 of 2 on node 1" {
		t.Fatalf("grun stdout = %q", r.Stdout)
	}
	r = c.CLI(nobody, nobody, dir, "grun", "-N", "2", "-t", "5", "sh", "-c", "exit $((RANK + 4))")
	if r.Code != 4 && r.Code != 5 {
		t.Fatalf("grun of failing tasks exited %d, want 4 or 5\n%s", r.Code, r.Stderr)
	}
	// The allocations are released: COMPLETED after the good step,
	// FAILED after the failing one.
	if j := c.WaitJob(1, 20*time.Second); j.State != api.StateCompleted || len(j.Allocs) != 2 {
		t.Errorf("allocation 1 = %s %s on %v", j.State, j.Reason, j.Allocs)
	}
	if j := c.WaitJob(2, 20*time.Second); j.State != api.StateFailed {
		t.Errorf("allocation 2 = %s %s", j.State, j.Reason)
	}
}

// PyTorch's torch.distributed (gloo backend, CPU) across two node daemons:
// four ranks started by grun rendezvous through MASTER_ADDR/MASTER_PORT
// and all-reduce; the script is plain "python train.py", unchanged.
func TestGangTorchGloo(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch.distributed").Run(); err != nil {
		t.Skip("Debian's python3-torch is not installed (apt-get install python3-torch)")
	}
	c := Start(t, Options{Nodes: 2, CPUsPerNode: 2, MemPerNode: "6G", Binaries: true})
	dir := c.WorkDir(nobody, nobody)
	train := `import os, torch, torch.distributed as dist
dist.init_process_group("gloo")
t = torch.tensor([float(dist.get_rank() + 1)])
dist.all_reduce(t)
print(f"rank {dist.get_rank()} of {dist.get_world_size()} local {os.environ['LOCAL_RANK']} sum {t.item():.0f}", flush=True)
dist.destroy_process_group()
`
	script := `#!/bin/sh
#GSUB -N 2 --ntasks-per-node=2 -c 1 --mem=2G -t 10
export OMP_NUM_THREADS=1 GLOO_SOCKET_IFNAME=lo
grun /usr/bin/python3 train.py
`
	r, out := runScript(t, c, dir, map[string]string{"train.py": train, "job.sh": script})
	if r.Code != 0 {
		t.Fatalf("gsub --wait: %d %s%s\noutput:\n%s", r.Code, r.Stdout, r.Stderr, out)
	}
	for rank := 0; rank < 4; rank++ {
		want := "rank " + strconv.Itoa(rank) + " of 4 local " + strconv.Itoa(rank%2) + " sum 10"
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Open MPI's mpirun inside a 2-node job: it sees Slurm's variables, reads
// the nodes and slots from them, and starts its daemon on each node through
// srun (the compatibility wrapper, so grun); mpi4py ranks on both nodes then
// allreduce and exchange messages over TCP.
func TestGangOpenMPI(t *testing.T) {
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("Open MPI is not installed (apt-get install openmpi-bin)")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import mpi4py").Run(); err != nil {
		t.Skip("Debian's python3-mpi4py is not installed (apt-get install python3-mpi4py)")
	}
	root := JobRoot(t) // the srun wrapper must be visible inside the job
	c := Start(t, Options{Nodes: 2, CPUsPerNode: 2, MemPerNode: "6G", Binaries: true})
	dir := c.WorkDir(nobody, nobody)
	prog, err := os.ReadFile("testdata/mpi_job.py")
	if err != nil {
		t.Fatal(err)
	}
	// Every node here is this one machine on loopback, which Open MPI's
	// TCP transports skip unless told.
	script := `#!/bin/sh
#SBATCH -N 2 --ntasks-per-node=2 -c 1 --mem=2G -t 10
export PATH=` + filepath.Join(root, "conf", "slurm-compat") + `:$PATH
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo OMP_NUM_THREADS=1
mpirun /usr/bin/python3 mpi_job.py
`
	r, out := runScript(t, c, dir, map[string]string{"mpi_job.py": string(prog), "job.sh": script})
	if r.Code != 0 {
		t.Fatalf("gsub --wait: %d %s%s\noutput:\n%s", r.Code, r.Stdout, r.Stderr, out)
	}
	for rank := 0; rank < 4; rank++ {
		want := "mpi rank " + strconv.Itoa(rank) + " of 4 on n" + strconv.Itoa(rank/2+1) + " sum 10"
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("output:\n%s", out)
	if !strings.Contains(out, "mpi nodes n1,n2") {
		t.Errorf("ranks not on both nodes:\n%s", out)
	}
}

// Dask (Debian's python3-distributed) across two node daemons: grun starts
// three ranks; rank 0 runs the scheduler at MASTER_ADDR:MASTER_PORT, the
// others (one on each node) are workers; the map runs on both nodes.
func TestGangDask(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import distributed").Run(); err != nil {
		t.Skip("Debian's python3-distributed is not installed (apt-get install python3-distributed)")
	}
	c := Start(t, Options{Nodes: 2, CPUsPerNode: 2, MemPerNode: "6G", Binaries: true})
	dir := c.WorkDir(nobody, nobody)
	prog, err := os.ReadFile("testdata/dask_job.py")
	if err != nil {
		t.Fatal(err)
	}
	script := `#!/bin/sh
#GSUB -N 2 -n 3 --mem=2G -t 10
export OMP_NUM_THREADS=1
grun /usr/bin/python3 dask_job.py 2>dask.err
`
	r, out := runScript(t, c, dir, map[string]string{"dask_job.py": string(prog), "job.sh": script})
	if r.Code != 0 || !strings.Contains(out, "sum 2470 nodes 0,1") {
		errs, _ := os.ReadFile(filepath.Join(dir, "dask.err"))
		t.Fatalf("gsub --wait: %d %s%s\noutput:\n%s\nstderr tail:\n%s", r.Code, r.Stdout, r.Stderr, out, tail(string(errs), 2000))
	}
}

// runScript writes the files into dir (owned by nobody), submits job.sh
// with gsub --wait as nobody, and returns gsub's result and the job's
// output file.
func runScript(t *testing.T, c *Cluster, dir string, files map[string]string) (Result, string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := c.CLI(nobody, nobody, dir, "gsub", "--wait", "--parsable", "job.sh")
	out, _ := os.ReadFile(filepath.Join(dir, "gsched-"+strings.TrimSpace(r.Stdout)+".out"))
	return r, string(out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
