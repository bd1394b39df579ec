package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

type fakeGPUChecker struct{ problems []string }

func (f *fakeGPUChecker) Check(int) []string { return f.problems }
func (f *fakeGPUChecker) Close()             {}

func TestHealthCheck(t *testing.T) {
	dir := t.TempDir()
	dev0, dev1 := filepath.Join(dir, "nvidia0"), filepath.Join(dir, "nvidia1")
	if err := os.WriteFile(dev0, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	prog := func(body string) string {
		p := filepath.Join(t.TempDir(), "hc.sh")
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	declared := []api.GPU{{Index: 0, DevicePath: dev0}, {Index: 1, DevicePath: dev1}}
	tests := []struct {
		name     string
		h        *health
		wantOK   bool
		wantText string
	}{
		{"program passes", &health{program: prog("exit 0\n"), timeout: 5 * time.Second}, true, ""},
		{"program fails", &health{program: prog("echo disk full; exit 1\n"), timeout: 5 * time.Second}, false, "disk full"},
		{"declared device missing", &health{source: "config", declared: declared, expected: 2}, false, "1 GPUs, expected 2"},
		{"declared devices as expected", &health{source: "config", declared: declared[:1], expected: 1}, true, ""},
		{"nvml problems", &health{source: "nvml", open: func() (gpuChecker, error) {
			return &fakeGPUChecker{problems: []string{"GPU 3: XID 79", "GPU 1: 2 uncorrectable ECC errors"}}, nil
		}}, false, "GPU 3: XID 79; GPU 1: 2 uncorrectable ECC errors"},
		{"nvml gone", &health{source: "nvml", open: func() (gpuChecker, error) { return nil, errors.New("no driver") }},
			false, "NVML unreachable: no driver"},
		{"program and gpus", &health{program: prog("echo bad fan; exit 2\n"), timeout: 5 * time.Second,
			source: "config", declared: declared, expected: 2}, false, "bad fan; 1 GPUs, expected 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.h.check(context.Background())
			if got.OK != tc.wantOK || got.Reason != tc.wantText || got.Time.IsZero() {
				t.Errorf("check = %+v, want ok=%v %q", got, tc.wantOK, tc.wantText)
			}
		})
	}
}
