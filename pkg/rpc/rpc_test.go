package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/rpc"
)

var (
	clusterKey = []byte("0123456789abcdef0123456789abcdef-cluster")
	wrongKey   = []byte("fedcba9876543210fedcba9876543210-intruder")
)

const (
	pathEcho   = "/v1/test/echo"
	pathText   = "/v1/test/text"
	pathJobs   = "/v1/test/jobs"
	pathFail   = "/v1/test/fail"
	pathWhoAmI = "/v1/test/whoami"
)

type echoReq struct {
	Msg string `json:"msg"`
	N   int    `json:"n"`
}

type echoResp struct {
	Msg     string `json:"msg"`
	N       int    `json:"n"`
	HasPeer bool   `json:"has_peer"`
	UID     uint32 `json:"uid"`
	GID     uint32 `json:"gid"`
}

// target is a running server and what talks to it.
type target struct {
	name   string
	client *rpc.Client  // a proper client (signed for the TCP server)
	http   *http.Client // plain HTTP to the same listener
	base   string       // URL prefix for http
	calls  *atomic.Int64
}

// register installs the test handlers, counting calls.
func register(s *rpc.Server, calls *atomic.Int64) {
	rpc.Handle(s, pathEcho, func(ctx context.Context, req *echoReq) (any, error) {
		calls.Add(1)
		p, ok := auth.PeerFrom(ctx)
		return echoResp{Msg: req.Msg, N: req.N + 1, HasPeer: ok, UID: p.UID, GID: p.GID}, nil
	})
	rpc.Handle(s, pathFail, func(ctx context.Context, req *echoReq) (any, error) {
		calls.Add(1)
		return nil, fmt.Errorf("cancel job %d: %w", req.N, api.ErrPermission)
	})
	rpc.Handle(s, pathText, func(ctx context.Context, req *echoReq) (any, error) {
		calls.Add(1)
		return rpc.Raw(strings.Repeat(req.Msg+"\n", req.N)), nil
	})
	rpc.Handle(s, pathJobs, func(ctx context.Context, req *echoReq) (any, error) {
		calls.Add(1)
		j := api.Job{ID: 3}
		if req.N > 0 {
			j.Spec = &api.JobSpec{Name: req.Msg}
		}
		return api.JobList{Jobs: []api.Job{j}}, nil
	})
	rpc.Handle(s, pathWhoAmI, func(ctx context.Context, _ *struct{}) (any, error) {
		calls.Add(1)
		p, ok := auth.PeerFrom(ctx)
		if !ok {
			return nil, fmt.Errorf("no peer: %w", api.ErrInternal)
		}
		return api.WhoAmI{UID: p.UID, GID: p.GID, User: p.User}, nil
	})
}

// serve runs s on l until the test ends.
func serve(t *testing.T, s *rpc.Server, l net.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
}

