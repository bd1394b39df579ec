// Package imagetest builds a tiny OCI image for tests from the host's
// static busybox (Debian's busybox-static): two layers, the second with a
// whiteout and an opaque directory, written as an OCI layout, a docker
// archive and an OCI archive with go-containerregistry.
package imagetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Busybox is Debian's static busybox.
const Busybox = "/usr/bin/busybox"

// OSRelease is the image's /etc/os-release.
const OSRelease = "ID=gsched-test\nNAME=\"gsched test image\"\n"

// Tag is the tag the image has in its layout and archives.
const Tag = "v1"

// Applets get a symlink to busybox in /bin.
var Applets = []string{"sh", "cat", "ls", "echo", "id", "touch", "test", "env", "pwd", "mkdir", "sleep",
	"grep", "wc", "rm", "stat", "head", "true", "false", "printf", "tr"}

// Env and WorkingDir are the image config's.
var (
	Env        = []string{"PATH=/usr/local/bin:/bin", "IMAGE_VAR=from-image", "SHADOWED=image"}
	WorkingDir = "/srv"
)

// Image is a built test image.
type Image struct {
	Img           v1.Image
	Layout        string // OCI layout dir (tag Tag)
	DockerArchive string // docker save tarball
	OCIArchive    string // tar of the layout
}

// Entry is one tar entry of a test layer.
type Entry struct {
	Name     string
	Type     byte // tar.TypeReg (default), TypeDir, TypeSymlink, TypeLink, ...
	Body     string
	Linkname string
	Mode     int64
	UID      int
}

// Layer builds an uncompressed layer from entries.
func Layer(t testing.TB, entries []Entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.Mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: typ, Mode: mode, Linkname: e.Linkname, Uid: e.UID, Gid: e.UID,
			ModTime: time.Unix(1700000000, 0)}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.Body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Build writes the test image under dir. It skips the test when busybox
// is not installed (make test-deps installs busybox-static).
func Build(t testing.TB, dir string) *Image {
	t.Helper()
	bb, err := os.ReadFile(Busybox)
	if err != nil {
		t.Skipf("the test image needs %s (apt-get install busybox-static): %v", Busybox, err)
	}
	if out, err := exec.Command("file", "-L", Busybox).Output(); err == nil && !strings.Contains(string(out), "statically linked") && !strings.Contains(string(out), "static-pie") {
		t.Skipf("%s is not static (install busybox-static)", Busybox)
	}
	base := []Entry{
		{Name: "bin/", Type: tar.TypeDir},
		{Name: "bin/busybox", Body: string(bb), Mode: 0o755},
		{Name: "etc/", Type: tar.TypeDir},
		{Name: "etc/os-release", Body: OSRelease},
		{Name: "etc/passwd", Body: "root:x:0:0:root:/root:/bin/sh\n"},
		{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
		{Name: "srv/", Type: tar.TypeDir},
		{Name: "srv/hello", Body: "hello from the image\n"},
		{Name: "work/", Type: tar.TypeDir, Mode: 0o1777},
		{Name: "work/note", Body: "original\n", Mode: 0o666},
		{Name: "removed-later", Body: "layer 1\n"},
		{Name: "opq/", Type: tar.TypeDir},
		{Name: "opq/from-layer1", Body: "hidden by layer 2\n"},
	}
	for _, a := range Applets {
		base = append(base, Entry{Name: "bin/" + a, Type: tar.TypeSymlink, Linkname: "busybox"})
	}
	top := []Entry{
		{Name: ".wh.removed-later"},
		{Name: "opq/", Type: tar.TypeDir},
		{Name: "opq/.wh..wh..opq"},
		{Name: "opq/from-layer2", Body: "layer 2\n"},
		{Name: "etc/layer2", Body: "layer 2\n"},
	}
	img, err := mutate.AppendLayers(empty.Image, Layer(t, base), Layer(t, top))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Env = Env
	cf.Config.WorkingDir = WorkingDir
	cf.Config.Cmd = []string{"/bin/sh"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return Write(t, img, dir)
}

// Write writes img as a layout, a docker archive and an OCI archive.
func Write(t testing.TB, img v1.Image, dir string) *Image {
	t.Helper()
	out := &Image{Img: img, Layout: filepath.Join(dir, "layout"), DockerArchive: filepath.Join(dir, "docker.tar"),
		OCIArchive: filepath.Join(dir, "oci.tar")}
	p, err := layout.Write(out.Layout, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": Tag})); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag("gsched.test/busybox:" + Tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(out.DockerArchive, tag, img); err != nil {
		t.Fatal(err)
	}
	if err := tarDir(out.Layout, out.OCIArchive); err != nil {
		t.Fatal(err)
	}
	// Readable by every test user, as a shared image would be.
	if err := exec.Command("chmod", "-R", "a+rX", dir).Run(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tarDir writes the files under dir into the tar file out.
func tarDir(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("tar %s: %w", dir, err)
	}
	return nil
}
