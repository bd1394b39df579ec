package cli

import (
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func TestGcontrolSetdebug(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want api.LogLevelRequest
		err  string // usage error
	}{
		{"level only", []string{"debug"}, api.LogLevelRequest{Level: "debug"}, ""},
		{"any case, warning", []string{"WARNING", "Controller"}, api.LogLevelRequest{Level: "warn", Target: "controller"}, ""},
		{"nodes", []string{"info", "nodes"}, api.LogLevelRequest{Level: "info", Target: "nodes"}, ""},
		{"no level", nil, api.LogLevelRequest{}, "give a level"},
		{"too many", []string{"info", "nodes", "x"}, api.LogLevelRequest{}, "give a level"},
		{"bad level", []string{"verbose"}, api.LogLevelRequest{}, "unknown log level"},
		{"bad target", []string{"info", "switches"}, api.LogLevelRequest{}, "unknown target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t)
			fs.answer(api.PathLogLevel, api.LogLevelResponse{Controller: "debug", Previous: "info", Nodes: "debug"})
			te := newTestEnv(t, fs.sock)
			code := te.Gcontrol(append([]string{"gcontrol", "setdebug"}, tc.args...))
			if tc.err != "" {
				if code != ExitUsage || !strings.Contains(te.stderr.String(), tc.err) || fs.count(api.PathLogLevel) != 0 {
					t.Fatalf("exit %d stderr %q requests %d, want usage error %q", code, te.stderr, fs.count(api.PathLogLevel), tc.err)
				}
				return
			}
			if code != 0 || te.stdout.String() != "controller log level debug (was info); node daemons debug\n" {
				t.Fatalf("exit %d stdout %q stderr %q", code, te.stdout, te.stderr)
			}
			var got api.LogLevelRequest
			fs.decode(t, api.PathLogLevel, 0, &got)
			if got != tc.want {
				t.Errorf("request %+v, want %+v", got, tc.want)
			}
		})
	}
}
