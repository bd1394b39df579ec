package testcluster

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/image"
	"github.com/gsched/gsched/pkg/image/imagetest"
)

// gsubImage submits job.sh (written into dir) as nobody with gsub --wait,
// the environment env and the extra args; it returns the job, its output
// and how long gsub --wait took.
func gsubImage(t *testing.T, c *Cluster, dir, script string, env []string, args ...string) (api.Job, string, time.Duration) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "job.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	r := c.RunEnv(env, nobody, nobody, dir, filepath.Join(Binaries(t), "gsub"), append(append([]string{"--wait", "--parsable"}, args...), "job.sh")...)
	took := time.Since(t0)
	id, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if err != nil {
		t.Fatalf("gsub %v: code %d stdout %q stderr %q", args, r.Code, r.Stdout, r.Stderr)
	}
	return c.Job(api.JobID(id)), readOutMaybe(dir, api.JobID(id)), took
}

// publicDir makes a dir under the cluster's that every user can reach.
func publicDir(t *testing.T, c *Cluster, name string, uid int) string {
	d := filepath.Join(c.Dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, uid, uid); err != nil {
		t.Fatal(err)
	}
	return d
}

// cachedLayers lists node n1's unpacked layers with their inodes.
func cachedLayers(t *testing.T, c *Cluster) map[string]uint64 {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(c.Dir, "node-n1", "images", "layers", "sha256-*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, d := range dirs {
		var st syscall.Stat_t
		if err := syscall.Lstat(d, &st); err == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			out[filepath.Base(d)] = st.Ino
		}
	}
	return out
}