func unixHTTP(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

func startUnix(t *testing.T) *target {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ctld.sock")
	l, err := rpc.ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	calls := &atomic.Int64{}
	s := rpc.NewPeerServer(zap.NewNop())
	register(s, calls)
	serve(t, s, l)
	c := rpc.Dial(sock)
	t.Cleanup(c.Close)
	return &target{name: "unix", client: c, http: unixHTTP(sock), base: "http://gsched", calls: calls}
}

func startSigned(t *testing.T) (*target, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	calls := &atomic.Int64{}
	s := rpc.NewSignedServer(auth.NewVerifier(clusterKey, time.Minute), zap.NewNop())
	register(s, calls)
	serve(t, s, l)
	addr := l.Addr().String()
	c := rpc.DialSigned(addr, clusterKey, "n1")
	t.Cleanup(c.Close)
	return &target{name: "signed", client: c, http: &http.Client{}, base: "http://" + addr, calls: calls}, addr
}

func bothServers(t *testing.T) []*target {
	signed, _ := startSigned(t)
	return []*target{startUnix(t), signed}
}

// ---- behaviour common to both servers ----

func TestCallRoundTrip(t *testing.T) {
	for _, tg := range bothServers(t) {
		t.Run(tg.name, func(t *testing.T) {
			var resp echoResp
			if err := tg.client.Call(context.Background(), pathEcho, &echoReq{Msg: "héllo", N: 41}, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Msg != "héllo" || resp.N != 42 {
				t.Errorf("resp = %+v", resp)
			}
			if wantPeer := tg.name == "unix"; resp.HasPeer != wantPeer {
				t.Errorf("handler saw a peer: %v, want %v", resp.HasPeer, wantPeer)
			}
			// A nil resp discards the answer.
			if err := tg.client.Call(context.Background(), pathEcho, &echoReq{}, nil); err != nil {
				t.Errorf("Call with nil resp: %v", err)
			}
			if n := tg.calls.Load(); n != 2 {
				t.Errorf("handler called %d times, want 2", n)
			}
		})
	}
}

func TestCallErrors(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		req        any
		want       error
		wantCode   string
		wantCalled bool
	}{
		{
			name: "handler error keeps its sentinel and message", path: pathFail, req: &echoReq{N: 7},
			want: api.ErrPermission, wantCode: api.CodePermission, wantCalled: true,
		},
		{
			name: "unknown JSON field", path: pathEcho, req: map[string]any{"msg": "x", "bogus": 1},
			want: api.ErrInvalid, wantCode: api.CodeInvalid,
		},
		{
			name: "wrong JSON type", path: pathEcho, req: map[string]any{"n": "seven"},
			want: api.ErrInvalid, wantCode: api.CodeInvalid,
		},
		{
			name: "body over MaxRequestBytes", path: pathEcho, req: &echoReq{Msg: strings.Repeat("a", api.MaxRequestBytes)},
			want: api.ErrTooLarge, wantCode: api.CodeTooLarge,
		},
		{
			name: "unknown path", path: "/v1/nope", req: &echoReq{},
			want: api.ErrNotFound, wantCode: api.CodeNotFound,
		},
	}
	for _, tg := range bothServers(t) {
		for _, tt := range tests {
			t.Run(tg.name+"/"+tt.name, func(t *testing.T) {
				before := tg.calls.Load()
				err := tg.client.Call(context.Background(), tt.path, tt.req, nil)
				var re *api.RemoteError
				if !errors.Is(err, tt.want) || !errors.As(err, &re) || re.Code != tt.wantCode {
					t.Fatalf("Call = %v (%T), want a RemoteError %s", err, err, tt.wantCode)
				}
				if tt.want == api.ErrPermission && !strings.Contains(err.Error(), "cancel job 7") {
					t.Errorf("message %q lost the handler's context", err)
				}
				if called := tg.calls.Load() > before; called != tt.wantCalled {
					t.Errorf("handler called: %v, want %v", called, tt.wantCalled)
				}
			})
		}
	}
}

func TestMaxRequestBytesIsAccepted(t *testing.T) {
	for _, tg := range bothServers(t) {
		t.Run(tg.name, func(t *testing.T) {
			// {"msg":"aaa...","n":0} of exactly MaxRequestBytes.
			msg := strings.Repeat("a", api.MaxRequestBytes-len(`{"msg":"","n":0}`))
			var resp echoResp
			if err := tg.client.Call(context.Background(), pathEcho, &echoReq{Msg: msg}, &resp); err != nil {
				t.Fatalf("Call with a body of exactly MaxRequestBytes: %v", err)
			}
			if len(resp.Msg) != len(msg) {
				t.Errorf("echoed %d bytes, want %d", len(resp.Msg), len(msg))
			}
		})
	}
}

// An answer over the client's limit is a clear error, not a truncated
// JSON decode error.
func TestAnswerTooLarge(t *testing.T) {
	rpc.SetMaxAnswer(t, 1000)
	for _, tg := range bothServers(t) {
		t.Run(tg.name, func(t *testing.T) {
			var resp echoResp
			err := tg.client.Call(context.Background(), pathEcho, &echoReq{Msg: strings.Repeat("a", 2000)}, &resp)
			if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "larger than 1000 bytes: ask for less") {
				t.Fatalf("err %v", err)
			}
			if err := tg.client.Call(context.Background(), pathEcho, &echoReq{Msg: "small"}, &resp); err != nil || resp.Msg != "small" {
				t.Fatalf("small answer: %v %+v", err, resp)
			}
		})
	}
}

// An answer that checks itself (api.JobList: every job has a spec) is
// refused when the check fails, with the reason.
func TestAnswerChecked(t *testing.T) {
	tg := startUnix(t)
	var jl api.JobList
	if err := tg.client.Call(context.Background(), pathJobs, &echoReq{Msg: "a", N: 1}, &jl); err != nil || len(jl.Jobs) != 1 || jl.Jobs[0].Spec.Name != "a" {
		t.Fatalf("a job with a spec: %v %+v", err, jl)
	}
	if err := tg.client.Call(context.Background(), pathJobs, &echoReq{}, &jl); err == nil || !strings.Contains(err.Error(), "job 3 has no spec") {
		t.Fatalf("a job without a spec: %v", err)
	}
}

