package config_test

import (
	"testing"

	"github.com/gsched/gsched/pkg/config"
)

// Metrics endpoints are off by default; loopback, any-address, IPv6 and
// port 0 forms are accepted.
func TestMetricsListenAccepted(t *testing.T) {
	if d := config.Default(); d.Controller.MetricsListen != "" || d.Node.MetricsListen != "" {
		t.Errorf("metrics on by default: %q %q", d.Controller.MetricsListen, d.Node.MetricsListen)
	}
	for _, addr := range []string{"127.0.0.1:9817", ":9817", "[::1]:9818", "127.0.0.1:0", "mgmt.example:9817"} {
		c := config.Default()
		c.Controller.MetricsListen, c.Node.MetricsListen = addr, addr
		if err := c.Validate(); err != nil {
			t.Errorf("metrics_listen %q: %v", addr, err)
		}
	}
}
