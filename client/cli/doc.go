// Package cli implements gsched's user commands — gsub, gqueue, gcancel,
// ginfo, gacct, gshare and ghostnames — on urfave/cli/v2. Each command is a Run function
// (RunGsub, RunGqueue, ...) that takes the argument vector and returns the
// process exit status: 0 on success, 1 on failure, 2 on bad usage. Errors
// are printed as one line on stderr ("gsub: error: ..."), never as a
// stack trace.
//
// Rendering, option merging, spec building and the other decisions are pure
// functions tested without a daemon; the network calls are thin wrappers
// over a Caller (a *rpc.Client in production).
//
// The controller's socket is found as follows: $GSCHED_SOCKET when set,
// else Controller.Socket of the configuration file named by --config, else
// $GSCHED_CONF, else /etc/gsched/gsched.conf (whose absence is not an
// error: the default socket is used then).
package cli
