// Package runc implements runtime.Runtime on the runc binary.
//
// Each task gets a dir <StateDir>/<id>/ holding task.json (the TaskSpec),
// bundle/config.json (the OCI spec, built with runtime-spec's Go types),
// script (owned by the task's user, mode 0500), shim.pid, shim.log,
// started, kill (the Kill marker) and, once the task has ended,
// status.json (written atomically).
//
// The binary re-executes itself in these roles, chosen by Main from the
// base name of argv[0]:
//
//   - "gsched-shim", the per-task supervisor. Start launches it
//     (Options.ShimBinary: /proc/self/exe, or in gnoded the static
//     gsched-init) in its own session, so it survives the node daemon. It
//     is a child subreaper: it runs "runc run --detach", waits for
//     the container's init with wait4, enforces the deadline and Kill (SIGTERM
//     to the init, SIGKILL after the grace), reads the memory cgroup's OOM
//     kill count and peak, deletes the stopped container (itself when
//     runc's state is plain, else with "runc delete"; delete.go), and
//     writes status.json.
//   - "gsched-init" (or ".gsched-init", the base name of /.gsched-init where
//     the host binary is bind-mounted read-only), pid 1 in the container,
//     running as the job's user. It first loads the task's precompiled
//     seccomp filter when there is one (or exits 126). It opens the output
//     files and changes to the working directory as the user, runs the
//     script (bound read-only at /.gsched/script) as its child, forwards
//     SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 and SIGCONT to every
//     process, reaps zombies, and exits with the script's code (128+n if
//     signal n killed it). Errors and the killing signal are reported on
//     its stderr, which is shim.log.
//   - "gsched-seccomp-check": loads the filter file given and prints its
//     seccomp mode; the Runtime checks with it, once, that the init it
//     gives the tasks loads a precompiled filter.
//
// The container's root is a skeleton dir (Options.RootfsDir) in which every
// top-level entry of the host's / except proc, sys, dev, tmp, run and
// lost+found is a recursive read-only bind of the host's (symlinks are
// copied). /tmp and /run are private tmpfs; WritableDirs are read-write
// binds at the same path. There is no network namespace (host network)
// and no user namespace. Tasks run under Docker's default seccomp profile
// when the runc in use supports seccomp, which New asks `runc features`
// once (seccomp.go). runc compiles the profile once per Runtime and
// profile, into a filter that each task's init loads itself (the spec then
// carries no profile; seccompbpf.go, seccompload.go); where that cannot be
// done, the spec carries the profile and runc compiles it per container.
//
// After a restart, a new Runtime over the same StateDir finds tasks again:
// status.json means ended; otherwise a live shim (pid and name recorded in
// shim.pid) means running; otherwise runc's state decides between running
// (an orphan: no supervisor, no deadline) and Lost.
package runc
