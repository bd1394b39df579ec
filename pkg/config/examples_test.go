package config_test

import (
	"path/filepath"
	"testing"

	"github.com/gsched/gsched/pkg/config"
)

// The deployment examples under conf/examples load and describe what
// docs/DEPLOY.md says they do.
func TestDeploymentExamples(t *testing.T) {
	tests := []struct {
		file  string
		check func(*config.Config) string
	}{
		{"single-controller/gsched.conf", func(c *config.Config) string {
			switch {
			case len(c.Controller.Peers) != 0:
				return "peers in a single-controller example"
			case c.ControllerAddress() != "ctl1:6817" || c.Controller.UserListen == "":
				return "nodes or remote users cannot reach the controller"
			case c.Node.ReservedCPUs.Count != 2 || c.Node.HealthCheckProgram == "" || c.Node.ExpectedGPUs != 8:
				return "no reservation or health check"
			}
			return ""
		}},
		{"ha-3-controllers/gsched.conf", func(c *config.Config) string {
			switch {
			case len(c.Controller.Peers) != 3 || c.Controller.RaftListen == "":
				return "not a 3-controller raft set"
			case c.ControllerAddress() != "ctl1:6817,ctl2:6817,ctl3:6817":
				return "nodes do not list every controller"
			case !c.TLS.Enabled() || c.TLS.Cert == "" || c.TLS.CA == "":
				return "no mutual TLS"
			}
			for _, id := range []string{"ctl1", "ctl2", "ctl3"} {
				if _, ok := c.Peer(id); !ok {
					return "no peer " + id
				}
			}
			return ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, err := config.Load(filepath.Join("../../conf/examples", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.check(c); msg != "" {
				t.Fatal(msg)
			}
		})
	}
	// Every example is covered.
	files, err := filepath.Glob("../../conf/examples/*/*.conf")
	if err != nil || len(files) != len(tests) {
		t.Fatalf("conf/examples holds %v (%v); the test covers %d", files, err, len(tests))
	}
}
