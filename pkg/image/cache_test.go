package image

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/image/imagetest"
)

// countingLayer counts how often its stream is opened.
type countingLayer struct {
	l     v1.Layer
	opens atomic.Int32
}

func (c *countingLayer) DiffID() (string, error) {
	h, err := c.l.DiffID()
	return h.String(), err
}

func (c *countingLayer) Uncompressed() (io.ReadCloser, error) {
	c.opens.Add(1)
	time.Sleep(20 * time.Millisecond) // widen the race window
	return c.l.Uncompressed()
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown, mknod, xattrs, mounts)")
	}
}

// testLayers are a base layer and a top layer with a whiteout and an
// opaque dir.
func testLayers(t *testing.T) (base, top v1.Layer) {
	base = imagetest.Layer(t, []imagetest.Entry{
		{Name: "etc/", Type: tar.TypeDir},
		{Name: "etc/os-release", Body: "ID=test\n"},
		{Name: "gone", Body: "deleted by the top layer\n"},
		{Name: "opq/", Type: tar.TypeDir},
		{Name: "opq/old", Body: "hidden\n"},
		{Name: "bin/", Type: tar.TypeDir},
		{Name: "bin/tool", Body: "#!/bin/sh\n", Mode: 0o4755, UID: 0},
		{Name: "bin/link", Type: tar.TypeSymlink, Linkname: "tool"},
		{Name: "bin/hard", Type: tar.TypeLink, Linkname: "bin/tool"},
		{Name: "escape", Type: tar.TypeSymlink, Linkname: "/etc"},
		{Name: "owned", Body: "x", UID: 1234},
	})
	top = imagetest.Layer(t, []imagetest.Entry{
		{Name: ".wh.gone"},
		{Name: "opq/", Type: tar.TypeDir},
		{Name: "opq/.wh..wh..opq"},
		{Name: "opq/new", Body: "top\n"},
		{Name: "../../outside", Body: "confined\n"},
		{Name: "escape/passwd", Body: "must not reach the host's /etc\n"},
	})
	return base, top
}

func acquireAll(t *testing.T, c *Cache, ls ...v1.Layer) ([]string, []*Acquired) {
	t.Helper()
	var dirs []string
	var acq []*Acquired
	for _, l := range ls {
		a, err := c.Acquire(context.Background(), v1Layer{l: l, diffID: diffID(t, l)})
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, a.Dir)
		acq = append(acq, a)
	}
	return dirs, acq
}

func diffID(t *testing.T, l v1.Layer) string {
	h, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestUnpackWhiteoutsAndConfinement(t *testing.T) {
	needRoot(t)
	c, err := OpenCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	base, top := testLayers(t)
	dirs, _ := acquireAll(t, c, base, top)
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dirs[1], "gone"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Fatalf("whiteout of gone is not a 0:0 char device: %v %o", err, st.Mode)
	}
	if v, err := getxattr(filepath.Join(dirs[1], "opq"), opaqueXattr); err != nil || v != "y" {
		t.Fatalf("opq is not opaque: %q %v", v, err)
	}
	if _, err := os.Lstat(filepath.Join(dirs[1], "opq", ".wh..wh..opq")); err == nil {
		t.Fatal("the opaque marker file was written as a file")
	}
	// "../../outside" lands inside the layer; "escape/passwd" cannot
	// follow the base layer's symlink out (each layer is unpacked into
	// its own dir, where escape does not exist: it becomes a dir).
	if _, err := os.Stat(filepath.Join(dirs[1], "outside")); err != nil {
		t.Fatalf("../../outside not confined to the layer: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dirs[1], "escape", "passwd")); err != nil || string(b) != "must not reach the host's /etc\n" {
		t.Fatalf("escape/passwd: %q %v", b, err)
	}
	fi, err := os.Stat(filepath.Join(dirs[0], "bin", "tool"))
	if err != nil || fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Fatalf("bin/tool mode %v, %v", fi.Mode(), err)
	}
	if err := unix.Lstat(filepath.Join(dirs[0], "owned"), &st); err != nil || st.Uid != 1234 {
		t.Fatalf("owned: uid %d %v", st.Uid, err)
	}
	var a, b unix.Stat_t
	if unix.Stat(filepath.Join(dirs[0], "bin", "tool"), &a) != nil || unix.Stat(filepath.Join(dirs[0], "bin", "hard"), &b) != nil || a.Ino != b.Ino {
		t.Fatal("bin/hard is not a hard link of bin/tool")
	}
}

func TestUnpackRejectsWrongDigest(t *testing.T) {
	needRoot(t)
	c, err := OpenCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	base, top := testLayers(t)
	// top's stream under base's diff ID: the content check must fail
	// and leave nothing under the ready name.
	_, err = c.Acquire(context.Background(), v1Layer{l: top, diffID: diffID(t, base)})
	if err == nil {
		t.Fatal("a layer whose content does not match its diff ID was accepted")
	}
	key, _ := Key(diffID(t, base))
	if ready(c.path(key, "")) {
		t.Fatal("a failed unpack left a ready layer")
	}
	if left, _ := filepath.Glob(filepath.Join(c.Dir(), "layers", "tmp-*")); len(left) > 0 {
		t.Fatalf("a failed unpack left %v", left)
	}
}

