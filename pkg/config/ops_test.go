package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/gsched/gsched/pkg/config"
)

func TestLoadOpsKeys(t *testing.T) {
	tests := []struct {
		name    string
		content string
		check   func(*config.Config) bool
		wantErr string
	}{
		{name: "defaults", content: "",
			check: func(c *config.Config) bool {
				return c.Node.HealthCheckInterval.Duration == config.DefaultHealthCheckInterval &&
					c.Node.PrologTimeout.Duration == config.DefaultScriptTimeout && c.Node.ReservedCPUs.IsZero() &&
					c.Controller.EpilogTimeout.Duration == config.DefaultScriptTimeout
			}},
		{name: "count", content: "[node]\nreserved_cpus = 2\n",
			check: func(c *config.Config) bool { return c.Node.ReservedCPUs.Count == 2 && c.Node.ReservedCPUs.List == nil }},
		{name: "list", content: "[node]\nreserved_cpus = \"0-1,6\"\n",
			check: func(c *config.Config) bool { return reflect.DeepEqual(c.Node.ReservedCPUs.List, []int{0, 1, 6}) }},
		{name: "single id as string is a list", content: "[node]\nreserved_cpus = \"3\"\n",
			check: func(c *config.Config) bool { return reflect.DeepEqual(c.Node.ReservedCPUs.List, []int{3}) }},
		{name: "memory and gpus", content: "[node]\nreserved_memory = \"2G\"\nreserved_gpus = [1]\n",
			check: func(c *config.Config) bool {
				m, err := c.Node.ReservedMemBytes()
				return err == nil && m == 2<<30 && reflect.DeepEqual(c.Node.ReservedGPUs, []int{1})
			}},
		{name: "scripts resolve against the file", content: "[node]\nprolog = \"p.sh\"\nhealth_check_program = \"/usr/sbin/nhc\"\n[controller]\nepilog = \"ce.sh\"\n",
			check: func(c *config.Config) bool {
				return filepath.IsAbs(c.Node.Prolog) && strings.HasSuffix(c.Node.Prolog, "/p.sh") &&
					c.Node.HealthCheckProgram == "/usr/sbin/nhc" && strings.HasSuffix(c.Controller.Epilog, "/ce.sh")
			}},
		{name: "bad list", content: "[node]\nreserved_cpus = \"1-x\"\n", wantErr: "reserved_cpus"},
		{name: "negative count", content: "[node]\nreserved_cpus = -1\n", wantErr: "reserved_cpus"},
		{name: "wrong type", content: "[node]\nreserved_cpus = 1.5\n", wantErr: "reserved_cpus"},
		{name: "all CPUs reserved", content: "[node]\ncpus = 2\nreserved_cpus = 2\n", wantErr: "leaves no CPU"},
		{name: "bad memory", content: "[node]\nreserved_memory = \"lots\"\n", wantErr: "reserved_memory"},
		{name: "duplicate gpu", content: "[node]\nreserved_gpus = [1, 1]\n", wantErr: "reserved_gpus"},
		{name: "undeclared gpu", content: "[node]\nreserved_gpus = [3]\n[[node.gpu]]\nindex = 0\n", wantErr: "not declared"},
		{name: "zero timeout", content: "[node]\nprolog_timeout = \"0s\"\n", wantErr: "node.prolog_timeout must be positive"},
		{name: "tiny interval", content: "[node]\nhealth_check_interval = \"10ms\"\n", wantErr: "at least 1s"},
		{name: "negative expected", content: "[node]\nexpected_gpus = -1\n", wantErr: "expected_gpus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(writeConf(t, tc.content))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("unexpected node config: %+v", c.Node)
			}
		})
	}
}

// A configuration written back with the TOML encoder (as the test
// cluster does) keeps a reserved count a count and a list a list.
func TestCPUReserveRoundTrip(t *testing.T) {
	for _, r := range []config.CPUReserve{{}, {Count: 2}, {List: []int{0, 1, 5}}} {
		c := config.Default()
		c.Node.ReservedCPUs = r
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(c); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "c.conf")
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := config.Load(p)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if !reflect.DeepEqual(got.Node.ReservedCPUs, r) {
			t.Errorf("round trip of %+v gave %+v", r, got.Node.ReservedCPUs)
		}
	}
}

// The CPU-list form of node.reserved_cpus never panics, and what it
// accepts is sorted, without duplicates, and in range.
func FuzzParseCPUReserve(f *testing.F) {
	for _, s := range []string{"0", "0-3", "0-1,64", " 2 ", "", "3-1", "1,,2", "-1", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := config.ParseCPUReserve(s)
		if err != nil {
			return
		}
		for i, c := range l {
			if c < 0 || (i > 0 && c <= l[i-1]) {
				t.Fatalf("%q gave %v", s, l)
			}
		}
	})
}