// TestRawAnswer: a handler's rpc.Raw travels as text, as it is (signed
// like any answer on the signed server); a caller asking for text gets
// an error, not JSON's bytes, from a call answering JSON; and the answer
// limit holds for text too.
func TestRawAnswer(t *testing.T) {
	for _, tg := range bothServers(t) {
		t.Run(tg.name, func(t *testing.T) {
			var text rpc.Raw
			if err := tg.client.Call(context.Background(), pathText, &echoReq{Msg: "JOBID \"é\"", N: 3}, &text); err != nil {
				t.Fatal(err)
			}
			if want := strings.Repeat("JOBID \"é\"\n", 3); string(text) != want {
				t.Fatalf("text %q, want %q", text, want)
			}
			if err := tg.client.Call(context.Background(), pathEcho, &echoReq{Msg: "x"}, &text); err == nil || !strings.Contains(err.Error(), "not text") {
				t.Fatalf("JSON answer taken as text: %v", err)
			}
			var resp echoResp
			if err := tg.client.Call(context.Background(), pathText, &echoReq{Msg: "x", N: 1}, &resp); err == nil {
				t.Fatalf("text answer decoded as JSON: %+v", resp)
			}
		})
	}
	rpc.SetMaxAnswer(t, 1000)
	var text rpc.Raw
	tg := startUnix(t)
	if err := tg.client.Call(context.Background(), pathText, &echoReq{Msg: "abc", N: 500}, &text); !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("2,000 bytes of text over a 1,000-byte limit: %v", err)
	}
}

func TestOnlyPOST(t *testing.T) {
	for _, tg := range bothServers(t) {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			t.Run(tg.name+"/"+method, func(t *testing.T) {
				req, err := http.NewRequest(method, tg.base+pathEcho, strings.NewReader(`{}`))
				if err != nil {
					t.Fatal(err)
				}
				r, err := tg.http.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Body.Close()
				if code := errorCode(t, r); r.StatusCode != http.StatusBadRequest || code != api.CodeInvalid {
					t.Errorf("%s: HTTP %d code %q, want 400 invalid", method, r.StatusCode, code)
				}
				if n := tg.calls.Load(); n != 0 {
					t.Errorf("handler called %d times", n)
				}
			})
		}
	}
}

// errorCode decodes an error answer's code.
func errorCode(t *testing.T, r *http.Response) string {
	t.Helper()
	var eb struct {
		Error api.RemoteError `json:"error"`
	}
	if err := json.NewDecoder(r.Body).Decode(&eb); err != nil {
		t.Fatalf("error body: %v", err)
	}
	return eb.Error.Code
}

// ---- the Unix socket server ----

func TestUnixServerSeesCallerUID(t *testing.T) {
	tg := startUnix(t)
	var who api.WhoAmI
	if err := tg.client.Call(context.Background(), pathWhoAmI, struct{}{}, &who); err != nil {
		t.Fatal(err)
	}
	if who.UID != uint32(os.Getuid()) || who.GID != uint32(os.Getgid()) || who.User != auth.UserName(who.UID) {
		t.Errorf("server saw %+v, want uid %d gid %d", who, os.Getuid(), os.Getgid())
	}
}

func TestPeerServerNeedsPeerCredentials(t *testing.T) {
	// Served without the Unix listener's ConnContext: no peer is known.
	calls := &atomic.Int64{}
	s := rpc.NewPeerServer(zap.NewNop())
	register(s, calls)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, pathEcho, strings.NewReader(`{}`)))
	rejected := 0
	if w.Code != http.StatusUnauthorized || calls.Load() != 0 {
		t.Errorf("HTTP %d, %d handler calls; want 401 and none", w.Code, calls.Load())
	} else {
		rejected++
	}
	logAuth(t, 1, rejected)
}

// logAuth reports a test's forged, unsigned or replayed attempts and how
// many were rejected, for make faults' table.
func logAuth(t *testing.T, attempts, rejected int) {
	t.Helper()
	t.Logf("FAULTS auth %s: attempts %d, rejected %d", t.Name(), attempts, rejected)
}

