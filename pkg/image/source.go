package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// refNameAnnotation names an image in an OCI layout's index.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// Source is an opened image: its layers (lowest first) and config.
type Source struct {
	Ref    Ref
	Layers []Layer
	Config v1.Config
	close  []func()
}

// Close releases what Open holds (descriptors, an unpacked archive).
func (s *Source) Close() {
	for i := len(s.close) - 1; i >= 0; i-- {
		s.close[i]()
	}
	s.close = nil
}

// Open opens the image ref names as the user c: a local path must be one
// c may read (checked with OpenAs, and then read through the descriptor
// it returns). tmp is a root-only dir for unpacking an OCI archive's index
// and blobs. Registry images are pulled anonymously.
func Open(ctx context.Context, ref Ref, c Cred, tmp string) (*Source, error) {
	s := &Source{Ref: ref}
	img, err := s.open(ctx, ref, c, tmp)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("image %s: %w", trunc(ref.String()), err)
	}
	if err := s.load(img); err != nil {
		s.Close()
		return nil, fmt.Errorf("image %s: %w", trunc(ref.String()), err)
	}
	return s, nil
}

func (s *Source) open(ctx context.Context, ref Ref, c Cred, tmp string) (v1.Image, error) {
	if ref.Transport == Registry {
		r, err := name.ParseReference(ref.Name)
		if err != nil {
			return nil, err
		}
		return remote.Image(r, remote.WithContext(ctx),
			remote.WithPlatform(v1.Platform{OS: "linux", Architecture: goruntime.GOARCH}))
	}
	want := uint32(AccessRead)
	if ref.Transport == Layout {
		want |= AccessExec
	}
	h, err := OpenAs(ref.Path, c, want)
	if err != nil {
		return nil, err
	}
	s.close = append(s.close, func() { h.Close() })
	fi, err := os.Stat(fdPath(h))
	if err != nil {
		return nil, err
	}
	t := ref.Transport
	if t == Local {
		if t, err = sniff(h, fi); err != nil {
			return nil, err
		}
	}
	switch t {
	case Layout:
		if !fi.IsDir() {
			return nil, errors.New("not an OCI layout directory")
		}
		if ref.Transport == Local {
			// Opened for reading only: a layout needs search too.
			h2, err := OpenAs(ref.Path, c, AccessRead|AccessExec)
			if err != nil {
				return nil, err
			}
			s.close = append(s.close, func() { h2.Close() })
			h = h2
		}
		if _, err := OpenAs(filepath.Join(ref.Path, "index.json"), c, AccessRead); err != nil {
			return nil, err
		}
		return fromLayout(fdPath(h), ref.Tag)
	case DockerArchive:
		f, err := Reopen(h)
		if err != nil {
			return nil, err
		}
		s.close = append(s.close, func() { f.Close() })
		opener := func() (io.ReadCloser, error) {
			return io.NopCloser(io.NewSectionReader(f, 0, fi.Size())), nil
		}
		var tag *name.Tag
		if ref.Tag != "" {
			tg, err := name.NewTag(ref.Tag)
			if err != nil {
				return nil, err
			}
			tag = &tg
		}
		return tarball.Image(opener, tag)
	case OCIArchive:
		f, err := Reopen(h)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		dir, err := os.MkdirTemp(tmp, "oci-archive-")
		if err != nil {
			return nil, err
		}
		s.close = append(s.close, func() { os.RemoveAll(dir) })
		if err := extractLayout(f, dir); err != nil {
			return nil, err
		}
		return fromLayout(dir, ref.Tag)
	}
	return nil, fmt.Errorf("unknown transport %q", t)
}

func fdPath(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }

// sniff tells a layout dir from a docker or OCI archive.
func sniff(h *os.File, fi os.FileInfo) (Transport, error) {
	if fi.IsDir() {
		return Layout, nil
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("neither a directory nor a file")
	}
	f, err := Reopen(h)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", errors.New("an archive with neither manifest.json (docker) nor index.json (OCI)")
		}
		if err != nil {
			return "", fmt.Errorf("read archive: %w", err)
		}
		switch path.Clean(hdr.Name) {
		case "manifest.json":
			return DockerArchive, nil
		case "index.json":
			return OCIArchive, nil
		}
	}
}

// fromLayout picks the image named tag (or the only one) from the OCI
// layout at dir, and, for a multi-platform index, this platform's image.
func fromLayout(dir, tag string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var pick []v1.Descriptor
	for _, d := range im.Manifests {
		n := d.Annotations[refNameAnnotation]
		if tag == "" || n == tag || strings.HasSuffix(n, ":"+tag) {
			pick = append(pick, d)
		}
	}
	switch {
	case len(pick) == 0 && tag != "":
		return nil, fmt.Errorf("no image tagged %q in the layout", tag)
	case len(pick) == 0:
		return nil, errors.New("the layout holds no image")
	case len(pick) > 1:
		return nil, fmt.Errorf("the layout holds %d images: name one with :TAG", len(pick))
	}
	d := pick[0]
	if d.MediaType.IsIndex() {
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, err
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, cd := range cm.Manifests {
			if cd.Platform != nil && cd.Platform.OS == "linux" && cd.Platform.Architecture == goruntime.GOARCH {
				return verified(child.Image(cd.Digest))(cd.Digest)
			}
		}
		return nil, fmt.Errorf("no linux/%s image in the index", goruntime.GOARCH)
	}
	return verified(idx.Image(d.Digest))(d.Digest)
}

// verified checks that an image read from a layout has the manifest
// digest its index names.
func verified(img v1.Image, err error) func(v1.Hash) (v1.Image, error) {
	return func(want v1.Hash) (v1.Image, error) {
		if err != nil {
			return nil, err
		}
		raw, err := img.RawManifest()
		if err != nil {
			return nil, err
		}
		if got := sha256Hex(raw); want.Algorithm != "sha256" || got != want.Hex {
			return nil, fmt.Errorf("manifest %s does not match its content (sha256:%s)", want, got)
		}
		return img, nil
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// load reads the config (checked against the manifest's digest) and the
// layers.
func (s *Source) load(img v1.Image) error {
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	if m.Config.Digest.Algorithm == "sha256" && sha256Hex(raw) != m.Config.Digest.Hex {
		return fmt.Errorf("config %s does not match its content", m.Config.Digest)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	s.Config = cf.Config
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	if len(layers) != len(cf.RootFS.DiffIDs) {
		return fmt.Errorf("%d layers but %d diff IDs in the config", len(layers), len(cf.RootFS.DiffIDs))
	}
	for i, l := range layers {
		s.Layers = append(s.Layers, v1Layer{l: l, diffID: cf.RootFS.DiffIDs[i].String()})
	}
	return nil
}

// v1Layer adapts a go-containerregistry layer; its diff ID comes from the
// (verified) config, and unpacking checks the content against it.
type v1Layer struct {
	l      v1.Layer
	diffID string
}

func (x v1Layer) DiffID() (string, error)              { return x.diffID, nil }
func (x v1Layer) Uncompressed() (io.ReadCloser, error) { return x.l.Uncompressed() }

// extractLayout unpacks an OCI archive's oci-layout, index.json and
// blobs/ (regular files and dirs only) into dir.
func extractLayout(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		n := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if n != "oci-layout" && n != "index.json" && !strings.HasPrefix(n, "blobs/") {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(n, 0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := root.MkdirAll(path.Dir(n), 0o700); err != nil {
				return err
			}
			f, err := root.OpenFile(n, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}