// checkNoLeftovers: once jobs ended, nothing is mounted under the cluster
// and no task keeps a rootfs, upper dir or image record.
func checkNoLeftovers(t *testing.T, c *Cluster) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mps, err := image.Mounts(c.Dir)
		if err != nil {
			t.Fatal(err)
		}
		left, _ := filepath.Glob(filepath.Join(c.Dir, "node-n1", "tasks", "*", "[rsm]*"))
		var bad []string
		for _, l := range left {
			switch filepath.Base(l) {
			case "rootfs", "scratch", "mnt":
				bad = append(bad, l)
			}
		}
		recs, _ := filepath.Glob(filepath.Join(c.Dir, "node-n1", "tasks", "*", "image.json"))
		bad = append(append(bad, mps...), recs...)
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind after the jobs ended: %v", bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An image job runs on the image's files as the submitting user: the
// image's os-release, whiteouts applied, its Env under the job's (its PATH
// winning), its WorkingDir; writes go to the job's own layer and never
// reach the cache; Pyxis and docker-style mounts work and a source the
// user cannot read is refused. A second job starts from the cache without
// unpacking again, and nothing stays mounted.
func TestImageJob(t *testing.T) {
	c := Start(t, Options{})
	img := imagetest.Build(t, publicDir(t, c, "img", 0))
	data := publicDir(t, c, "data", 0)
	if err := os.WriteFile(filepath.Join(data, "input"), []byte("input-data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := publicDir(t, c, "out", nobody)
	secret := publicDir(t, c, "secret", 0)
	if err := os.Chmod(secret, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := c.WorkDir(nobody, nobody)
	script := `#!/bin/sh
echo "os=$(grep ^ID= /etc/os-release)"
echo "pwd=$(pwd) hello=$(cat hello)"
echo "removed=$(test -e /removed-later && echo present || echo gone) opq=$(ls /opq | tr '\n' ' ')"
echo "imagevar=$IMAGE_VAR shadowed=$SHADOWED path=$PATH"
echo "uid=$(id -u) gid=$(id -g)"
echo "data=$(cat /data/input)"
echo x > /data/x 2>/dev/null && echo "ro=writable" || echo "ro=readonly"
echo job >> /work/note && echo new > /work/new && echo "layer=written note=$(wc -l < /work/note)"
echo result > /out/result && echo "rw=ok"
test -e /usr/bin/apt && echo "host=visible" || echo "host=hidden"
`
	args := []string{"--image=oci:" + img.Layout + ":" + imagetest.Tag,
		"--container-mounts=" + data + ":/data:ro", "--mount", "type=bind,src=" + out + ",dst=/out"}
	j, got, first := gsubImage(t, c, dir, script, []string{"SHADOWED=job", "IMAGE_VAR="}, args...)
	if j.State != api.StateCompleted {
		t.Fatalf("image job %s (%s) exit %d; output %q", j.State, j.Reason, j.ExitCode, got)
	}
	f := fields(got)
	want := map[string]string{
		"os": "ID=gsched-test", "pwd": "/srv", "hello": "hello", "removed": "gone", "opq": "from-layer2",
		"shadowed": "job", "path": "/usr/local/bin:/bin", "uid": "65534", "gid": "65534",
		"data": "input-data", "ro": "readonly", "layer": "written", "note": "2", "rw": "ok", "host": "hidden",
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %q, want %q; output:\n%s", k, f[k], v, got)
		}
	}
	// The job's IMAGE_VAR= (empty, exported by gsub) shadows the image's.
	if strings.Contains(got, "imagevar=from-image") {
		t.Errorf("the job's empty IMAGE_VAR did not shadow the image's: %s", got)
	}
	if b, err := os.ReadFile(filepath.Join(out, "result")); err != nil || string(b) != "result\n" {
		t.Errorf("rw mount: %q %v", b, err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(out, "result"), &st); err != nil || st.Uid != nobody {
		t.Errorf("rw mount: the file is owned by %d, not the job's user (%v)", st.Uid, err)
	}
	if _, err := os.Stat(filepath.Join(data, "x")); err == nil {
		t.Error("a read-only mount was written")
	}
	layers := cachedLayers(t, c)
	if len(layers) != 2 {
		t.Fatalf("cache holds %d layers, want the image's 2", len(layers))
	}
	for key := range layers {
		base := filepath.Join(c.Dir, "node-n1", "images", "layers", key)
		if b, err := os.ReadFile(filepath.Join(base, "work", "note")); err == nil && string(b) != "original\n" {
			t.Errorf("the job's write reached cached layer %s: %q", key, b)
		}
		if _, err := os.Stat(filepath.Join(base, "work", "new")); err == nil {
			t.Errorf("the job's new file is in cached layer %s", key)
		}
	}
	checkNoLeftovers(t, c)

	// The same image again (a docker archive of it: the same layers):
	// from the cache, and the first job's writes are gone.
	j, got, second := gsubImage(t, c, dir, "#!/bin/sh\ncat /work/note; test -e /work/new && echo leaked || echo clean\n", nil,
		"--container-image=docker-archive:"+img.DockerArchive)
	if j.State != api.StateCompleted || got != "original\nclean\n" {
		t.Fatalf("second job %s (%s): %q", j.State, j.Reason, got)
	}
	if again := cachedLayers(t, c); fmt.Sprint(again) != fmt.Sprint(layers) {
		t.Fatalf("the second job unpacked again: layers %v, then %v", layers, again)
	}
	t.Logf("gsub --wait of an image job: first (unpack) %v, second (cached) %v", first.Round(time.Millisecond), second.Round(time.Millisecond))
	checkNoLeftovers(t, c)

	// A mount of what the user cannot read is refused on the node.
	j, got, _ = gsubImage(t, c, dir, "#!/bin/sh\nls /s\n", nil, "--image="+img.Layout, "--container-mounts="+secret+":/s")
	if j.State != api.StateFailed || !strings.Contains(j.Reason+got, "permission denied") {
		t.Fatalf("a job mounting a root-only dir: %s (%s) %q", j.State, j.Reason, got)
	}
	checkNoLeftovers(t, c)
}

// cdiSpec declares fake GPU 0 (195:0) for CDI, with a device env var, and
// a driver mount and env for the whole kind. GPU 1 is left out: it falls
// back to a plain device node.
func cdiSpec(t *testing.T, dir string) {
	t.Helper()
	node := filepath.Join(dir, "cdi-nvidia0")
	if err := syscall.Mknod(node, syscall.S_IFCHR|0o666, int(mkdev(195, 0))); err != nil {
		t.Fatal(err)
	}
	drv := filepath.Join(dir, "driver")
	if err := os.MkdirAll(drv, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(drv, "version"), []byte("fake-driver-1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{
		"cdiVersion": "0.6.0",
		"kind":       "nvidia.com/gpu",
		"devices": []any{map[string]any{
			"name": "0",
			"containerEdits": map[string]any{
				"deviceNodes": []any{map[string]any{"path": "/dev/nvidia0", "hostPath": node}},
				"env":         []string{"FAKE_GPU_INDEX=0"},
			},
		}},
		"containerEdits": map[string]any{
			"env":    []string{"FAKE_DRIVER=cdi"},
			"mounts": []any{map[string]any{"hostPath": drv, "containerPath": "/usr/local/fakedriver", "options": []string{"ro", "nosuid", "nodev", "bind"}}},
		},
	}
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fake-gpu.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// GPUs reach image jobs through CDI: a job holding fake GPU 0 sees exactly
// /dev/nvidia0, which its device cgroup lets it open (ENXIO, not EPERM),
// and the spec's env and driver mount; GPU 1, which no spec names, comes
// as a plain device node. A host-rootfs job does not use CDI.
func TestImageJobCDIGPUs(t *testing.T) {
	cdiDir, err := os.MkdirTemp("/var/tmp", "gsched-cdi-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(cdiDir) })
	if err := os.Chmod(cdiDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cdiSpec(t, cdiDir)
	c := Start(t, Options{GPUsPerNode: 2, Configure: func(cfg *config.Config) { cfg.Node.CDISpecDirs = []string{cdiDir} }})
	img := imagetest.Build(t, publicDir(t, c, "img", 0))
	dir := c.WorkDir(nobody, nobody)
	script := `#!/bin/sh
echo "devs=$(ls /dev | grep nvidia | tr '\n' ,) gpus=$GSCHED_JOB_GPUS"
echo "gpuenv=$FAKE_GPU_INDEX driver=$FAKE_DRIVER version=$(cat /usr/local/fakedriver/version 2>/dev/null)"
for d in /dev/nvidia*; do ( exec 3<>$d ) 2>&1 | grep -q 'not permitted' && echo "open=$d:denied" || echo "open=$d:allowed"; done
`
	j, got, _ := gsubImage(t, c, dir, script, nil, "--image="+img.Layout, "--gpus=1")
	if j.State != api.StateCompleted {
		t.Fatalf("job %s (%s): %q", j.State, j.Reason, got)
	}
	f := fields(got)
	if f["gpus"] != "0" || f["devs"] != "nvidia0," || f["gpuenv"] != "0" || f["driver"] != "cdi" || f["version"] != "fake-driver-1.0" ||
		f["open"] != "/dev/nvidia0:allowed" {
		t.Fatalf("one CDI GPU: %q", got)
	}
	j, got, _ = gsubImage(t, c, dir, script, nil, "--image="+img.Layout, "--gpus=2")
	if j.State != api.StateCompleted {
		t.Fatalf("job %s (%s): %q", j.State, j.Reason, got)
	}
	if f = fields(got); f["devs"] != "nvidia0,nvidia1," || f["gpuenv"] != "0" || f["driver"] != "cdi" ||
		strings.Count(got, ":allowed") != 2 {
		t.Fatalf("CDI GPU 0 and plain GPU 1: %q", got)
	}
	// A host-rootfs job: plain device nodes, no CDI edits.
	j, got, _ = gsubImage(t, c, dir, script, nil, "--gpus=1")
	if f = fields(got); j.State != api.StateCompleted || f["devs"] != "nvidia0," || f["driver"] != "" || f["open"] != "/dev/nvidia0:allowed" {
		t.Fatalf("host-rootfs GPU job %s: %q", j.State, got)
	}
	checkNoLeftovers(t, c)
}

// An image job's rootfs and upper dir are cleaned up when it ends after
// gnoded restarted, even when its supervisor was killed meanwhile (the
// restarted daemon finds the orphan and cleans up for it).
func TestImageJobCleanupAfterRestart(t *testing.T) {
	c := Start(t, Options{})
	img := imagetest.Build(t, publicDir(t, c, "img", 0))
	dir := c.WorkDir(nobody, nobody)
	if err := os.WriteFile(filepath.Join(dir, "job.sh"), []byte("#!/bin/sh\necho started\nexec sleep 60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.CLI(nobody, nobody, dir, "gsub", "--parsable", "--image="+img.Layout, "job.sh")
	n, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if err != nil {
		t.Fatalf("gsub: %q %q", r.Stdout, r.Stderr)
	}
	id := api.JobID(n)
	c.WaitFor(id, 20*time.Second, func(j api.Job) bool { return readOutMaybe(dir, id) == "started\n" })
	if mps, _ := image.Mounts(c.Dir); len(mps) == 0 {
		t.Fatal("a running image job has no rootfs mount")
	}
	c.KillNode(1)
	c.RestartNode(1)
	b, err := os.ReadFile(filepath.Join(c.Dir, "node-n1", "tasks", "job-"+id.String(), "shim.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the supervisor: %v", err)
	}
	if r := c.CLI(nobody, nobody, dir, "gcancel", id.String()); r.Code != 0 {
		t.Fatalf("gcancel: %+v", r)
	}
	if j := c.WaitJob(id, 20*time.Second); !j.State.Final() {
		t.Fatalf("job %s", j.State)
	}
	checkNoLeftovers(t, c)
}
