package runc

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/image"
)

// An image task's dir holds, besides the usual files:
const (
	imageRootfsDir  = "rootfs"     // the overlay (or copy) mount point
	imageScratchDir = "scratch"    // upper/ and work/ of the overlay
	imageMountsDir  = "mnt"        // user mounts, bound here first
	imageRecordFile = "image.json" // the layers in use, while mounted
)

// imageRecord is what an image task's rootfs uses: written before the
// rootfs is assembled, removed once it is gone, so that GC keeps those
// layers and a restarted gnoded knows what to clean up.
type imageRecord struct {
	Ref       string   `json:"ref"`
	Layers    []string `json:"layers"`
	Mode      string   `json:"mode,omitempty"`
	Unpacked  int      `json:"unpacked"`
	PrepareMs int64    `json:"prepare_ms"`
}

// isStatic reports whether the ELF file at path has no program
// interpreter (it runs in any rootfs).
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// imageShimArgs pass the image options to a shim.
func (r *Runtime) imageShimArgs() []string {
	args := []string{"-images", r.opts.ImageDir, "-image-cache-size", strconv.FormatInt(r.opts.ImageCacheSize, 10)}
	if r.opts.CopyRootfs {
		args = append(args, "-copy-rootfs")
	}
	return args
}

// imageOpts are a shim's image options.
type imageOpts struct {
	dir        string
	cacheSize  int64
	copyRootfs bool
	held       []*image.Acquired
}

// prepareImage assembles the task's root filesystem from its image and
// completes the bundle's config: the image's env and working dir, the
// user's mounts. It runs in the shim, before runc create; a Kill
// meanwhile stops it.
func (s *shim) prepareImage() error {
	t0 := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// A pull or unpack may be long: watch for Kill.
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, ok := readKill(s.dir); ok {
					cancel()
					return
				}
			}
		}
	}()
	is := s.spec.Image
	ref, err := image.ParseRef(is.Ref)
	if err != nil {
		return err
	}
	cache, err := image.OpenCache(s.img.dir, s.img.cacheSize)
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.img.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("image cache: %w", err)
	}
	cred := image.Cred{UID: s.spec.UID, GID: s.spec.GID, Groups: s.spec.Groups}
	src, err := image.Open(ctx, ref, cred, tmp)
	if err != nil {
		return err
	}
	defer src.Close()
	rec := imageRecord{Ref: is.Ref}
	var dirs []string
	for _, l := range src.Layers {
		a, err := cache.Acquire(ctx, l)
		if err != nil {
			return err
		}
		s.img.held = append(s.img.held, a)
		rec.Layers = append(rec.Layers, a.Key)
		dirs = append(dirs, a.Dir)
		if a.Unpacked {
			rec.Unpacked++
			s.log.Printf("image %s: unpacked layer %s (%d KiB) in %v", is.Ref, a.Key, a.Bytes>>10, a.Took.Round(time.Millisecond))
		}
	}
	recPath := filepath.Join(s.dir, imageRecordFile)
	if err := writeJSONAtomic(recPath, rec); err != nil {
		return fmt.Errorf("image record: %w", err)
	}
	rootfs := filepath.Join(s.dir, imageRootfsDir)
	if rec.Mode, err = image.MountRootfs(dirs, filepath.Join(s.dir, imageScratchDir), rootfs, s.img.copyRootfs); err != nil {
		return err
	}
	if err := os.Chmod(rootfs, 0o755); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	spec, err := s.readBundle()
	if err != nil {
		return err
	}
	if err := s.userMounts(spec, cred); err != nil {
		return err
	}
	spec.Process.Env = mergeImageEnv(src.Config.Env, spec.Process.Env)
	if wd := src.Config.WorkingDir; is.UseWorkdir && wd != "" && filepath.IsAbs(wd) {
		if err := mkdirIn(rootfs, wd); err != nil {
			return fmt.Errorf("image working dir %s: %w", wd, err)
		}
		setInitCwd(spec.Process.Args, filepath.Clean(wd))
	}
	if err := writeJSONAtomic(filepath.Join(s.dir, bundleDir, "config.json"), spec); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	rec.PrepareMs = time.Since(t0).Milliseconds()
	if err := writeJSONAtomic(recPath, rec); err != nil {
		return fmt.Errorf("image record: %w", err)
	}
	s.log.Printf("image %s: %d layers (%d unpacked), rootfs by %s in %v", is.Ref, len(dirs), rec.Unpacked, rec.Mode, time.Since(t0).Round(time.Millisecond))
	s.gcImages(cache)
	return nil
}

func (s *shim) readBundle() (*specs.Spec, error) {
	var spec specs.Spec
	if err := readJSON(filepath.Join(s.dir, bundleDir, "config.json"), &spec); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if spec.Process == nil {
		return nil, errors.New("bundle: no process")
	}
	return &spec, nil
}

