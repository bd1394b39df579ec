package api

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
)

// ContainerMount is a host path bind-mounted into a job's image container
// (--container-mounts, --mount). The node checks, as the job's user, that
// the source can be read (and written for a read-write mount).
type ContainerMount struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"read_only,omitempty"`
}

// Limits on container options.
const (
	MaxContainerMounts = 64
	MaxImageRefLen     = 4096
	maxMountPathLen    = 4096
)

// String is the mount in --container-mounts form.
func (m ContainerMount) String() string {
	mode := "rw"
	if m.ReadOnly {
		mode = "ro"
	}
	return m.Source + ":" + m.Destination + ":" + mode
}

// reservedDest are container paths a mount may not cover: gsched's own
// files and the kernel's pseudo filesystems.
var reservedDest = []string{"/proc", "/sys", "/dev", "/.gsched", "/.gsched-init"}

// Validate checks one mount: absolute paths without "..", not the root or
// a path gsched or the kernel provides, one line of text.
func (m ContainerMount) Validate() error {
	for _, p := range []struct{ what, v string }{{"source", m.Source}, {"destination", m.Destination}} {
		switch {
		case p.v == "":
			return fmt.Errorf("mount %s is empty", p.what)
		case len(p.v) > maxMountPathLen:
			return fmt.Errorf("mount %s is longer than %d bytes", p.what, maxMountPathLen)
		case !filepath.IsAbs(p.v):
			return fmt.Errorf("mount %s %q is not an absolute path", p.what, cut(p.v))
		case strings.ContainsFunc(p.v, unicode.IsControl):
			return fmt.Errorf("mount %s %q contains a control character", p.what, cut(p.v))
		}
		for _, el := range strings.Split(p.v, "/") {
			if el == ".." {
				return fmt.Errorf("mount %s %q contains \"..\"", p.what, cut(p.v))
			}
		}
	}
	dst := filepath.Clean(m.Destination)
	if dst == "/" {
		return errors.New("mount destination may not be /")
	}
	for _, r := range reservedDest {
		if dst == r || strings.HasPrefix(dst, r+"/") {
			return fmt.Errorf("mount destination %q is reserved (%s)", cut(dst), r)
		}
	}
	return nil
}

func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// ParseContainerMounts parses Pyxis's --container-mounts value:
// SRC[:DST[:FLAGS]] entries joined with commas, FLAGS being ro or rw
// (default rw). A missing DST is SRC.
func ParseContainerMounts(s string) ([]ContainerMount, error) {
	var out []ContainerMount
	for _, ent := range strings.Split(s, ",") {
		if ent == "" {
			return nil, fmt.Errorf("--container-mounts %q: empty entry", cut(s))
		}
		parts := strings.Split(ent, ":")
		m := ContainerMount{Source: parts[0], Destination: parts[0]}
		switch len(parts) {
		case 1:
		case 2, 3:
			m.Destination = parts[1]
			if len(parts) == 3 {
				switch parts[2] {
				case "ro":
					m.ReadOnly = true
				case "rw":
				default:
					return nil, fmt.Errorf("--container-mounts %q: flag %q is not ro or rw", cut(ent), cut(parts[2]))
				}
			}
		default:
			return nil, fmt.Errorf("--container-mounts %q: use SRC:DST[:ro|rw]", cut(ent))
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("--container-mounts %q: %w", cut(ent), err)
		}
		m.Source, m.Destination = filepath.Clean(m.Source), filepath.Clean(m.Destination)
		out = append(out, m)
	}
	if len(out) > MaxContainerMounts {
		return nil, fmt.Errorf("--container-mounts: more than %d mounts", MaxContainerMounts)
	}
	return out, nil
}

// ParseDockerMount parses one docker-style --mount value:
// type=bind,source=SRC,destination=DST[,readonly]. src and dst (or target)
// are accepted for the paths, ro for readonly, and readonly may be given
// =true or =false.
func ParseDockerMount(s string) (ContainerMount, error) {
	var m ContainerMount
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, hasV := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		switch k {
		case "source", "src":
			k = "source"
		case "destination", "dst", "target":
			k = "destination"
		case "readonly", "ro":
			k = "readonly"
		}
		if seen[k] {
			return m, fmt.Errorf("--mount %q: %q given twice", cut(s), k)
		}
		seen[k] = true
		switch k {
		case "type":
			if v != "bind" {
				return m, fmt.Errorf("--mount %q: only type=bind is supported", cut(s))
			}
		case "source":
			m.Source = v
		case "destination":
			m.Destination = v
		case "readonly":
			switch strings.ToLower(v) {
			case "true", "1":
				m.ReadOnly = true
			case "false", "0":
				m.ReadOnly = false
			default:
				if hasV {
					return m, fmt.Errorf("--mount %q: readonly=%q is not true or false", cut(s), cut(v))
				}
				m.ReadOnly = true
			}
		default:
			return m, fmt.Errorf("--mount %q: unknown key %q (type, source, destination, readonly)", cut(s), cut(k))
		}
	}
	if !seen["type"] {
		return m, fmt.Errorf("--mount %q: type=bind is required", cut(s))
	}
	if err := m.Validate(); err != nil {
		return m, fmt.Errorf("--mount %q: %w", cut(s), err)
	}
	m.Source, m.Destination = filepath.Clean(m.Source), filepath.Clean(m.Destination)
	return m, nil
}

// CheckContainerSpec checks a job's image reference and mounts as the
// controller receives them.
func CheckContainerSpec(image string, mounts []ContainerMount) error {
	if len(image) > MaxImageRefLen {
		return fmt.Errorf("image reference is longer than %d bytes", MaxImageRefLen)
	}
	if strings.ContainsFunc(image, unicode.IsControl) || strings.ContainsFunc(image, unicode.IsSpace) {
		return errors.New("image reference contains a space or control character")
	}
	if len(mounts) > 0 && image == "" {
		return errors.New("container mounts need an image (--image)")
	}
	if len(mounts) > MaxContainerMounts {
		return fmt.Errorf("more than %d container mounts", MaxContainerMounts)
	}
	for _, m := range mounts {
		if err := m.Validate(); err != nil {
			return err
		}
	}
	return nil
}
