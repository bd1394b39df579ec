package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Layer is what the cache needs of an image layer (v1.Layer has both).
type Layer interface {
	// DiffID is the digest of the uncompressed tar ("sha256:...").
	DiffID() (string, error)
	// Uncompressed opens the layer's tar stream.
	Uncompressed() (io.ReadCloser, error)
}

// Cache holds unpacked layers under Dir/layers, one dir per diff ID:
//
//	layers/sha256-HEX/       the layer, in overlayfs form (ready once renamed here)
//	layers/sha256-HEX.size   its size in bytes
//	layers/sha256-HEX.use    flock: shared while a job uses it; mtime = last use
//	layers/sha256-HEX.unpack flock: exclusive while being unpacked
//	layers/tmp-sha256-HEX-*  an unpack in progress
type Cache struct {
	dir   string
	limit int64
}

// Acquired is a layer pinned in the cache: its dir stays until Release
// (or the process exits).
type Acquired struct {
	Key      string // "sha256-HEX"
	Dir      string
	Unpacked bool          // this call unpacked it
	Took     time.Duration // the unpack's duration
	Bytes    int64
	use      *os.File
}

// Release unpins the layer.
func (a *Acquired) Release() {
	if a.use != nil {
		_ = a.use.Close() // drops the shared lock
		a.use = nil
	}
}

