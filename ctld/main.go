// Command gctld is the gsched controller daemon: it holds the cluster state
// (go-memdb made durable by a single-voter raft log), schedules jobs and
// serves users on a Unix socket and node daemons on TCP.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gsched/gsched/ctld/gctune"
	"github.com/gsched/gsched/ctld/server"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/logging"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "gctld: %v\n", err)
		os.Exit(1)
	}
}

// newApp is gctld's command line; man/man8/gctld.8 documents its flags
// (kept in sync by TestManPage).
func newApp() *cli.App {
	return &cli.App{
		Name:  "gctld",
		Usage: "gsched controller daemon",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"f"}, Usage: "configuration file (default $GSCHED_CONF, then " + config.DefaultPath + ")"},
			&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error (overrides the config)"},
		},
		Action: run,
		Commands: []*cli.Command{{
			Name:   "keygen",
			Usage:  "create the cluster key file named in the config (mode 0600) if it does not exist",
			Action: keygen,
		}},
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

func keygen(c *cli.Context) error {
	cfg, err := config.Load(config.Find(c.String("config")))
	if err != nil {
		return err
	}
	return auth.CreateKey(cfg.Auth.KeyFile)
}

func run(c *cli.Context) error {
	cfg, err := config.Load(config.Find(c.String("config")))
	if err != nil {
		return err
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
		return fmt.Errorf("%w (create one with 'gctld keygen')", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(server.Options{Config: cfg, Key: key, Log: log.Named("ctld"), RaftLog: os.Stderr, Level: &lvl})
	if err != nil {
		return err
	}
	if p := cfg.Controller.PIDFile; p != "" {
		if err := writePID(p); err != nil {
			return err
		}
		defer os.Remove(p)
	}
	// The collector's headroom stays bounded as the job table grows.
	go gctune.Run(ctx, log.Named("gc"), 2*time.Second)
	return srv.Run(ctx)
}

func writePID(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}
