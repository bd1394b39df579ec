package config

import (
	"fmt"
	"net"
	"strconv"
)

// validateMetrics checks controller.metrics_listen and node.metrics_listen:
// empty (off) or HOST:PORT, not the address of another listener.
func (c *Config) validateMetrics() []error {
	var errs []error
	for _, m := range []struct {
		key, addr string
		others    []string
	}{
		{"controller.metrics_listen", c.Controller.MetricsListen, []string{c.Controller.Listen, c.Controller.UserListen, c.Controller.RaftListen}},
		{"node.metrics_listen", c.Node.MetricsListen, nil},
	} {
		if m.addr == "" {
			continue
		}
		if err := checkListenAddr(m.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %v (want HOST:PORT, e.g. 127.0.0.1:9817; empty = off)", m.key, m.addr, err))
			continue
		}
		if _, port, _ := net.SplitHostPort(m.addr); port == "0" {
			continue
		}
		for _, o := range m.others {
			if o == m.addr {
				errs = append(errs, fmt.Errorf("%s %q is the address of another controller listener", m.key, m.addr))
			}
		}
	}
	return errs
}

func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}
