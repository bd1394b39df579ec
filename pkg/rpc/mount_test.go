package rpc_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/rpc"
)

// A mounted handler gets every method under its prefix, with the Unix
// caller in the context; RPC paths keep their POST-only dispatch.
func TestMountOnUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ctld.sock")
	l, err := rpc.ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	calls := &atomic.Int64{}
	s := rpc.NewPeerServer(zap.NewNop())
	register(s, calls)
	s.Mount("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.PeerFrom(r.Context())
		fmt.Fprintf(w, "%s %s peer=%v uid=%d", r.Method, r.URL.Path, ok, p.UID)
	}))
	forwarded := &atomic.Int64{}
	s.SetForwarder(func(http.ResponseWriter, *http.Request, []byte) bool { forwarded.Add(1); return false })
	serve(t, s, l)
	hc := unixHTTP(sock)
	tests := []struct {
		method, path string
		wantCode     int
		wantBody     string
	}{
		{http.MethodGet, "/api/v1/jobs", 200, fmt.Sprintf("GET /api/v1/jobs peer=true uid=%d", os.Getuid())},
		{http.MethodDelete, "/api/v1/jobs/3", 200, "DELETE /api/v1/jobs/3 peer=true"},
		{http.MethodGet, pathEcho, http.StatusBadRequest, "use POST"},
		{http.MethodGet, "/apix", http.StatusBadRequest, "use POST"},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(tc.method, "http://gsched"+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.wantCode || !strings.Contains(string(b), tc.wantBody) {
			t.Errorf("%s %s: HTTP %d %q, want %d containing %q", tc.method, tc.path, resp.StatusCode, b, tc.wantCode, tc.wantBody)
		}
	}
	if calls.Load() != 0 || forwarded.Load() != 0 {
		t.Errorf("%d RPC handler calls and %d forwarder calls, want none", calls.Load(), forwarded.Load())
	}
}
