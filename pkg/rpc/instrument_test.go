package rpc_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/rpc"
)

// Instrument sees each handled call with its code; a wrapped handler's
// answer reaches the caller; requests refused before a handler runs are
// not observed.
func TestInstrumentAndWrap(t *testing.T) {
	s := rpc.NewPeerServer(zap.NewNop())
	rpc.Handle(s, pathEcho, func(ctx context.Context, req *echoReq) (any, error) {
		return &echoResp{Msg: req.Msg}, nil
	})
	rpc.Handle(s, pathFail, func(ctx context.Context, req *echoReq) (any, error) {
		return nil, fmt.Errorf("%w: no", api.ErrPermission)
	})
	s.Wrap(pathEcho, func(h rpc.HandlerFunc) rpc.HandlerFunc {
		return func(ctx context.Context, body []byte) (any, error) {
			resp, err := h(ctx, body)
			if r, ok := resp.(*echoResp); ok {
				r.N = 42
			}
			return resp, err
		}
	})
	s.Wrap("/v1/none", func(h rpc.HandlerFunc) rpc.HandlerFunc { t.Fatal("wrapped a missing path"); return h })
	var mu sync.Mutex
	seen := map[string]int{}
	s.Instrument(func(path, code string, d time.Duration) {
		if d < 0 {
			t.Errorf("negative duration %s", d)
		}
		mu.Lock()
		seen[path+" "+code]++
		mu.Unlock()
	})
	call := func(path, body string, peer bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		if peer {
			r = r.WithContext(auth.WithPeer(r.Context(), auth.Peer{UID: 1000, User: "alice"}))
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	if w := call(pathEcho, `{"msg":"hi"}`, true); w.Code != 200 || !strings.Contains(w.Body.String(), `"n":42`) {
		t.Fatalf("echo: %d %s", w.Code, w.Body)
	}
	call(pathEcho, `{"bogus":1}`, true)
	call(pathFail, `{}`, true)
	call(pathEcho, `{}`, false) // no peer: refused before the handler
	want := map[string]int{pathEcho + " ok": 1, pathEcho + " " + api.CodeInvalid: 1, pathFail + " " + api.CodePermission: 1}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", seen, want)
	}
}
