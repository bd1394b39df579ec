package image

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Rootfs modes.
const (
	ModeOverlay = "overlay"
	ModeCopy    = "copy"
)

// MountRootfs assembles a job's root filesystem at target from the layer
// dirs (lowest first): an overlayfs mount with upper and work dirs under
// scratch, or, when overlayfs is refused (or forceCopy), a copy of the
// layers into target with their whiteouts applied. It returns the mode
// used. target and scratch are created.
func MountRootfs(layers []string, scratch, target string, forceCopy bool) (string, error) {
	if len(layers) == 0 {
		return "", errors.New("rootfs: the image has no layers")
	}
	for _, d := range []string{target, scratch} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", fmt.Errorf("rootfs: %w", err)
		}
	}
	if !forceCopy {
		err := mountOverlay(layers, scratch, target)
		if err == nil {
			return ModeOverlay, nil
		}
		if !errors.Is(err, errNoOverlay) {
			return "", err
		}
	}
	if err := copyLayers(layers, target); err != nil {
		return "", err
	}
	return ModeCopy, nil
}

var errNoOverlay = errors.New("overlayfs is unavailable")

func mountOverlay(layers []string, scratch, target string) error {
	upper, work := filepath.Join(scratch, "upper"), filepath.Join(scratch, "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	lower := make([]string, 0, len(layers))
	for i := len(layers) - 1; i >= 0; i-- { // overlayfs lists the top first
		if strings.ContainsAny(layers[i], ":,\\") {
			return fmt.Errorf("rootfs: layer path %q holds ':', ',' or '\\'", layers[i])
		}
		lower = append(lower, layers[i])
	}
	opts := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work
	if len(opts) >= os.Getpagesize() {
		return fmt.Errorf("rootfs: %d layers make the overlay options too long: %w", len(layers), errNoOverlay)
	}
	if err := unix.Mount("overlay", target, "overlay", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) {
			return fmt.Errorf("rootfs: mount overlay: %v: %w", err, errNoOverlay)
		}
		return fmt.Errorf("rootfs: mount overlay: %w", err)
	}
	return nil
}

// copyLayers applies the layers in order into target, interpreting the
// overlayfs whiteouts (0:0 devices, opaque dirs) as overlayfs would.
func copyLayers(layers []string, target string) error {
	dst, err := os.OpenRoot(target)
	if err != nil {
		return fmt.Errorf("rootfs copy: %w", err)
	}
	defer dst.Close()
	for _, l := range layers {
		err := filepath.WalkDir(l, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(l, p)
			if err != nil || rel == "." {
				return err
			}
			return copyEntry(dst, p, rel)
		})
		if err != nil {
			return fmt.Errorf("rootfs copy %s: %w", filepath.Base(l), err)
		}
	}
	return nil
}

func copyEntry(dst *os.Root, src, rel string) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return err
	}
	typ := st.Mode & unix.S_IFMT
	if typ == unix.S_IFCHR && st.Rdev == 0 { // whiteout
		return dst.RemoveAll(rel)
	}
	existing, lerr := dst.Lstat(rel)
	if lerr == nil && !(existing.IsDir() && typ == unix.S_IFDIR) {
		if err := dst.RemoveAll(rel); err != nil {
			return err
		}
	}
	switch typ {
	case unix.S_IFDIR:
		if v, err := getxattr(src, opaqueXattr); err == nil && v == "y" && lerr == nil && existing.IsDir() {
			// Opaque: nothing of the lower layers shows through.
			if err := dst.RemoveAll(rel); err != nil {
				return err
			}
		}
		if err := dst.Mkdir(rel, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case unix.S_IFREG:
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		out, err := dst.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			_, err = io.Copy(out, in)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		in.Close()
		if err != nil {
			return err
		}
	case unix.S_IFLNK:
		t, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := dst.Symlink(t, rel); err != nil {
			return err
		}
		return dst.Lchown(rel, int(st.Uid), int(st.Gid))
	case unix.S_IFIFO:
		return withDir(dst, filepath.Dir(rel), func(fd int) error {
			return unix.Mkfifoat(fd, filepath.Base(rel), st.Mode&0o777)
		})
	default:
		return nil
	}
	if err := dst.Lchown(rel, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	return dst.Chmod(rel, fileMode(st.Mode))
}

// fileMode converts a stat mode's permission and special bits.
func fileMode(m uint32) fs.FileMode {
	fm := fs.FileMode(m & 0o777)
	if m&unix.S_ISUID != 0 {
		fm |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		fm |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		fm |= fs.ModeSticky
	}
	return fm
}

func getxattr(path, name string) (string, error) {
	buf := make([]byte, 16)
	n, err := unix.Lgetxattr(path, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// Mounts returns the mount points at or under dir, deepest first, from
// /proc/self/mountinfo.
func Mounts(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir = filepath.Clean(dir)
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range []byte(s[i+1 : i+4]) {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + c - '0'
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Unmount detaches every mount at or under dir (deepest first) and
// checks that none is left, so that removing dir afterwards can never
// reach into a bind-mounted host directory.
func Unmount(dir string) error {
	for range 3 {
		mps, err := Mounts(dir)
		if err != nil {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
		if len(mps) == 0 {
			return nil
		}
		for _, mp := range mps {
			if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("unmount %s: %w", mp, err)
			}
		}
	}
	mps, err := Mounts(dir)
	if err == nil && len(mps) > 0 {
		err = fmt.Errorf("%d mounts remain", len(mps))
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	return nil
}

// Cleanup unmounts everything under dir and then removes dir; it refuses
// to remove anything while a mount is left.
func Cleanup(dir string) error {
	if err := Unmount(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("cleanup %s: %w", dir, err)
	}
	return nil
}
