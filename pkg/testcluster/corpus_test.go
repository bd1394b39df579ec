package testcluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/config"
)

// The corpus's typical multi-node GPU training script
// (client/cli/testdata/scripts/ddp-gloo.sh), submitted unchanged: it finds
// MASTER_ADDR with `scontrol show hostnames "$SLURM_JOB_NODELIST"` and
// starts one rank per GPU with srun, through the Slurm compatibility
// wrappers a site installs (make install-slurm-compat; here, on PATH), and
// the ranks read Slurm's variables, as Lightning's SLURMEnvironment does,
// and all-reduce over torch.distributed (gloo). Node 1 is named localhost
// so that the name scontrol prints resolves on this one machine, as real
// node names resolve on a cluster.
func TestCorpusTrainingScript(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch.distributed").Run(); err != nil {
		t.Skip("Debian's python3-torch is not installed (apt-get install python3-torch)")
	}
	root := JobRoot(t) // the wrappers must be visible inside the job
	script, err := os.ReadFile("../../client/cli/testdata/scripts/ddp-gloo.sh")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := os.ReadFile("testdata/ddp_check.py")
	if err != nil {
		t.Fatal(err)
	}
	c := Start(t, Options{Nodes: 2, CPUsPerNode: 2, MemPerNode: "6G", GPUsPerNode: 2, Binaries: true,
		ConfigureNode: func(i int, nc *config.Config) {
			if i == 1 {
				nc.Node.Name = "localhost"
			}
		}})
	dir := c.WorkDir(nobody, nobody)
	for name, body := range map[string][]byte{"ddp-gloo.sh": script, "ddp_check.py": prog} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The site's environment, not the script: the wrappers and Debian's
	// python3 first on PATH; gloo on loopback, where every "node" is.
	path := filepath.Join(root, "conf", "slurm-compat") + ":" + Binaries(t) + ":/usr/bin:/bin"
	r := c.RunEnv([]string{"PATH=" + path, "GLOO_SOCKET_IFNAME=lo", "OMP_NUM_THREADS=1"},
		nobody, nobody, dir, filepath.Join(Binaries(t), "gsub"), "--wait", "--parsable", "ddp-gloo.sh")
	id := strings.TrimSpace(r.Stdout)
	out, _ := os.ReadFile(filepath.Join(dir, "ddp-smoke-"+id+".out"))
	if r.Code != 0 {
		t.Fatalf("gsub --wait: exit %d %s%s\noutput:\n%s", r.Code, r.Stdout, r.Stderr, out)
	}
	t.Logf("output:\n%s", out)
	if !strings.Contains(string(out), "master localhost:") || !strings.Contains(string(out), "world 4 nodes localhost,n2") {
		t.Errorf("MASTER_ADDR/WORLD_SIZE lines wrong:\n%s", out)
	}
	for rank := 0; rank < 4; rank++ {
		want := "rank " + strconv.Itoa(rank) + "/4 node " + strconv.Itoa(rank/2) + " local " + strconv.Itoa(rank%2) +
			" gpus 0,1 on_node 2 job ddp-smoke sum 10"
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
