package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every other sbatch option: accepted with its warning, or refused with
// the reason; options whose value sbatch makes optional take none.
func TestGsubSbatchOptions(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		warn      string // in the printed warnings (exit 0) or the error
		exclusive bool
		nice      int
	}{
		{"wckey from submitit", []string{"--wckey=submitit"}, 0, "--wckey=submitit: gsched's accounting", false, 0},
		{"short -s", []string{"-s"}, 0, "--oversubscribe: gsched shares nodes", false, 0},
		{"attached short -mblock", []string{"-mblock"}, 0, "--distribution=block: tasks are laid out", false, 0},
		{"licenses", []string{"-L", "matlab:1"}, 0, "--licenses=matlab:1: gsched does not count licenses", false, 0},
		{"exclusive alone", []string{"--exclusive"}, 0, "", true, 0},
		{"exclusive=user", []string{"--exclusive=user"}, 0, "--exclusive=user: the job gets whole nodes", true, 0},
		{"exclusive=bogus", []string{"--exclusive=bogus"}, ExitUsage, "--exclusive=bogus: use --exclusive alone", false, 0},
		{"mem=0 is whole nodes", []string{"--mem=0"}, 0, "--mem=0: all of each node's memory", true, 0},
		{"nice alone is 100", []string{"--nice"}, 0, "", false, 100},
		{"nice with a separate value", []string{"--nice", "7"}, 0, "", false, 7},
		{"nice attached", []string{"--nice=-5"}, 0, "", false, -5},
		{"no-kill alone", []string{"-k"}, 0, "--no-kill=on: a failed node ends", false, 0},
		{"uid refused", []string{"--uid=0"}, ExitUsage, "--uid: jobs run as the user who submits them", false, 0},
		{"burst buffer refused", []string{"--bb=capacity=1T"}, ExitUsage, "--bb: gsched has no burst buffers", false, 0},
		{"tres-per-task refused", []string{"--tres-per-task=gres/gpu:1"}, ExitUsage, "use --cpus-per-task and --gpus-per-task", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEnv(t, "/nonexistent/ctld.sock")
			args := append(append([]string{"gsub", "--print-spec"}, tc.args...), "--wrap", "true")
			code := te.Gsub(args)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, te.stderr)
			}
			if code != 0 {
				if !strings.Contains(te.stderr.String(), tc.warn) {
					t.Fatalf("stderr %q lacks %q", te.stderr, tc.warn)
				}
				return
			}
			var got PrintedSpec
			if err := json.Unmarshal(te.stdout.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(got.Warnings, "\n")
			if (tc.warn == "") != (joined == "") || !strings.Contains(joined, tc.warn) {
				t.Errorf("warnings %q, want %q", got.Warnings, tc.warn)
			}
			if got.Spec.Exclusive != tc.exclusive || got.Spec.Nice != tc.nice {
				t.Errorf("exclusive %v nice %d, want %v %d", got.Spec.Exclusive, got.Spec.Nice, tc.exclusive, tc.nice)
			}
		})
	}
}

// A bare --nice takes the next word only when it is a number: "gsub
// --nice job.sh" submits job.sh at nice 100, as sbatch does.
func TestGsubBareNiceBeforeScript(t *testing.T) {
	te := newTestEnv(t, "/nonexistent/ctld.sock")
	script := te.writeScript(t, "job.sh", "#!/bin/sh\ntrue\n")
	if code := te.Gsub([]string{"gsub", "--print-spec", "--nice", script}); code != 0 {
		t.Fatalf("exit %d: %s", code, te.stderr)
	}
	var got PrintedSpec
	if err := json.Unmarshal(te.stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Nice != 100 || got.Spec.Name != "job.sh" {
		t.Fatalf("nice %d name %q, want 100 job.sh", got.Spec.Nice, got.Spec.Name)
	}
}