func TestListenUnix(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "gsched")
	sock := filepath.Join(dir, "ctld.sock")
	l, err := rpc.ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(sock)
	if err != nil || st.Mode().Perm() != 0o666 || st.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket %v mode %v, want a 0666 socket", err, st.Mode())
	}
	if _, err := rpc.ListenUnix(sock); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second ListenUnix on a live socket = %v, want 'in use'", err)
	}
	l.Close()

	// A leftover file (a daemon that crashed) is replaced.
	if err := os.WriteFile(sock, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = rpc.ListenUnix(sock)
	if err != nil {
		t.Fatalf("ListenUnix over a stale file: %v", err)
	}
	l.Close()
}

// ---- the signed TCP server ----

// recorder is a RoundTripper that keeps a copy of every request it sends
// and the status of every answer.
type recorder struct {
	next http.RoundTripper

	mu       sync.Mutex
	reqs     []*http.Request
	bodies   [][]byte
	statuses []int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.next.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.bodies = append(r.bodies, body)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	r.statuses = append(r.statuses, status)
	return resp, err
}

func (r *recorder) last() (*http.Request, []byte, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.reqs) - 1
	return r.reqs[n], r.bodies[n], r.statuses[n]
}

func record(c *rpc.Client) *recorder {
	rec := &recorder{}
	rpc.WrapTransport(c, func(next http.RoundTripper) http.RoundTripper {
		rec.next = next
		return rec
	})
	return rec
}