// userMounts binds each user mount's source, opened as the user (who must
// be able to read it, and write it for a read-write mount), onto a
// staging point in the task dir, and adds that to the container's mounts.
// Binding the checked descriptor means a path swapped after the check
// binds nothing else.
func (s *shim) userMounts(spec *specs.Spec, cred image.Cred) error {
	if len(s.spec.Image.Mounts) == 0 {
		return nil
	}
	stage := filepath.Join(s.dir, imageMountsDir)
	if err := os.MkdirAll(stage, 0o700); err != nil {
		return fmt.Errorf("mounts: %w", err)
	}
	for i, m := range s.spec.Image.Mounts {
		want := uint32(image.AccessRead)
		if !m.ReadOnly {
			want |= image.AccessWrite
		}
		h, err := image.OpenAs(m.Source, cred, want)
		if err != nil {
			return fmt.Errorf("mount %s: %w", m.Source, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(int(h.Fd()), &st)
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if err == nil && isDir && !image.AllowedStat(&st, cred, image.AccessExec) {
			err = fmt.Errorf("search: %w", image.ErrAccess)
		}
		point := filepath.Join(stage, strconv.Itoa(i))
		if err == nil {
			if isDir {
				err = os.Mkdir(point, 0o700)
			} else {
				err = touch(point)
			}
		}
		if err == nil {
			err = unix.Mount(fmt.Sprintf("/proc/self/fd/%d", h.Fd()), point, "", unix.MS_BIND|unix.MS_REC, "")
		}
		h.Close()
		if err != nil {
			return fmt.Errorf("mount %s: %w", m.Source, err)
		}
		opts := []string{"rbind", "rw", "nosuid", "nodev"}
		if m.ReadOnly {
			opts[1] = "ro"
		}
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: m.Destination, Type: "bind", Source: point, Options: opts})
	}
	return nil
}

// mergeImageEnv puts the image's variables under the job's: the job's
// win, except PATH, which is the image's when it sets one (the host's
// PATH names host directories the image need not have).
func mergeImageEnv(img, job []string) []string {
	b := make(map[string]int, len(job))
	out := make([]string, 0, len(job)+len(img))
	for _, kv := range job {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := b[k]; ok {
			out[i] = kv
			continue
		}
		b[k] = len(out)
		out = append(out, kv)
	}
	for _, kv := range img {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		i, have := b[k]
		switch {
		case !have:
			b[k] = len(out)
			out = append(out, kv)
		case k == "PATH":
			out[i] = kv
		}
	}
	return out
}

// setInitCwd changes the working dir the init is given (-cwd).
func setInitCwd(args []string, cwd string) {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-cwd" {
			args[i+1] = cwd
			return
		}
	}
}

// mkdirIn creates dir (absolute, inside the container) under rootfs,
// confined to it.
func mkdirIn(rootfs, dir string) error {
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	rel := strings.TrimPrefix(filepath.Clean(dir), "/")
	if rel == "" {
		return nil
	}
	return root.MkdirAll(rel, 0o755)
}

// releaseImage undoes prepareImage once the container is gone: unmounts
// and removes the rootfs, its upper dir and the user mounts, drops the
// task's hold on its layers and collects the cache.
func (s *shim) releaseImage() {
	if err := cleanupImage(s.dir); err != nil {
		s.log.Printf("clean up image rootfs: %v", err)
	}
	for _, a := range s.img.held {
		a.Release()
	}
	s.img.held = nil
	if cache, err := image.OpenCache(s.img.dir, s.img.cacheSize); err == nil {
		s.gcImages(cache)
	}
}

// gcImages brings the cache back under its size, keeping the layers named
// by any task's image record (besides those held by running shims).
func (s *shim) gcImages(cache *image.Cache) {
	removed, left, err := cache.GC(recordedLayers(filepath.Dir(s.dir)))
	if err != nil {
		s.log.Printf("image cache gc: %v", err)
	}
	if len(removed) > 0 {
		s.log.Printf("image cache gc: removed %d layers, %d MiB left", len(removed), left>>20)
	}
}

// recordedLayers are the layers named by image records under stateDir.
func recordedLayers(stateDir string) map[string]bool {
	keep := map[string]bool{}
	recs, _ := filepath.Glob(filepath.Join(stateDir, "*", imageRecordFile))
	for _, p := range recs {
		var rec imageRecord
		if readJSON(p, &rec) == nil {
			for _, l := range rec.Layers {
				keep[l] = true
			}
		}
	}
	return keep
}

// cleanupImage unmounts everything under an (image) task dir and removes
// the rootfs, upper and mount dirs and the image record. It removes
// nothing while a mount is left. A task dir without them is left as is.
func cleanupImage(dir string) error {
	if err := image.Unmount(dir); err != nil {
		return err
	}
	for _, d := range []string{imageRootfsDir, imageScratchDir, imageMountsDir} {
		if err := os.RemoveAll(filepath.Join(dir, d)); err != nil {
			return fmt.Errorf("clean up %s: %w", d, err)
		}
	}
	if err := os.Remove(filepath.Join(dir, imageRecordFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clean up: %w", err)
	}
	return nil
}

// cleanupEndedImages cleans up image tasks that ended while no shim could
// (gnoded restarted after a shim died half-way through its cleanup).
func (r *Runtime) cleanupEndedImages() {
	recs, _ := filepath.Glob(filepath.Join(r.opts.StateDir, "*", imageRecordFile))
	for _, p := range recs {
		dir := filepath.Dir(p)
		if _, ok, _ := readStatus(dir); !ok {
			continue // running, or its shim will record it
		}
		if err := cleanupImage(dir); err != nil {
			r.log.Warn("clean up the image rootfs of an ended task", zap.String("task", filepath.Base(dir)), zap.Error(err))
		}
	}
}
