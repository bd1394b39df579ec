// Package runtime is the node daemon's view of a container runtime: start a
// job task, learn how it ended, signal it, clean it up, and find tasks again
// after the node daemon restarts. The runc implementation lives in
// pkg/runtime/runc, a scripted in-memory one for tests in pkg/runtime/fake.
package runtime

import (
	"context"
	"errors"
	"syscall"
	"time"
)

// ErrNotFound is returned for a task ID the runtime does not know.
var ErrNotFound = errors.New("task not found")

// ErrExists is returned by Start for a task ID already started.
var ErrExists = errors.New("task already exists")

// Device is a device node the task may use (a GPU and its control devices).
type Device struct {
	// Path is the device node inside the container (e.g. /dev/nvidia0).
	Path string
	// HostPath is the node on the host; it may differ from Path for fake
	// devices. The runtime reads type/major/minor from it when Major is 0.
	HostPath string
	Type     rune // 'c' or 'b'
	Major    int64
	Minor    int64
	// CDI lists, comma-separated, the names the device may have in the
	// node's CDI specs ("nvidia.com/gpu=0,nvidia.com/gpu=GPU-<uuid>"). An
	// image task gets the first that a spec defines through CDI (its
	// device nodes, mounts, env and hooks) instead of the plain node
	// above. (A string keeps Device comparable.)
	CDI string `json:",omitempty"`
}

// ImageSpec runs a task from an OCI image (pkg/image) instead of the
// host's read-only root filesystem.
type ImageSpec struct {
	// Ref is the image reference (image.ParseRef).
	Ref string
	// Mounts are bind mounts of host paths, checked as the task's user.
	Mounts []Mount `json:",omitempty"`
	// UseWorkdir starts the task in the image's WorkingDir, when it has
	// one, instead of Cwd (the job gave no --chdir).
	UseWorkdir bool `json:",omitempty"`
}

// Mount is a host path bind-mounted into an image task.
type Mount struct {
	Source      string
	Destination string
	ReadOnly    bool `json:",omitempty"`
}

// TaskSpec is everything needed to run one job task in a container.
type TaskSpec struct {
	// ID is unique on the node and valid as a runc container ID.
	ID    string
	JobID uint64

	// The process runs as this user, never as root on a user's behalf.
	UID    uint32
	GID    uint32
	Groups []uint32

	// Script is written to a file owned by UID, mode 0500, and executed
	// with Args (the script must start with "#!").
	Script []byte
	Args   []string
	Env    []string
	// Cwd is the absolute working directory (normally the submit dir).
	Cwd string

	// Stdout and Stderr are absolute host paths, opened (created) by the
	// task's user inside the container; Stderr == Stdout is allowed.
	Stdout string
	Stderr string
	Append bool

	// WritableDirs are host directories bind-mounted read-write at the
	// same path (home, submit dir, output dirs); the rest of the host's
	// filesystem is read-only, /tmp is private.
	WritableDirs []string

	// Resources.
	CPUs        float64 // CPU quota in CPUs (0 = unlimited)
	CPUSet      string  // optional cpuset ("0-3")
	MemoryBytes int64   // hard limit (0 = unlimited)
	PidsLimit   int64   // 0 = unlimited
	Devices     []Device

	// Image, when set, runs the task from an OCI image: its layers as
	// the root filesystem (with a writable layer of the task's own), its
	// Env under Env, the WritableDirs bound in as on the host.
	Image *ImageSpec `json:",omitempty"`

	// Files are written read-only into the task's directory, which the
	// container sees at /.gsched (a multi-node job's hostfile).
	Files map[string]string `json:",omitempty"`

	// ExecIn, when set, makes the task a further process of that running
	// task's container (a job step: runc exec): it joins the
	// container's namespaces and cgroup, so Devices, resources,
	// WritableDirs and Deadline are the container's and are ignored
	// here. Argv is then the command (looked up in PATH) instead of
	// Script.
	ExecIn string   `json:",omitempty"`
	Argv   []string `json:",omitempty"`
	// IOAddr and IOToken, when set, send the task's stdout and stderr to
	// a grun listening there (pkg/stepio), as rank Rank, instead of the
	// Stdout and Stderr files.
	IOAddr  string `json:",omitempty"`
	IOToken string `json:",omitempty"`
	Rank    int    `json:",omitempty"`
	// TTY, with IOAddr, runs the step task on a pseudo-terminal relayed
	// to grun (its input, output and window size); TTYRows and TTYCols
	// are the initial window size (0: unset).
	TTY              bool   `json:",omitempty"`
	TTYRows, TTYCols uint16 `json:",omitempty"`

	// TimeLimit, when non-zero, is enforced by the task's supervisor
	// from Deadline: SIGTERM to every process, then SIGKILL after
	// KillGrace. The supervisor keeps enforcing it while the node
	// daemon is down.
	Deadline  time.Time
	KillGrace time.Duration
}

// Status is what the runtime knows of a task.
type Status struct {
	ID      string
	JobID   uint64
	Running bool
	// The fields below are valid once Running is false.
	ExitCode  int
	Signal    int  // the signal that killed the job's main process, if any
	OOMKilled bool // the memory cgroup recorded at least one OOM kill
	TimedOut  bool // the supervisor enforced the deadline
	// MaxMemBytes is the peak memory charged to the task's cgroup
	// (resident memory and page cache: what its limit applies to), 0
	// when unknown.
	MaxMemBytes int64
	Killed      bool // stopped through Kill (cancel)
	// Lost: the runtime has no record of how the task ended.
	Lost       bool
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Runtime runs job tasks. Every method is safe for concurrent use.
type Runtime interface {
	// Start launches the task and returns once it has been handed to its
	// supervisor (not when it ends). A task that cannot be started is
	// still recorded, ending with a non-empty Error.
	Start(ctx context.Context, spec TaskSpec) error
	// Status reports a task's state without blocking.
	Status(ctx context.Context, id string) (Status, error)
	// Wait blocks until the task ends or ctx is done.
	Wait(ctx context.Context, id string) (Status, error)
	// Signal delivers sig to every process of the task.
	Signal(ctx context.Context, id string, sig syscall.Signal) error
	// Kill stops the task: SIGTERM to every process, SIGKILL after grace.
	// The task's status records Killed.
	Kill(ctx context.Context, id string, grace time.Duration) error
	// Destroy removes an ended task's records; a running task is killed
	// first.
	Destroy(ctx context.Context, id string) error
	// List returns every task the runtime has a record of, running or
	// ended, including those started before the node daemon restarted.
	List(ctx context.Context) ([]Status, error)
}
