package image

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gsched/gsched/pkg/image/imagetest"
)

// publicTempDir is a TempDir other users can reach.
func publicTempDir(t *testing.T) string {
	d := t.TempDir()
	for _, p := range []string{filepath.Dir(d), d} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestOpenTransports(t *testing.T) {
	needRoot(t)
	dir := publicTempDir(t)
	img := imagetest.Build(t, dir)
	want, err := img.Img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	regRef := strings.TrimPrefix(srv.URL, "http://") + "/test/busybox:" + imagetest.Tag
	tag, err := name.NewTag(regRef)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img.Img); err != nil {
		t.Fatal(err)
	}
	user := Cred{UID: 4242, GID: 4242}
	for _, ref := range []string{
		"oci:" + img.Layout + ":" + imagetest.Tag,
		"oci:" + img.Layout,
		img.Layout,
		"docker-archive:" + img.DockerArchive,
		"docker-archive:" + img.DockerArchive + ":gsched.test/busybox:" + imagetest.Tag,
		img.DockerArchive,
		"oci-archive:" + img.OCIArchive + ":" + imagetest.Tag,
		img.OCIArchive,
		"docker://" + regRef,
	} {
		t.Run(ref, func(t *testing.T) {
			r, err := ParseRef(ref)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), r, user, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !slices.Equal(s.Config.Env, imagetest.Env) || s.Config.WorkingDir != imagetest.WorkingDir {
				t.Errorf("config env %v workdir %q", s.Config.Env, s.Config.WorkingDir)
			}
			var ids []string
			for _, l := range s.Layers {
				id, _ := l.DiffID()
				ids = append(ids, id)
			}
			var wantIDs []string
			for _, h := range want.RootFS.DiffIDs {
				wantIDs = append(wantIDs, h.String())
			}
			if !slices.Equal(ids, wantIDs) {
				t.Errorf("diff IDs %v, want %v", ids, wantIDs)
			}
		})
	}
}

func TestOpenRefusesWhatTheUserCannotRead(t *testing.T) {
	needRoot(t)
	dir := publicTempDir(t)
	img := imagetest.Build(t, dir)
	user := Cred{UID: 4242, GID: 4242}
	if err := os.Chmod(img.DockerArchive, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(img.Layout, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"docker-archive:" + img.DockerArchive, "oci:" + img.Layout, img.Layout} {
		r, err := ParseRef(ref)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := Open(context.Background(), r, user, t.TempDir()); !errors.Is(err, ErrAccess) {
			if s != nil {
				s.Close()
			}
			t.Errorf("Open(%s) as a user who cannot read it: %v, want ErrAccess", ref, err)
		}
		// Root (an operator's job) may.
		s, err := Open(context.Background(), r, Cred{}, t.TempDir())
		if err != nil {
			t.Errorf("Open(%s) as root: %v", ref, err)
			continue
		}
		s.Close()
	}
	r, _ := ParseRef("oci:" + img.Layout + ":nosuchtag")
	if _, err := Open(context.Background(), r, Cred{}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "nosuchtag") {
		t.Errorf("a missing tag: %v", err)
	}
}

// TestUnpackTestImage measures the unpack of the e2e test image, cold and
// from the cache.
func TestUnpackTestImage(t *testing.T) {
	needRoot(t)
	img := imagetest.Build(t, publicTempDir(t))
	c, err := OpenCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := ParseRef("oci:" + img.Layout)
	for _, round := range []string{"cold", "cached"} {
		t0 := time.Now()
		s, err := Open(context.Background(), r, Cred{}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var bytes int64
		for _, l := range s.Layers {
			a, err := c.Acquire(context.Background(), l)
			if err != nil {
				t.Fatal(err)
			}
			if a.Unpacked != (round == "cold") {
				t.Fatalf("%s: layer %s unpacked=%v", round, a.Key, a.Unpacked)
			}
			bytes += a.Bytes
			a.Release()
		}
		s.Close()
		t.Logf("%s: open + %d layers (%d KiB) in %s", round, len(s.Layers), bytes>>10, time.Since(t0).Round(time.Microsecond))
	}
}