func TestSignedServerRejectsUnsigned(t *testing.T) {
	tg, _ := startSigned(t)
	r, err := http.Post(tg.base+pathEcho, "application/json", strings.NewReader(`{"msg":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	code := errorCode(t, r)
	if r.StatusCode != http.StatusUnauthorized || code != api.CodeUnauthenticated {
		t.Errorf("unsigned request: HTTP %d %q, want 401 unauthenticated", r.StatusCode, code)
	}
	n := tg.calls.Load()
	if n != 0 {
		t.Errorf("handler called %d times for an unsigned request", n)
	}
	logAuth(t, 1, b2i(r.StatusCode == http.StatusUnauthorized && code == api.CodeUnauthenticated && n == 0))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSignedServerRejectsWrongKey(t *testing.T) {
	tg, addr := startSigned(t)
	c := rpc.DialSigned(addr, wrongKey, "intruder")
	defer c.Close()
	rec := record(c)
	err := c.Call(context.Background(), pathEcho, &echoReq{Msg: "x"}, nil)
	if !errors.Is(err, api.ErrUnauthenticated) {
		t.Errorf("Call with the wrong key = %v, want ErrUnauthenticated", err)
	}
	_, _, status := rec.last()
	if status != http.StatusUnauthorized {
		t.Errorf("HTTP %d, want 401", status)
	}
	n := tg.calls.Load()
	if n != 0 {
		t.Errorf("handler called %d times for a forged request", n)
	}
	logAuth(t, 1, b2i(errors.Is(err, api.ErrUnauthenticated) && status == http.StatusUnauthorized && n == 0))
}

func TestSignedServerRejectsReplay(t *testing.T) {
	tg, _ := startSigned(t)
	rec := record(tg.client)
	if err := tg.client.Call(context.Background(), pathEcho, &echoReq{Msg: "once"}, nil); err != nil {
		t.Fatal(err)
	}
	orig, body, status := rec.last()
	if status != http.StatusOK || orig.Header.Get(auth.HeaderSig) == "" || orig.Header.Get(auth.HeaderNode) != "n1" {
		t.Fatalf("first call: HTTP %d, headers %v", status, orig.Header)
	}
	replay, err := http.NewRequest(http.MethodPost, orig.URL.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	replay.Header = orig.Header.Clone()
	r, err := http.DefaultClient.Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	code := errorCode(t, r)
	if r.StatusCode != http.StatusUnauthorized || code != api.CodeUnauthenticated {
		t.Errorf("replayed request: HTTP %d %q, want 401", r.StatusCode, code)
	}
	n := tg.calls.Load()
	if n != 1 {
		t.Errorf("handler called %d times, want 1 (not for the replay)", n)
	}
	logAuth(t, 1, b2i(r.StatusCode == http.StatusUnauthorized && code == api.CodeUnauthenticated && n == 1))
	// The client itself signs every call afresh.
	if err := tg.client.Call(context.Background(), pathEcho, &echoReq{Msg: "once"}, nil); err != nil {
		t.Errorf("second genuine call: %v", err)
	}
}

// A node daemon acts only on answers signed for its own request: one from
// an impostor (no signature, another key) or an old genuine answer replayed
// for a new request is refused, and nothing is decoded.
func TestSignedClientRejectsForgedAnswers(t *testing.T) {
	body := []byte(`{"msg":"run this"}` + "\n")
	old := map[string]string{auth.HeaderTime: "1", auth.HeaderNonce: "00"}
	attempts, rejected := 0, 0
	for _, tc := range []struct {
		name string
		sig  func(r *http.Request) string
	}{
		{"unsigned", func(*http.Request) string { return "" }},
		{"another key", func(r *http.Request) string {
			return auth.NewVerifier(wrongKey, time.Minute).SignResponse(pathEcho, r.Header.Get, body)
		}},
		{"replayed for another request", func(*http.Request) string {
			return auth.NewVerifier(clusterKey, time.Minute).SignResponse(pathEcho, func(k string) string { return old[k] }, body)
		}},
		{"signed for another path", func(r *http.Request) string {
			return auth.NewVerifier(clusterKey, time.Minute).SignResponse("/v1/other", r.Header.Get, body)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if sig := tc.sig(r); sig != "" {
					w.Header().Set(auth.HeaderRespSig, sig)
				}
				w.Write(body)
			}))
			defer srv.Close()
			c := rpc.DialSigned(strings.TrimPrefix(srv.URL, "http://"), clusterKey, "n1")
			defer c.Close()
			var got echoReq
			attempts++
			err := c.Call(context.Background(), pathEcho, &echoReq{Msg: "x"}, &got)
			ok := errors.Is(err, api.ErrUnauthenticated) && errors.Is(err, auth.ErrBadResponse)
			if !ok {
				t.Errorf("Call = %v, want ErrBadResponse", err)
			}
			if got.Msg != "" {
				t.Errorf("forged answer decoded: %+v", got)
			}
			rejected += b2i(ok && got.Msg == "")
		})
	}
	logAuth(t, attempts, rejected)
	// The genuine server's answer verifies: the client requires it.
	tg, _ := startSigned(t)
	rec := record(tg.client)
	if err := tg.client.Call(context.Background(), pathEcho, &echoReq{Msg: "ok"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, status := rec.last(); status != http.StatusOK {
		t.Fatalf("HTTP %d", status)
	}
}

// ---- the client ----

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := l.Addr().String()
	l.Close()
	tests := []struct {
		name   string
		client *rpc.Client
	}{
		{"missing socket", rpc.Dial(filepath.Join(t.TempDir(), "nobody.sock"))},
		{"closed TCP port", rpc.DialSigned(closedAddr, clusterKey, "n1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.client.Close()
			err := tt.client.Call(context.Background(), pathEcho, &echoReq{}, nil)
			if !errors.Is(err, api.ErrUnavailable) {
				t.Errorf("Call = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestCallCancelled(t *testing.T) {
	tg := startUnix(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tg.client.Call(ctx, pathEcho, &echoReq{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Call with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestCallUnencodable(t *testing.T) {
	tg := startUnix(t)
	if err := tg.client.Call(context.Background(), pathEcho, make(chan int), nil); err == nil {
		t.Error("Call with an unencodable request succeeded")
	}
	if n := tg.calls.Load(); n != 0 {
		t.Errorf("handler called %d times", n)
	}
}

func TestNonJSONErrorAnswer(t *testing.T) {
	// A proxy or an old daemon answering plain text.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer ts.Close()
	c := rpc.DialSigned(strings.TrimPrefix(ts.URL, "http://"), clusterKey, "n1")
	defer c.Close()
	err := c.Call(context.Background(), pathEcho, &echoReq{}, nil)
	var re *api.RemoteError
	if !errors.As(err, &re) || re.Code != api.CodeInternal || !strings.Contains(re.Message, "502") {
		t.Errorf("Call = %v, want an internal RemoteError naming HTTP 502", err)
	}
}

// ---- Decode ----

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"valid", `{"spec":{"name":"a","nodes":1}}`, false},
		{"empty object", `{}`, false},
		{"surrounding whitespace", " \n{}\n ", false},
		{"unknown field", `{"spec":{},"extra":1}`, true},
		{"unknown nested field", `{"spec":{"name":"a","uid":0}}`, true},
		{"trailing object", `{}{}`, true},
		{"trailing garbage", `{} x`, true},
		{"empty body", ``, true},
		{"null", `null`, false},
		{"wrong type", `{"spec":{"nodes":"one"}}`, true},
		{"array", `[]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req api.SubmitRequest
			err := rpc.Decode([]byte(tt.body), &req)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, api.ErrInvalid)) {
				t.Errorf("Decode(%q) = %v, want error: %v (ErrInvalid)", tt.body, err, tt.wantErr)
			}
		})
	}
}

