package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// OCI whiteout names and the overlayfs attribute for opaque directories.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
)

// unpackStats counts what unpackLayer wrote.
type unpackStats struct {
	Bytes     int64 // regular file bytes plus a block per other entry
	Entries   int
	Whiteouts int
	Skipped   int // device nodes, which a layer may not bring
}

// entryCost is what a non-file entry is counted as in the cache's size.
const entryCost = 512

// unpackLayer extracts an uncompressed layer tar into dir (empty, owned
// by root), every path confined to dir (os.Root: no "..", no symlink
// leads out), whiteouts converted to overlayfs form. When diffID is set
// ("sha256:..."), the stream must hash to it.
func unpackLayer(r io.Reader, dir, diffID string) (unpackStats, error) {
	var st unpackStats
	var h hash.Hash
	if diffID != "" {
		if !strings.HasPrefix(diffID, "sha256:") {
			return st, fmt.Errorf("layer %s: only sha256 digests are supported", diffID)
		}
		h = sha256.New()
		r = io.TeeReader(r, h)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return st, fmt.Errorf("unpack: %w", err)
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, fmt.Errorf("unpack: read tar: %w", err)
		}
		if err := unpackEntry(root, tr, hdr, &st); err != nil {
			return st, fmt.Errorf("unpack %s: %w", trunc(hdr.Name), err)
		}
	}
	if h != nil {
		// The tar's end-of-archive blocks and padding count too.
		if _, err := io.Copy(io.Discard, r); err != nil {
			return st, fmt.Errorf("unpack: %w", err)
		}
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID {
			return st, fmt.Errorf("unpack: layer content is %s, not %s", got, diffID)
		}
	}
	return st, nil
}

func unpackEntry(root *os.Root, tr *tar.Reader, hdr *tar.Header, st *unpackStats) error {
	name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
	if name == "" {
		return nil // the layer's root dir
	}
	dir, base := path.Dir(name), path.Base(name)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	st.Entries++
	if base == whiteoutOpaque {
		st.Whiteouts++
		return withDir(root, dir, func(fd int) error {
			return unix.Fsetxattr(fd, opaqueXattr, []byte("y"), 0)
		})
	}
	if target, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		st.Whiteouts++
		if err := root.RemoveAll(path.Join(dir, target)); err != nil {
			return err
		}
		return withDir(root, dir, func(fd int) error {
			return unix.Mknodat(fd, target, unix.S_IFCHR, 0)
		})
	}
	// A later entry replaces an earlier one, except dir over dir.
	if fi, err := root.Lstat(name); err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
		if err := root.RemoveAll(name); err != nil {
			return err
		}
	}
	mode := hdr.FileInfo().Mode()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := root.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		st.Bytes += entryCost
	case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old archives still use TypeRegA
		f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		st.Bytes += n + entryCost
	case tar.TypeSymlink:
		st.Bytes += entryCost
		if err := root.Symlink(hdr.Linkname, name); err != nil {
			return err
		}
		return root.Lchown(name, hdr.Uid, hdr.Gid)
	case tar.TypeLink:
		target := strings.TrimPrefix(path.Clean("/"+hdr.Linkname), "/")
		st.Bytes += entryCost
		return root.Link(target, name)
	case tar.TypeFifo:
		st.Bytes += entryCost
		if err := withDir(root, dir, func(fd int) error { return unix.Mkfifoat(fd, base, 0o600) }); err != nil {
			return err
		}
	case tar.TypeChar, tar.TypeBlock:
		// The container's /dev is a tmpfs of its own; a device node in
		// an image is of no use and could be one the host must guard.
		st.Skipped++
		st.Entries--
		return nil
	default:
		st.Skipped++
		st.Entries--
		return nil
	}
	if err := root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	// After the chown, which clears setuid bits.
	if err := root.Chmod(name, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	if !hdr.ModTime.IsZero() {
		_ = root.Chtimes(name, hdr.ModTime, hdr.ModTime)
	}
	return nil
}

// withDir calls fn with a descriptor of the directory dir inside root.
func withDir(root *os.Root, dir string, fn func(fd int) error) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w", dir, unix.ENOTDIR)
	}
	return fn(int(d.Fd()))
}
