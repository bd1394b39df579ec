package rpc_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/rpc"
)

// errServer answers every call with err: ErrNoLeader as a follower does
// during an election, or a plain unavailable error, after which the
// request may have been applied (only idempotent callers retry it).
func errServer(t *testing.T, err error) (string, *atomic.Int64) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, lerr := rpc.ListenUnix(sock)
	if lerr != nil {
		t.Fatal(lerr)
	}
	calls := &atomic.Int64{}
	s := rpc.NewPeerServer(zap.NewNop())
	rpc.Handle(s, pathEcho, func(ctx context.Context, req *echoReq) (any, error) {
		calls.Add(1)
		return nil, err
	})
	serve(t, s, l)
	return sock, calls
}

func TestFailover(t *testing.T) {
	goodPath := filepath.Join(t.TempDir(), "good.sock")
	l, err := rpc.ListenUnix(goodPath)
	if err != nil {
		t.Fatal(err)
	}
	good := struct{ calls *atomic.Int64 }{&atomic.Int64{}}
	gs := rpc.NewPeerServer(zap.NewNop())
	register(gs, good.calls)
	serve(t, gs, l)
	dead := filepath.Join(t.TempDir(), "dead.sock") // nothing listens
	noLeader, nlCalls := errServer(t, api.ErrNoLeader)
	ambiguous, amCalls := errServer(t, api.ErrUnavailable)

	tests := []struct {
		name     string
		socks    []string
		retryAll bool
		wantErr  error // nil: answered by the good server
	}{
		{"dead then good", []string{dead, goodPath}, false, nil},
		{"no leader then good", []string{noLeader, goodPath}, false, nil},
		{"ambiguous error is not retried", []string{ambiguous, goodPath}, false, api.ErrUnavailable},
		{"ambiguous error retried by idempotent callers", []string{ambiguous, goodPath}, true, nil},
		{"all down", []string{dead, noLeader}, false, api.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cs []*rpc.Client
			for _, s := range tc.socks {
				cs = append(cs, rpc.Dial(s))
			}
			f := rpc.NewFailover(cs, tc.retryAll)
			defer f.Close()
			before := good.calls.Load()
			var resp echoResp
			err := f.Call(context.Background(), pathEcho, echoReq{Msg: "x", N: 1}, &resp)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || good.calls.Load() != before {
					t.Fatalf("err %v (good server calls +%d), want %v and no retry", err, good.calls.Load()-before, tc.wantErr)
				}
				return
			}
			if err != nil || resp.N != 2 || good.calls.Load() != before+1 {
				t.Fatalf("err %v resp %+v", err, resp)
			}
			// The next call goes straight to the controller that answered.
			if err := f.Call(context.Background(), pathEcho, echoReq{Msg: "y"}, &resp); err != nil || good.calls.Load() != before+2 {
				t.Fatalf("second call: %v", err)
			}
		})
	}
	if nlCalls.Load() == 0 || amCalls.Load() == 0 {
		t.Fatalf("the failing servers were never tried: no-leader %d ambiguous %d", nlCalls.Load(), amCalls.Load())
	}
}

func TestSplitAddrs(t *testing.T) {
	got := rpc.SplitAddrs(" a:1, ,b:2,")
	if len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Fatalf("SplitAddrs = %q", got)
	}
}
