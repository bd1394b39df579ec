package runc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The in-container side of the precompiled seccomp filter (seccompbpf.go
// is the host side). When the task dir holds seccompFile, the spec has no
// linux.seccomp: runc loads no filter, and the init must load this one
// before anything of the user's runs, or fail the task.

// seccompFile is the task dir's precompiled filter: the classic-BPF
// program (struct sock_filter array, native byte order) that runc's
// libseccomp made of the spec's profile.
const seccompFile = "seccomp.bpf"

// seccompPath is where the init finds it in the container (the task dir is
// bound read-only at taskMount). A step's init finds its container's.
const seccompPath = taskMount + "/" + seccompFile

// bpfMaxInsns is the kernel's limit on a classic-BPF program (BPF_MAXINSNS).
const bpfMaxInsns = 4096

// loadTaskSeccomp loads the container's precompiled filter, if it has one,
// into every thread of this process; the processes it starts inherit it.
// It returns nil only when the filter is loaded or there is none. Nothing
// of the user's may run if it fails: the init then exits.
func loadTaskSeccomp(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // runc loaded the profile, or seccomp is off
	}
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	return loadSeccompProgram(b)
}

// decodeBPF checks a classic-BPF program's size and returns its
// instructions; the kernel checks the rest when it loads it.
func decodeBPF(b []byte) ([]unix.SockFilter, error) {
	const insn = int(unsafe.Sizeof(unix.SockFilter{}))
	if len(b) == 0 || len(b)%insn != 0 || len(b)/insn > bpfMaxInsns {
		return nil, fmt.Errorf("seccomp: bad filter: %d bytes", len(b))
	}
	prog := make([]unix.SockFilter, len(b)/insn)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), len(b)), b)
	return prog, nil
}

// loadSeccompProgram loads b with SECCOMP_FILTER_FLAG_TSYNC: the kernel
// puts the filter on all of the process's threads at once (the Go runtime
// has several by now) or on none, and then fails.
func loadSeccompProgram(b []byte) error {
	prog, err := decodeBPF(b)
	if err != nil {
		return err
	}
	// runc sets no_new_privs (process.noNewPrivileges); without it an
	// unprivileged process may not load a filter. Setting it again is a
	// no-op.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("seccomp: no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	switch {
	case errno != 0:
		return fmt.Errorf("seccomp: load filter: %w", errno)
	case r != 0:
		// With TSYNC, a positive return is a thread that could not take
		// the filter; no thread has it then.
		return fmt.Errorf("seccomp: load filter: thread %d cannot take it", r)
	}
	return nil
}
