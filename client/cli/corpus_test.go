package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/scripts/*.golden from gsub's output")

// TestScriptCorpus runs every script of testdata/scripts — realistic
// Slurm scripts: GPU training, arrays, multi-node torchrun, submitit's
// generated script, odd syntax, refused options — through gsub
// --print-spec, with NAME.args as extra command-line options, and
// compares exit status, the printed spec and the warnings or error with
// NAME.golden (rewrite them with -update, then read the diff).
func TestScriptCorpus(t *testing.T) {
	scripts, err := filepath.Glob("testdata/scripts/*.sh")
	if err != nil || len(scripts) < 10 {
		t.Fatalf("corpus: %d scripts (%v), want at least 10", len(scripts), err)
	}
	for _, path := range scripts {
		base := strings.TrimSuffix(path, ".sh")
		t.Run(filepath.Base(base), func(t *testing.T) {
			te := newTestEnv(t, "/nonexistent/ctld.sock")
			te.cwd = "/home/alice/proj"
			args := []string{"gsub", "--print-spec"}
			if extra, err := os.ReadFile(base + ".args"); err == nil {
				args = append(args, strings.Fields(string(extra))...)
			}
			code := te.Gsub(append(args, path))
			got := fmt.Sprintf("exit %d\n%s%s", code, te.stdout, te.stderr)
			if *updateGolden {
				if err := os.WriteFile(base+".golden", []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(base + ".golden")
			if err != nil {
				t.Fatalf("no golden file (run go test -run TestScriptCorpus -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("gsub --print-spec %s differs from %s.golden:\n%s", path, base, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff lists the lines of want and got that differ, by line number.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}
