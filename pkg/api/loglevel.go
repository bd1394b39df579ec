package api

import (
	"fmt"
	"strings"
)

// PathLogLevel changes the daemons' log level at run time (operators only;
// `gcontrol setdebug`).
const PathLogLevel = "/v1/loglevel"

// LogLevels are the levels a daemon logs at, most verbose first.
var LogLevels = []string{"debug", "info", "warn", "error"}

// Log level targets.
const (
	LogTargetAll        = "all"
	LogTargetController = "controller"
	LogTargetNodes      = "nodes"
)

// LogLevelRequest sets the log level of the controller (the leader, with
// HA), of every node daemon (told with their next heartbeat), or of both.
// The change lasts until the daemon restarts.
type LogLevelRequest struct {
	Level string `json:"level"`
	// Target is LogTargetAll ("" too), LogTargetController or LogTargetNodes.
	Target string `json:"target,omitempty"`
}

// LogLevelResponse reports the levels after the change.
type LogLevelResponse struct {
	// Controller is the controller's level now; Previous what it was.
	Controller string `json:"controller"`
	Previous   string `json:"previous"`
	// Nodes is the level node daemons are told to use ("" = each keeps
	// its configured one).
	Nodes string `json:"nodes,omitempty"`
}

// ParseLogLevel checks a level name (any case) and returns it lower-cased.
func ParseLogLevel(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	if l == "warning" {
		l = "warn"
	}
	for _, v := range LogLevels {
		if l == v {
			return l, nil
		}
	}
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return "", fmt.Errorf("unknown log level %q (use %s)", s, strings.Join(LogLevels, ", "))
}

// ParseLogTarget checks a target name; "" is LogTargetAll.
func ParseLogTarget(s string) (string, error) {
	switch t := strings.ToLower(s); t {
	case "", LogTargetAll:
		return LogTargetAll, nil
	case LogTargetController, "ctld", "gctld":
		return LogTargetController, nil
	case LogTargetNodes, "node", "gnoded":
		return LogTargetNodes, nil
	}
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return "", fmt.Errorf("unknown target %q (use all, controller or nodes)", s)
}
