package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
)

// gcontrolSetdebug changes the daemons' log level at run time, as
// `scontrol setdebug`: gcontrol setdebug LEVEL [all|controller|nodes].
func (e *Env) gcontrolSetdebug(c *ucli.Context, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return usagef("setdebug: give a level (debug, info, warn, error) and optionally all, controller or nodes")
	}
	req, err := parseSetdebug(args)
	if err != nil {
		return err
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var resp api.LogLevelResponse
	if err := call(c.Context, cl, api.PathLogLevel, req, &resp); err != nil {
		return fmt.Errorf("setdebug: %w", err)
	}
	if c.Bool("json") {
		return writeJSON(e.Stdout, resp)
	}
	nodes := resp.Nodes
	if nodes == "" {
		nodes = "as configured"
	}
	_, err = fmt.Fprintf(e.Stdout, "controller log level %s (was %s); node daemons %s\n", resp.Controller, resp.Previous, nodes)
	return err
}

// parseSetdebug reads setdebug's LEVEL [TARGET].
func parseSetdebug(args []string) (api.LogLevelRequest, error) {
	var req api.LogLevelRequest
	level, err := api.ParseLogLevel(args[0])
	if err != nil {
		return req, usagef("setdebug: %v", err)
	}
	req.Level = level
	if len(args) == 2 {
		if req.Target, err = api.ParseLogTarget(args[1]); err != nil {
			return req, usagef("setdebug: %v", err)
		}
	}
	return req, nil
}