// OpenCache opens (creating) the cache at dir; limit is its size in bytes
// that GC brings it back under (0 = no limit).
func OpenCache(dir string, limit int64) (*Cache, error) {
	if err := os.MkdirAll(filepath.Join(dir, "layers"), 0o700); err != nil {
		return nil, fmt.Errorf("image cache: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("image cache: %w", err)
	}
	return &Cache{dir: dir, limit: limit}, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// Key is the cache's name for a diff ID ("sha256:HEX" -> "sha256-HEX").
func Key(diffID string) (string, error) {
	algo, hexs, ok := strings.Cut(diffID, ":")
	if !ok || algo != "sha256" || len(hexs) != 64 || strings.Trim(hexs, "0123456789abcdef") != "" {
		return "", fmt.Errorf("layer digest %q is not sha256:<64 hex digits>", trunc(diffID))
	}
	return algo + "-" + hexs, nil
}

func (c *Cache) path(key, suffix string) string {
	return filepath.Join(c.dir, "layers", key+suffix)
}

// Acquire pins the layer and returns its dir, unpacking it first unless
// it is there: concurrent callers (in any process) wait for one unpack.
func (c *Cache) Acquire(ctx context.Context, l Layer) (*Acquired, error) {
	diffID, err := l.DiffID()
	if err != nil {
		return nil, fmt.Errorf("layer digest: %w", err)
	}
	key, err := Key(diffID)
	if err != nil {
		return nil, err
	}
	a := &Acquired{Key: key, Dir: c.path(key, "")}
	// The shared use lock first: GC removes only what it can lock
	// exclusively, so from here on the layer cannot go away.
	if a.use, err = lockFile(ctx, c.path(key, ".use"), unix.LOCK_SH); err != nil {
		return nil, fmt.Errorf("layer %s: %w", key, err)
	}
	now := time.Now()
	_ = os.Chtimes(c.path(key, ".use"), now, now)
	if ready(a.Dir) {
		a.Bytes = c.size(key)
		return a, nil
	}
	if err := c.unpack(ctx, l, diffID, a); err != nil {
		a.Release()
		return nil, fmt.Errorf("layer %s: %w", key, err)
	}
	return a, nil
}

func ready(dir string) bool {
	fi, err := os.Lstat(dir)
	return err == nil && fi.IsDir()
}

func (c *Cache) unpack(ctx context.Context, l Layer, diffID string, a *Acquired) error {
	lk, err := lockFile(ctx, c.path(a.Key, ".unpack"), unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer lk.Close()
	if ready(a.Dir) { // another process unpacked it meanwhile
		a.Bytes = c.size(a.Key)
		return nil
	}
	// Leftovers of an unpack that died: nobody else may unpack this key
	// while we hold the lock.
	old, _ := filepath.Glob(filepath.Join(c.dir, "layers", "tmp-"+a.Key+"-*"))
	for _, o := range old {
		_ = os.RemoveAll(o)
	}
	tmp, err := os.MkdirTemp(filepath.Join(c.dir, "layers"), "tmp-"+a.Key+"-")
	if err != nil {
		return err
	}
	t0 := time.Now()
	rc, err := l.Uncompressed()
	if err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("open: %w", err)
	}
	st, err := unpackLayer(ctxReader{ctx, rc}, tmp, diffID)
	rc.Close()
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err == nil {
		err = os.WriteFile(c.path(a.Key, ".size"), []byte(strconv.FormatInt(st.Bytes, 10)), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, a.Dir)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	a.Unpacked, a.Took, a.Bytes = true, time.Since(t0), st.Bytes
	return nil
}

// ctxReader stops a long unpack when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

func (c *Cache) size(key string) int64 {
	b, err := os.ReadFile(c.path(key, ".size"))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// lockFile opens path (creating it) and flocks it, retrying until ctx
// ends while another holder is in the way.
func lockFile(ctx context.Context, path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", filepath.Base(path), err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", filepath.Base(path), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// LayerInfo describes a cached layer.
type LayerInfo struct {
	Key      string
	Bytes    int64
	LastUsed time.Time
}

// Layers lists the cached (ready) layers, least recently used first.
func (c *Cache) Layers() ([]LayerInfo, error) {
	entries, err := os.ReadDir(filepath.Join(c.dir, "layers"))
	if err != nil {
		return nil, fmt.Errorf("image cache: %w", err)
	}
	var out []LayerInfo
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "sha256-") {
			continue
		}
		li := LayerInfo{Key: e.Name(), Bytes: c.size(e.Name())}
		if fi, err := os.Stat(c.path(e.Name(), ".use")); err == nil {
			li.LastUsed = fi.ModTime()
		}
		out = append(out, li)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastUsed.Equal(out[j].LastUsed) {
			return out[i].LastUsed.Before(out[j].LastUsed)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// GC removes least recently used layers that no job uses until the cache
// is within its limit. A layer is in use while some process holds its use
// lock, or while keep names it (the layers of task records whose
// supervisor died). It returns the keys removed and the size left.
func (c *Cache) GC(keep map[string]bool) ([]string, int64, error) {
	if c.limit <= 0 {
		return nil, 0, nil
	}
	gl, err := lockFile(context.Background(), filepath.Join(c.dir, "gc.lock"), unix.LOCK_EX)
	if err != nil {
		return nil, 0, fmt.Errorf("image cache gc: %w", err)
	}
	defer gl.Close()
	layers, err := c.Layers()
	if err != nil {
		return nil, 0, err
	}
	var total int64
	for _, l := range layers {
		total += l.Bytes
	}
	var removed []string
	for _, l := range layers {
		if total <= c.limit {
			break
		}
		if keep[l.Key] {
			continue
		}
		f, err := os.OpenFile(c.path(l.Key, ".use"), os.O_CREATE|os.O_RDONLY, 0o600)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			f.Close()
			continue // in use
		}
		err = removeLayer(c.path(l.Key, ""))
		if err == nil {
			_ = os.Remove(c.path(l.Key, ".size"))
			total -= l.Bytes
			removed = append(removed, l.Key)
		}
		f.Close()
		if err != nil {
			return removed, total, fmt.Errorf("image cache gc: %w", err)
		}
	}
	return removed, total, nil
}

// removeLayer renames the layer out of the way first, so that a crash
// half-way never leaves a partial layer under its ready name.
func removeLayer(dir string) error {
	trash := filepath.Join(filepath.Dir(dir), "tmp-"+filepath.Base(dir)+"-gc")
	if err := os.Rename(dir, trash); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.RemoveAll(trash)
}