// FuzzDecode checks that Decode never panics, fails only with ErrInvalid,
// and that what it accepts survives a re-encoding unchanged.
func FuzzDecode(f *testing.F) {
	seeds := []any{
		api.SubmitRequest{Spec: api.JobSpec{Name: "train", Nodes: 1, NTasks: 2, CPUsPerTask: 4, MemBytes: 1 << 30, GPUs: 2,
			Output: "out-%j.log", WorkDir: "/home/a", Env: []string{"A=1"}, Script: "#!/bin/sh\necho hi\n", Args: []string{"x"}}},
		api.SyncRequest{Node: "n1", BootID: "b", WaitMs: 5000, Reports: []api.TaskReport{
			{JobID: 3, State: api.TaskExited, ExitCode: 1, OOMKilled: true, EndTime: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
			{JobID: 4, State: api.TaskRunning, SignalSeq: 9},
		}},
	}
	for _, s := range seeds {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"spec":{"nodes":1e400}}`))
	f.Add([]byte(`{"reports":[{"start_time":"2025-13-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"spec":null}{`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var sub api.SubmitRequest
		checkDecode(t, body, &sub, func() any { return new(api.SubmitRequest) })
		var sync api.SyncRequest
		checkDecode(t, body, &sync, func() any { return new(api.SyncRequest) })
	})
}

func checkDecode(t *testing.T, body []byte, v any, fresh func() any) {
	t.Helper()
	if err := rpc.Decode(body, v); err != nil {
		if !errors.Is(err, api.ErrInvalid) {
			t.Fatalf("Decode error %v does not wrap ErrInvalid", err)
		}
		return
	}
	b1, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("accepted %q, but it does not encode: %v", body, err)
	}
	w := fresh()
	if err := rpc.Decode(b1, w); err != nil {
		t.Fatalf("re-encoded %q does not decode: %v", b1, err)
	}
	if b2, _ := json.Marshal(w); !bytes.Equal(b1, b2) {
		t.Fatalf("re-encoding changed the value:\n%s\n%s", b1, b2)
	}
}

// answerTransport answers every request with a fixed status, body and
// response signature, without a network.
type answerTransport struct {
	status int
	body   []byte
	sig    string
}

func (a answerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	h := http.Header{}
	if a.sig != "" {
		h.Set(auth.HeaderRespSig, a.sig)
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(bytes.NewReader(a.body)), Request: r}, nil
}

// FuzzClientAnswer: whatever a daemon (or someone in between) answers, a
// signed client never panics and never hands on an answer not signed with
// the cluster key for its request; a refusal comes back as an error with a
// known code.
func FuzzClientAnswer(f *testing.F) {
	ok, _ := json.Marshal(api.SyncResponse{Jobs: []api.Job{{ID: 1, User: "a"}}, Reregister: true})
	f.Add(200, ok, "")
	f.Add(200, ok, strings.Repeat("0", 64))
	f.Add(400, []byte(`{"error":{"code":"invalid","message":"two\nlines"}}`), "")
	f.Add(500, []byte(`{"error":{"code":"bogus","message":""}}`), "")
	f.Add(503, []byte("<html>"), "")
	f.Add(200, []byte(`{"jobs":[{"id":-1}]}`), "x")
	f.Fuzz(func(t *testing.T, status int, body []byte, sig string) {
		if status < 100 || status > 999 {
			return
		}
		c := rpc.DialSigned("127.0.0.1:1", clusterKey, "n1")
		defer c.Close()
		rpc.WrapTransport(c, func(http.RoundTripper) http.RoundTripper { return answerTransport{status, body, sig} })
		var resp api.SyncResponse
		err := c.Call(context.Background(), api.PathNodeSync, &api.SyncRequest{Node: "n1"}, &resp)
		if err == nil {
			if status != http.StatusOK {
				t.Fatalf("HTTP %d answered without an error", status)
			}
			t.Fatalf("accepted an answer not signed with the cluster key: %q (sig %q)", body, sig)
		}
		var re *api.RemoteError
		switch {
		case status == http.StatusOK:
			if !errors.Is(err, api.ErrUnauthenticated) {
				t.Fatalf("unsigned 200 answer gave %v, want an authentication error", err)
			}
		case errors.As(err, &re):
			if re.Error() == "" {
				t.Fatalf("HTTP %d gave an error without text: %#v", status, re)
			}
		default:
			t.Fatalf("HTTP %d gave %v", status, err)
		}
	})
}
