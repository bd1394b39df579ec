package runc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// skipTopLevel are the host's top-level entries the skeleton does not bind:
// the container gets its own proc, sys, dev, tmp and run.
var skipTopLevel = map[string]bool{
	"proc": true, "sys": true, "dev": true, "tmp": true, "run": true,
	"lost+found": true, ".gsched": true, ".gsched-init": true,
}

// buildSkeleton creates (or completes) the skeleton rootfs at dir: the
// host's top-level symlinks recreated, an empty dir or file for every other
// top-level entry, and proc, sys, dev, tmp (mode 1777), run, .gsched and
// .gsched-init. It returns the read-only binds of the host tree that go
// with it. It never removes anything, so runtimes may share dir.
func buildSkeleton(hostRoot, dir, readOnlyOpt string) ([]specs.Mount, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("skeleton rootfs: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("skeleton rootfs: %w", err)
	}
	entries, err := os.ReadDir(hostRoot)
	if err != nil {
		return nil, fmt.Errorf("skeleton rootfs: %w", err)
	}
	var mounts []specs.Mount
	for _, e := range entries {
		name := e.Name()
		if skipTopLevel[name] {
			continue
		}
		host := filepath.Join(hostRoot, name)
		dst := filepath.Join(dir, name)
		fi, err := os.Lstat(host)
		if err != nil {
			continue // vanished meanwhile
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(host)
			if err != nil {
				return nil, fmt.Errorf("skeleton rootfs: %w", err)
			}
			if err := os.Symlink(target, dst); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("skeleton rootfs: %w", err)
			}
		case fi.IsDir():
			if err := mkdirExist(dst, 0o755); err != nil {
				return nil, fmt.Errorf("skeleton rootfs: %w", err)
			}
			mounts = append(mounts, hostMount("/"+name, true, readOnlyOpt))
		case fi.Mode().IsRegular():
			if err := touch(dst); err != nil {
				return nil, fmt.Errorf("skeleton rootfs: %w", err)
			}
			mounts = append(mounts, hostMount("/"+name, false, "ro"))
		}
	}
	for _, d := range []string{"proc", "sys", "dev", "run", ".gsched"} {
		if err := mkdirExist(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("skeleton rootfs: %w", err)
		}
	}
	// runc gives a tmpfs the mode of the dir under it.
	tmp := filepath.Join(dir, "tmp")
	if err := mkdirExist(tmp, 0o777); err != nil {
		return nil, fmt.Errorf("skeleton rootfs: %w", err)
	}
	if err := os.Chmod(tmp, 0o777|fs.ModeSticky); err != nil {
		return nil, fmt.Errorf("skeleton rootfs: %w", err)
	}
	if err := touch(filepath.Join(dir, ".gsched-init")); err != nil {
		return nil, fmt.Errorf("skeleton rootfs: %w", err)
	}
	sort.Slice(mounts, func(i, j int) bool { return mounts[i].Destination < mounts[j].Destination })
	return mounts, nil
}

func mkdirExist(path string, mode fs.FileMode) error {
	err := os.Mkdir(path, mode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

func touch(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
