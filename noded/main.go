// Command gnoded is the gsched node daemon: it registers the node's
// resources, heartbeats to the controller and runs every job as a runc
// container under its own supervisor. The same binary is the supervisor
// ("gsched-shim") and the in-container init ("gsched-init").
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/gsched/gsched/noded/daemon"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/logging"
	"github.com/gsched/gsched/pkg/runtime/runc"
)

func main() {
	if runc.Main() { // supervisor / in-container init roles; never returns
		return
	}
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "gnoded: %v\n", err)
		os.Exit(1)
	}
}

// newApp is gnoded's command line; man/man8/gnoded.8 documents its flags
// (kept in sync by TestManPage).
func newApp() *cli.App {
	return &cli.App{
		Name:  "gnoded",
		Usage: "gsched node daemon",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"f"}, Usage: "configuration file (default $GSCHED_CONF, then " + config.DefaultPath + ")"},
			&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error (overrides the config)"},
			&cli.StringFlag{Name: "name", Usage: "node name (overrides node.name)"},
			&cli.StringFlag{Name: "state-dir", Usage: "state directory (overrides node.state_dir)"},
		},
		Action:         run,
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

func run(c *cli.Context) error {
	cfg, err := config.Load(config.Find(c.String("config")))
	if err != nil {
		return err
	}
	if v := c.String("name"); v != "" {
		cfg.Node.Name = v
	}
	if v := c.String("state-dir"); v != "" {
		cfg.Node.StateDir = v
	}
	level := cfg.LogLevel
	if l := c.String("log-level"); l != "" {
		level = l
	}
	log, lvl, err := logging.New(level)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	key, err := auth.LoadKey(cfg.Auth.KeyFile)
	if err != nil {
		return err
	}
	d, err := daemon.New(cfg, key, log.Named("noded"), daemon.WithLevel(&lvl))
	if err != nil {
		return err
	}
	if p := cfg.Node.PIDFile; p != "" {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("pid file: %w", err)
		}
		if err := os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return fmt.Errorf("pid file: %w", err)
		}
		defer os.Remove(p)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return d.Run(ctx)
}
