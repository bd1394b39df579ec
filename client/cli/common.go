package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/rpc"
)

// Environment variables that choose how to reach the controller.
const (
	// EnvSocket, when set, gives the controller's socket path and
	// overrides the configuration file.
	EnvSocket = "GSCHED_SOCKET"
	// EnvToken holds a token from `gcontrol token`; when set, the
	// commands talk to the controller over TCP (remote use).
	EnvToken = "GSCHED_TOKEN"
	// EnvController gives the controller's user TCP address for remote
	// use (default: the configuration's controller.user_address).
	EnvController = "GSCHED_CONTROLLER"
	// EnvTLSCA names the CA certificate that checks the controller's
	// certificate for remote use (default: the configuration's tls.ca;
	// without either, remote commands talk plain TCP).
	EnvTLSCA = "GSCHED_TLS_CA"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// callTimeout bounds an ordinary RPC.
const callTimeout = 30 * time.Second

func init() {
	// The commands define their own --help (and gqueue/ginfo use -h for
	// --noheader, as squeue and sinfo do), so urfave/cli's built-in help
	// check must only look at "help".
	ucli.HelpFlag = &ucli.BoolFlag{Name: "help", Usage: "show help"}
}

// Caller sends one RPC; *rpc.Client implements it.
type Caller interface {
	Call(ctx context.Context, path string, req, resp any) error
}

var _ Caller = (*rpc.Client)(nil)

// Env is what the commands take from the process: streams, environment,
// clock and the way to reach the controller. Tests replace its fields.
type Env struct {
	Stdin    io.Reader
	Stdout   io.Writer
	Stderr   io.Writer
	Getenv   func(string) string
	Environ  func() []string
	Getwd    func() (string, error)
	Hostname func() (string, error)
	Now      func() time.Time
	// Dial returns a Caller for the controller's Unix socket.
	Dial func(socket string) Caller
	// DialToken returns a Caller for the controller's user TCP address
	// (with HA, a comma-separated list to fail over along) that signs
	// requests with a token.
	DialToken func(addrs string, t *auth.TokenSigner, tlsConf *tls.Config) Caller
	// Sleep pauses between retries (gsub --wait).
	Sleep func(time.Duration)
	// describe, when set, receives each command's app instead of running
	// it (Commands uses it to read the flags, as --help shows them).
	describe func(*ucli.App)
}

// DefaultEnv is the real process environment.
func DefaultEnv() *Env {
	return &Env{
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Getenv:    os.Getenv,
		Environ:   os.Environ,
		Getwd:     os.Getwd,
		Hostname:  os.Hostname,
		Now:       time.Now,
		Dial:      func(s string) Caller { return rpc.Dial(s) },
		DialToken: dialToken,
		Sleep:     time.Sleep,
	}
}

// RunGsub runs gsub with the process environment.
func RunGsub(args []string) int { return DefaultEnv().Gsub(args) }

// RunGqueue runs gqueue with the process environment.
func RunGqueue(args []string) int { return DefaultEnv().Gqueue(args) }

// RunGcancel runs gcancel with the process environment.
func RunGcancel(args []string) int { return DefaultEnv().Gcancel(args) }

// RunGinfo runs ginfo with the process environment.
func RunGinfo(args []string) int { return DefaultEnv().Ginfo(args) }

// RunGacct runs gacct with the process environment.
func RunGacct(args []string) int { return DefaultEnv().Gacct(args) }

// RunGshare runs gshare with the process environment.
func RunGshare(args []string) int { return DefaultEnv().Gshare(args) }

// usageError marks a mistake in how a command was called (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error.
func usagef(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// exitError ends a command with a given status without printing anything
// more (the command has already said what happened).
type exitError struct{ code int }

func (e *exitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// ExitCodeOf maps a command's error to its exit status.
func ExitCodeOf(err error) int {
	var ee *exitError
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return ExitUsage
	}
	return ExitFailure
}

// ErrorLine is the one line printed for err, without the program prefix.
func ErrorLine(err error) string {
	msg := err.Error()
	if errors.Is(err, api.ErrUnavailable) {
		msg += " (is the controller running? see GSCHED_SOCKET and --config)"
	}
	// Keep it to one line, and print what the user typed, not what their
	// terminal would make of it: other control characters are escaped.
	var b strings.Builder
	for _, r := range msg {
		switch {
		case r == '\n':
			b.WriteByte(' ')
		case unicode.IsControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// newApp builds a urfave/cli app that never exits the process, never prints
// usage pages on errors, and writes to env's streams.
func (e *Env) newApp(name, usage, argsUsage string, flags []ucli.Flag, action ucli.ActionFunc) *ucli.App {
	return &ucli.App{
		Name:                  name,
		HelpName:              name,
		Usage:                 usage,
		ArgsUsage:             argsUsage,
		Flags:                 fastFlags(flags),
		HideHelp:              true,
		HideHelpCommand:       true,
		HideVersion:           true,
		Reader:                e.Stdin,
		Writer:                e.Stdout,
		ErrWriter:             e.Stderr,
		Action:                action,
		CustomAppHelpTemplate: helpTemplate,
		OnUsageError: func(_ *ucli.Context, err error, _ bool) error {
			return &usageError{err}
		},
		ExitErrHandler: func(*ucli.Context, error) {},
	}
}

// helpTemplate is the --help page of every command.
const helpTemplate = `NAME:
   {{.Name}} - {{.Usage}}

USAGE:
   {{if .UsageText}}{{.UsageText}}{{else}}{{.HelpName}} [options]{{if .ArgsUsage}} {{.ArgsUsage}}{{end}}{{end}}

OPTIONS:
{{range .VisibleFlags}}   {{.}}
{{end}}
Exit status: 0 on success, 1 on failure, 2 on bad usage. See {{.Name}}(1).
`

// run runs app on args and turns the outcome into an exit status, printing
// the error (if any) as one line.
func (e *Env) run(app *ucli.App, args []string) int {
	if e.describe != nil {
		e.describe(app)
		return ExitOK
	}
	if len(args) == 0 {
		args = []string{app.Name}
	}
	err := app.Run(args)
	code := ExitCodeOf(err)
	if err != nil {
		var ee *exitError
		if !errors.As(err, &ee) {
			fmt.Fprintf(e.Stderr, "%s: error: %s\n", app.Name, ErrorLine(err))
			if code == ExitUsage {
				fmt.Fprintf(e.Stderr, "%s: try '%s --help' for more information\n", app.Name, app.Name)
			}
		}
	}
	return code
}

// Flags shared by every command.
func configFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "config", Usage: "configuration file (default $GSCHED_CONF, else " + config.DefaultPath + ")", TakesFile: true}
}

func helpFlag(short bool) ucli.Flag {
	f := &ucli.BoolFlag{Name: "help", Usage: "show this help"}
	if short {
		f.Aliases = []string{"h"}
	}
	return f
}

func jsonFlag() ucli.Flag {
	return &ucli.BoolFlag{Name: "json", Usage: "print the answer as JSON"}
}

// SocketPath finds the controller's socket: $GSCHED_SOCKET, else the
// configuration file (see package doc). configFlag is the --config value.
func SocketPath(getenv func(string) string, configFlag string) (string, error) {
	if s := getenv(EnvSocket); s != "" {
		return s, nil
	}
	cfg, err := clientConfig(getenv, configFlag)
	if err != nil {
		return "", err
	}
	return cfg.Controller.Socket, nil
}

// clientConfig loads the configuration file, or the defaults when the
// default file is absent.
func clientConfig(getenv func(string) string, configFlag string) (*config.Config, error) {
	if configFlag == "" {
		configFlag = getenv(config.EnvConf)
	}
	path := config.Find(configFlag)
	cfg, err := config.Load(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && configFlag == "" && path == config.DefaultPath {
			return config.Default(), nil
		}
		return nil, fmt.Errorf("load configuration: %w", err)
	}
	return cfg, nil
}

// connect returns a Caller for the controller: over TCP with a token when
// $GSCHED_TOKEN is set, else on the Unix socket.
func (e *Env) connect(c *ucli.Context) (Caller, error) {
	if tok := e.Getenv(EnvToken); tok != "" {
		return e.connectRemote(c, tok)
	}
	sock, err := SocketPath(e.Getenv, c.String("config"))
	if err != nil {
		return nil, err
	}
	return e.Dial(sock), nil
}

func (e *Env) connectRemote(c *ucli.Context, tok string) (Caller, error) {
	host, err := e.Hostname()
	if err != nil {
		return nil, fmt.Errorf("host name: %w", err)
	}
	signer, err := auth.ParseToken(tok, host)
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", EnvToken, err)
	}
	if exp := signer.Claims().ExpiresAt; exp != nil && e.Now().After(exp.Time) {
		return nil, fmt.Errorf("$%s expired at %s; get a new one with `gcontrol token` on the controller's host",
			EnvToken, exp.Time.Local().Format(time.DateTime))
	}
	addr, ca := e.Getenv(EnvController), e.Getenv(EnvTLSCA)
	files := rpc.TLSFiles{CA: ca}
	if addr == "" || ca == "" {
		cfg, err := clientConfig(e.Getenv, c.String("config"))
		if err != nil {
			return nil, err
		}
		if addr == "" {
			if addr = cfg.Controller.UserAddress; addr == "" {
				addr = cfg.Controller.UserListen
			}
		}
		if ca == "" {
			files = rpc.TLSFiles{CA: cfg.TLS.CA, ServerName: cfg.TLS.ServerName}
		}
	}
	if addr == "" {
		return nil, usagef("$%s is set but the controller's address is unknown: set $%s or controller.user_address", EnvToken, EnvController)
	}
	var tlsConf *tls.Config
	if files.CA != "" {
		if tlsConf, err = rpc.ClientTLS(files); err != nil {
			return nil, err
		}
	}
	return e.DialToken(addr, signer, tlsConf), nil
}

// dialToken connects to the controllers at addrs with a token, over TLS
// when tlsConf is set.
func dialToken(addrs string, t *auth.TokenSigner, tlsConf *tls.Config) Caller {
	var cs []*rpc.Client
	for _, a := range rpc.SplitAddrs(addrs) {
		c := rpc.DialToken(a, t)
		if tlsConf != nil {
			c.WithTLS(tlsConf)
		}
		cs = append(cs, c)
	}
	if len(cs) == 1 {
		return cs[0]
	}
	return rpc.NewFailover(cs, false)
}

// noLeaderWait bounds how long a command waits for an HA set to elect a
// leader (each try is safe: a no-leader answer means nothing was applied).
const noLeaderWait = 15 * time.Second

// call makes one RPC with the ordinary timeout.
func call(ctx context.Context, c Caller, path string, req, resp any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	deadline := time.Now().Add(noLeaderWait)
	for {
		err := c.Call(ctx, path, req, resp)
		if !errors.Is(err, api.ErrNoLeader) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// whoAmI asks the controller who the caller is.
func whoAmI(ctx context.Context, c Caller) (api.WhoAmI, error) {
	var w api.WhoAmI
	if err := call(ctx, c, api.PathWhoAmI, struct{}{}, &w); err != nil {
		return w, fmt.Errorf("who am I: %w", err)
	}
	return w, nil
}

// writeJSON prints v indented.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// newTable returns a tab writer for an aligned table.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}

// SplitList splits a comma-separated option value, dropping empty items and
// surrounding spaces.
func SplitList(s string) []string { return rpc.SplitAddrs(s) }

// ParseJobIDs parses job IDs given as arguments or comma lists.
func ParseJobIDs(items []string) ([]api.JobID, error) {
	var ids []api.JobID
	for _, item := range items {
		for _, s := range SplitList(item) {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil || n == 0 {
				return nil, fmt.Errorf("invalid job id %q", s)
			}
			ids = append(ids, api.JobID(n))
		}
	}
	return ids, nil
}

// ParseStates parses a comma list of job states (names or short codes,
// any case); "all" selects every state.
func ParseStates(s string) (states []api.JobState, all bool, err error) {
	for _, item := range SplitList(s) {
		if strings.EqualFold(item, "all") {
			return append([]api.JobState(nil), api.AllJobStates...), true, nil
		}
		st, err := api.ParseJobState(item)
		if err != nil {
			return nil, false, fmt.Errorf("unknown job state %q (use names such as PENDING, RUNNING, COMPLETED or codes such as PD, R, CD, or all)", item)
		}
		states = append(states, st)
	}
	return states, false, nil
}

// expandShortOptions rewrites getopt-style attached values of short
// options ("-Jname", "-c8") as two words ("-J", "name"), which Go's flag
// package needs. It stops at "--" and at the first positional argument,
// unless permute is set: then, as with getopt, options may follow
// positional arguments, which are moved after a "--" at the end.
// Options named in bare take an optional value that must be attached
// (getopt's "K::", as srun's -K[0|1]): alone, they get the value given;
// one whose default is a number also takes a number in the next word
// (gsub --nice 10).
func expandShortOptions(args []string, flags []ucli.Flag, permute bool, bare ...map[string]string) []string {
	takesValue := map[string]bool{}
	known := map[string]bool{}
	for _, f := range flags {
		_, isBool := f.(*ucli.BoolFlag)
		for _, n := range f.Names() {
			known[n] = true
			takesValue[n] = !isBool
		}
	}
	out := make([]string, 0, len(args)+3)
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" || !strings.HasPrefix(a, "-") {
			if permute && a != "--" {
				positional = append(positional, a)
				continue
			}
			if a == "--" {
				i++
			}
			positional = append(positional, args[i:]...)
			break
		}
		name := strings.TrimLeft(a, "-")
		hasValue := false
		if j := strings.IndexByte(name, '='); j >= 0 {
			name, hasValue = name[:j], true
		}
		def, isBare := "", false
		for _, m := range bare {
			if v, ok := m[name]; ok {
				def, isBare = v, true
			}
		}
		switch {
		case isBare && !hasValue && isInt(def) && i+1 < len(args) && isInt(args[i+1]):
			out = append(out, a+"="+args[i+1])
			i++
		case isBare && !hasValue:
			out = append(out, a+"="+def)
		case known[name]:
			out = append(out, a)
			if takesValue[name] && !hasValue && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
		case !strings.HasPrefix(a, "--") && len(a) > 2 && takesValue[a[1:2]]:
			out = append(out, a[:2], a[2:])
		default:
			out = append(out, a) // unknown: let the flag parser complain
		}
	}
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// isInt says whether s is a decimal integer, optionally signed.
func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}
