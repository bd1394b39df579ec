// Package imageref parses image references (gsub --image): it has no
// dependencies, so the commands and the controller can check a reference
// without linking the image readers of pkg/image.
package imageref

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// Transport says where an image comes from.
type Transport string

// Transports.
const (
	// Layout is a local OCI image layout dir (oci:/dir[:tag]).
	Layout Transport = "oci"
	// OCIArchive is a tar of an OCI image layout (oci-archive:/x.tar).
	OCIArchive Transport = "oci-archive"
	// DockerArchive is a `docker save` tarball (docker-archive:/x.tar).
	DockerArchive Transport = "docker-archive"
	// Local is a plain path: a layout dir, or an archive whose kind is
	// read from its contents.
	Local Transport = "path"
	// Registry is an image pulled from a registry (docker://name:tag).
	Registry Transport = "docker"
)

// Ref is a parsed image reference.
type Ref struct {
	Transport Transport
	// Path is the absolute local path (every transport but Registry).
	Path string
	// Tag picks an image of a layout or archive ("" = its only one).
	Tag string
	// Name is the registry reference (Registry only).
	Name string
}

// The patterns are compiled on first use: every command that links this
// package (gsub, gctld) would otherwise pay 0.5 ms at start-up for them.
var (
	tagRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`) })
	// dockerTagRE is a repository:tag as `docker save` records it.
	dockerTagRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*(:[0-9]+/[a-z0-9._/-]+)?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	})
	nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][A-Za-z0-9._/:@+-]*$`) })
)

// Parse parses an image reference: oci:/dir[:tag],
// oci-archive:/x.tar[:tag], docker-archive:/x.tar[:tag], an absolute path
// (a layout dir or an archive), docker://name[:tag|@digest], or a bare
// registry name as Pyxis takes it ("ubuntu:24.04", enroot's
// "nvcr.io#nvidia/pytorch:24.01-py3").
func Parse(s string) (Ref, error) {
	if s == "" {
		return Ref{}, errors.New("empty image reference")
	}
	if len(s) > 4096 || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return Ref{}, fmt.Errorf("image %q: too long, or a space or control character", trunc(s))
	}
	for _, t := range []Transport{OCIArchive, DockerArchive, Layout} {
		if rest, ok := strings.CutPrefix(s, string(t)+":"); ok {
			if strings.HasPrefix(rest, "//") && t == Layout {
				break // "oci://..." is not a path
			}
			return localRef(t, rest, s)
		}
	}
	if strings.HasPrefix(s, "/") {
		r := Ref{Transport: Local, Path: s}
		return r, checkPath(r.Path, s)
	}
	name := strings.TrimPrefix(s, "docker://")
	// enroot writes the registry before a '#'.
	if reg, img, ok := strings.Cut(name, "#"); ok {
		name = reg + "/" + img
	}
	if !nameRE().MatchString(name) || strings.Contains(name, "//") || strings.Contains(name, "..") {
		return Ref{}, fmt.Errorf("image %q: not a path (/...), oci:, oci-archive:, docker-archive: or a registry name", trunc(s))
	}
	return Ref{Transport: Registry, Name: name}, nil
}

// localRef splits PATH[:TAG]: a tag is what follows the last ':' when it
// holds no '/'; for a docker archive, what follows the first ':', a
// repository:tag as `docker save` recorded it.
func localRef(t Transport, rest, orig string) (Ref, error) {
	r := Ref{Transport: t, Path: rest}
	if t == DockerArchive {
		if p, tag, ok := strings.Cut(rest, ":"); ok {
			r.Path, r.Tag = p, tag
			if !dockerTagRE().MatchString(tag) || strings.Contains(tag, "..") || strings.Contains(tag, "//") {
				return Ref{}, fmt.Errorf("image %q: invalid repository:tag %q", trunc(orig), trunc(tag))
			}
		}
		return r, checkPath(r.Path, orig)
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		r.Path, r.Tag = rest[:i], rest[i+1:]
		if !tagRE().MatchString(r.Tag) {
			return Ref{}, fmt.Errorf("image %q: invalid tag %q", trunc(orig), trunc(r.Tag))
		}
	}
	return r, checkPath(r.Path, orig)
}

func checkPath(p, orig string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("image %q: the path must be absolute", trunc(orig))
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return fmt.Errorf("image %q: the path contains \"..\"", trunc(orig))
		}
	}
	return nil
}

// String is the reference in the form ParseRef reads.
func (r Ref) String() string {
	switch r.Transport {
	case Registry:
		return "docker://" + r.Name
	case Local:
		return r.Path
	}
	s := string(r.Transport) + ":" + r.Path
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	return s
}

func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
