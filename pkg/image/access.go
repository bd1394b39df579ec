package image

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Cred is the identity a path is opened as: the job's user.
type Cred struct {
	UID    uint32
	GID    uint32
	Groups []uint32
}

// Access bits, as in a file mode's rwx triplets.
const (
	AccessRead  = 4
	AccessWrite = 2
	AccessExec  = 1
)

// maxSymlinks bounds symlink resolution, as the kernel does (ELOOP).
const maxSymlinks = 40

// ErrAccess is returned when the user may not reach or use a path.
var ErrAccess = errors.New("permission denied for the job's user")

// allowed reports whether c may use an object of mode/uid/gid with the
// access bits want, by its permission bits (owner, then group, then
// others, as the kernel picks the one triplet that applies). Root may do
// anything. ACLs are not consulted: they can only be stricter here when
// they narrow a group entry below the group bits.
func allowed(mode, uid, gid uint32, c Cred, want uint32) bool {
	if c.UID == 0 {
		return true
	}
	var bits uint32
	switch {
	case uid == c.UID:
		bits = mode >> 6
	case gid == c.GID || containsGID(c.Groups, gid):
		bits = mode >> 3
	default:
		bits = mode
	}
	return bits&7&want == want
}

func containsGID(gs []uint32, g uint32) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

// OpenAs opens path (absolute) as c would reach it and returns an O_PATH
// handle on the object it names, after checking search permission on every
// directory on the way (symlinks followed, at most 40) and the access bits
// want on the object itself. The walk holds a file descriptor at each
// step, so renaming or replacing a component meanwhile cannot make it
// check one object and return another: the caller uses the handle
// (/proc/self/fd/N), never the path again.
func OpenAs(path string, c Cred, want uint32) (*os.File, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("open %s: not an absolute path", path)
	}
	fd, err := walk(path, c)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if !allowed(st.Mode&0o7777, st.Uid, st.Gid, c, want) {
		unix.Close(fd)
		return nil, fmt.Errorf("open %s: %w", path, ErrAccess)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// walk resolves path component by component from /, as c.
func walk(path string, c Cred) (int, error) {
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	// stack holds the fds of the directories from / to the current one.
	stack := []int{root}
	closeAll := func() {
		for _, f := range stack {
			unix.Close(f)
		}
	}
	todo := splitPath(path)
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		cur := stack[len(stack)-1]
		switch name {
		case ".":
			continue
		case "..":
			if len(stack) > 1 {
				unix.Close(cur)
				stack = stack[:len(stack)-1]
			}
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstat(cur, &st); err != nil {
			closeAll()
			return -1, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			closeAll()
			return -1, unix.ENOTDIR
		}
		if !allowed(st.Mode&0o7777, st.Uid, st.Gid, c, AccessExec) {
			closeAll()
			return -1, ErrAccess
		}
		fd, err := unix.Openat(cur, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			closeAll()
			return -1, err
		}
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			closeAll()
			return -1, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target, err := readlinkFD(fd)
			unix.Close(fd)
			if err != nil {
				closeAll()
				return -1, err
			}
			if links++; links > maxSymlinks {
				closeAll()
				return -1, unix.ELOOP
			}
			if strings.HasPrefix(target, "/") {
				for _, f := range stack[1:] {
					unix.Close(f)
				}
				stack = stack[:1]
			}
			todo = append(splitPath(target), todo...)
			continue
		}
		stack = append(stack, fd)
	}
	last := stack[len(stack)-1]
	if len(stack) == 1 {
		// The path was "/": hand out a descriptor of its own.
		d, err := unix.Dup(last)
		closeAll()
		return d, err
	}
	for _, f := range stack[:len(stack)-1] {
		unix.Close(f)
	}
	return last, nil
}

func splitPath(p string) []string {
	var out []string
	for _, el := range strings.Split(p, "/") {
		if el != "" {
			out = append(out, el)
		}
	}
	return out
}

// readlinkFD reads the target of the symlink fd (an O_PATH|O_NOFOLLOW
// descriptor).
func readlinkFD(fd int) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	if n >= len(buf) {
		return "", unix.ENAMETOOLONG
	}
	return string(buf[:n]), nil
}

// Reopen opens the object an O_PATH handle names for reading.
func Reopen(f *os.File) (*os.File, error) {
	return os.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
}

// AllowedStat reports whether c may use the object st describes with the
// access bits want (by its permission bits, as OpenAs checks).
func AllowedStat(st *unix.Stat_t, c Cred, want uint32) bool {
	return allowed(st.Mode&0o7777, st.Uid, st.Gid, c, want)
}
