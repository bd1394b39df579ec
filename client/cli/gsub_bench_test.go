package cli

import "testing"

// BenchmarkGsubPrintSpec: gsub's own work for one submission (options,
// directives, environment, the spec), without process start-up and
// without the controller.
func BenchmarkGsubPrintSpec(b *testing.B) {
	t := &testing.T{}
	for range b.N {
		te := newTestEnv(t, "/nonexistent/ctld.sock")
		if code := te.Gsub([]string{"gsub", "--print-spec", "--wrap", "true"}); code != 0 {
			b.Fatalf("exit %d: %s", code, te.stderr)
		}
	}
}