func TestCacheUnpacksOnce(t *testing.T) {
	needRoot(t)
	c, err := OpenCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := testLayers(t)
	cl := &countingLayer{l: base}
	var wg sync.WaitGroup
	var unpacked atomic.Int32
	dirs := make([]string, 8)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := c.Acquire(context.Background(), cl)
			if err != nil {
				t.Error(err)
				return
			}
			if a.Unpacked {
				unpacked.Add(1)
			}
			dirs[i] = a.Dir
			a.Release()
		}()
	}
	wg.Wait()
	if cl.opens.Load() != 1 || unpacked.Load() != 1 {
		t.Fatalf("8 concurrent jobs opened the layer %d times and unpacked it %d times, want 1", cl.opens.Load(), unpacked.Load())
	}
	for _, d := range dirs[1:] {
		if d != dirs[0] {
			t.Fatalf("dirs differ: %v", dirs)
		}
	}
	// A later job finds it ready.
	a, err := c.Acquire(context.Background(), cl)
	if err != nil || a.Unpacked || cl.opens.Load() != 1 {
		t.Fatalf("second acquire: unpacked=%v opens=%d err=%v", a != nil && a.Unpacked, cl.opens.Load(), err)
	}
	a.Release()
}

func TestCacheGC(t *testing.T) {
	needRoot(t)
	var ls []v1.Layer
	for _, body := range []string{"aaaa", "bbbb", "cccc", "dddd"} {
		ls = append(ls, imagetest.Layer(t, []imagetest.Entry{{Name: "f", Body: string(make([]byte, 10000)) + body}}))
	}
	dir := t.TempDir()
	probe, _ := OpenCache(dir, 0)
	_, acq := acquireAll(t, probe, ls[0])
	per := acq[0].Bytes
	acq[0].Release()
	// Room for two layers.
	c, err := OpenCache(dir, 2*per+per/2)
	if err != nil {
		t.Fatal(err)
	}
	_, acq = acquireAll(t, c, ls[1], ls[2], ls[3])
	keys := func() []string {
		li, err := c.Layers()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range li {
			out = append(out, l.Key)
		}
		return out
	}
	k := func(i int) string {
		key, _ := Key(diffID(t, ls[i]))
		return key
	}
	// Used in order 0, 1, 2, 3; 1, 2 and 3 are held: only 0 may go.
	removed, left, err := c.GC(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{k(0)}) || left != 3*per {
		t.Fatalf("GC with 1-3 in use removed %v, left %d; want [%s], %d", removed, left, k(0), 3*per)
	}
	// Release all; make 3 the least recently used.
	for _, a := range acq {
		a.Release()
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(c.path(k(3), ".use"), old, old); err != nil {
		t.Fatal(err)
	}
	// keep protects 3 (a task record whose supervisor died): 1 goes.
	removed, left, err = c.GC(map[string]bool{k(3): true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{k(1)}) || left != 2*per {
		t.Fatalf("GC removed %v, left %d; want [%s], %d", removed, left, k(1), 2*per)
	}
	got := keys()
	slices.Sort(got)
	want := []string{k(2), k(3)}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("cache holds %v, want %v", got, want)
	}
	// Within the limit: nothing more goes.
	if removed, _, _ := c.GC(nil); len(removed) != 0 {
		t.Fatalf("GC within the limit removed %v", removed)
	}
	// A removed layer is unpacked again when a job needs it.
	_, acq = acquireAll(t, c, ls[0])
	if !acq[0].Unpacked {
		t.Fatal("a collected layer was not unpacked again")
	}
	acq[0].Release()
}

func TestMountRootfs(t *testing.T) {
	needRoot(t)
	for _, mode := range []string{ModeOverlay, ModeCopy} {
		t.Run(mode, func(t *testing.T) {
			c, err := OpenCache(t.TempDir(), 0)
			if err != nil {
				t.Fatal(err)
			}
			base, top := testLayers(t)
			dirs, _ := acquireAll(t, c, base, top)
			job := t.TempDir()
			target := filepath.Join(job, "rootfs")
			got, err := MountRootfs(dirs, filepath.Join(job, "scratch"), target, mode == ModeCopy)
			if err != nil {
				t.Fatal(err)
			}
			if got != mode {
				t.Fatalf("mode %s, want %s", got, mode)
			}
			t.Cleanup(func() { _ = Cleanup(job) })
			want := map[string]string{"etc/os-release": "ID=test\n", "opq/new": "top\n"}
			for f, body := range want {
				if b, err := os.ReadFile(filepath.Join(target, f)); err != nil || string(b) != body {
					t.Errorf("%s: %q %v", f, b, err)
				}
			}
			for _, f := range []string{"gone", "opq/old"} {
				if _, err := os.Lstat(filepath.Join(target, f)); !os.IsNotExist(err) {
					t.Errorf("%s shows through its whiteout: %v", f, err)
				}
			}
			// Writes stay in the job's rootfs, never in the cache.
			if err := os.WriteFile(filepath.Join(target, "etc", "os-release"), []byte("changed"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(target, "opq", "new")); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(filepath.Join(dirs[0], "etc", "os-release")); string(b) != "ID=test\n" {
				t.Fatalf("a job's write reached the cached layer: %q", b)
			}
			if _, err := os.Stat(filepath.Join(dirs[1], "opq", "new")); err != nil {
				t.Fatalf("a job's delete reached the cached layer: %v", err)
			}
			if err := Cleanup(job); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(job); !os.IsNotExist(err) {
				t.Fatalf("job dir left: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dirs[0], "etc", "os-release")); err != nil {
				t.Fatalf("cleanup removed a cached layer's file: %v", err)
			}
		})
	}
}

func TestCleanupNeverRemovesThroughAMount(t *testing.T) {
	needRoot(t)
	job, data := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "precious"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	mp := filepath.Join(job, "rootfs", "data")
	if err := os.MkdirAll(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(data, mp, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(job); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "precious")); err != nil {
		t.Fatalf("cleanup removed a file through a bind mount: %v", err)
	}
}
