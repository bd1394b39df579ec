package hooks

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// conf/healthcheck.sh passes on a healthy machine (here: no GPU, so only
// its disk checks run), and its first output line is the reason it fails.
func TestSampleHealthCheck(t *testing.T) {
	prog, err := filepath.Abs("../../conf/healthcheck.sh")
	if err != nil {
		t.Fatal(err)
	}
	selftest := filepath.Join(t.TempDir(), "selftest")
	if err := os.WriteFile(selftest, []byte("#!/bin/sh\necho 'GPU 2: cuMemAlloc returned 2'\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		env    []string
		reason string
	}{
		{"healthy", []string{"HC_MIN_FREE_MB=1"}, ""},
		{"disk full", []string{"HC_MIN_FREE_MB=999999999", "HC_STATE_DIR=/"}, "only "},
		{"self-test fails", []string{"HC_MIN_FREE_MB=1", "HC_CUDA_SELFTEST=" + selftest}, "CUDA self-test failed: GPU 2: cuMemAlloc returned 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Run(context.Background(), prog, tc.env, 30*time.Second)
			got := r.Reason()
			if tc.reason == "" && got != "" || tc.reason != "" && (len(got) < len(tc.reason) || got[:len(tc.reason)] != tc.reason) {
				t.Fatalf("reason %q, want %q (output %q)", got, tc.reason, r.Output)
			}
		})
	}
}
