// Package rpc is gsched's transport: JSON request/response over HTTP/1.1,
// on a Unix socket for users (caller identified by SO_PEERCRED) and on TCP
// for daemons (every request signed with the cluster key). Bodies are
// size-limited, unknown fields are rejected, and errors travel as a code
// plus a one-line message that maps back to api's sentinel errors.
package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
)

// HandlerFunc handles one decoded request. The context carries the caller
// (auth.PeerFrom) on Unix-socket servers.
type HandlerFunc func(ctx context.Context, body []byte) (any, error)

// Authenticator checks a signed request and signs its answer: the
// cluster key's *auth.Verifier for node daemons, *auth.TokenAuthority for
// remote users (it puts the caller in the context).
type Authenticator interface {
	Authenticate(ctx context.Context, method, path string, body []byte, get func(string) string) (context.Context, error)
	SignResponse(path string, get func(string) string, body []byte) string
}

var (
	_ Authenticator = (*auth.Verifier)(nil)
	_ Authenticator = (*auth.TokenAuthority)(nil)
)

// Forwarder may take a request instead of the local handlers (a follower
// controller passes it to the leader); it reports whether it did. It runs
// after the body is read and size-checked, before authentication.
type Forwarder func(w http.ResponseWriter, r *http.Request, body []byte) bool

// Server dispatches POST requests by path.
type Server struct {
	handlers map[string]HandlerFunc
	verifier Authenticator // nil: Unix-socket server, peer credentials required
	forward  Forwarder
	log      *zap.Logger
	mounts   []mount
}

// mount is a handler of its own for every path under prefix.
type mount struct {
	prefix string
	h      http.Handler
}

// Mount serves every request whose path starts with prefix (say
// "/api/") with h, on the same listener, before any other check: h does
// its own authentication, and the server's forwarder does not see it. On
// a Unix-socket server the request context carries the caller
// (auth.PeerFrom), as for RPCs. Call before Serve.
func (s *Server) Mount(prefix string, h http.Handler) {
	s.mounts = append(s.mounts, mount{prefix: prefix, h: h})
}

// SetForwarder installs f (before Serve).
func (s *Server) SetForwarder(f Forwarder) { s.forward = f }

// WriteError answers with err's code and one-line message.
func (s *Server) WriteError(w http.ResponseWriter, path string, err error) {
	s.writeError(w, path, err)
}

// NewPeerServer returns a server whose callers must come over a Unix
// socket (use Serve with a listener from ListenUnix).
func NewPeerServer(log *zap.Logger) *Server {
	return &Server{handlers: map[string]HandlerFunc{}, log: log}
}

// NewSignedServer returns a server that accepts only requests that a
// verifies: signed with the cluster key (node daemons) or with a user
// token (remote commands).
func NewSignedServer(a Authenticator, log *zap.Logger) *Server {
	return &Server{handlers: map[string]HandlerFunc{}, verifier: a, log: log}
}

// Handlers returns a copy of the registered handlers (to serve the same
// calls on another transport, see HandleAll).
func (s *Server) Handlers() map[string]HandlerFunc {
	out := make(map[string]HandlerFunc, len(s.handlers))
	for k, v := range s.handlers {
		out[k] = v
	}
	return out
}

// HandleAll registers already-decoding handlers (from Handlers).
func (s *Server) HandleAll(hs map[string]HandlerFunc) {
	for k, v := range hs {
		s.handlers[k] = v
	}
}

// Handle registers fn for path, decoding the body into Req strictly.
func Handle[Req any](s *Server, path string, fn func(ctx context.Context, req *Req) (any, error)) {
	s.handlers[path] = func(ctx context.Context, body []byte) (any, error) {
		req := new(Req)
		if err := Decode(body, req); err != nil {
			return nil, err
		}
		return fn(ctx, req)
	}
}

// Decode parses a JSON body strictly: unknown fields and trailing data are
// errors wrapping api.ErrInvalid.
func Decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: malformed request: %v", api.ErrInvalid, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: malformed request: trailing data", api.ErrInvalid)
	}
	return nil
}

type errorBody struct {
	Error api.RemoteError `json:"error"`
}

func statusOf(code string) int {
	switch code {
	case api.CodeInvalid:
		return http.StatusBadRequest
	case api.CodeNotFound:
		return http.StatusNotFound
	case api.CodePermission:
		return http.StatusForbidden
	case api.CodeUnauthenticated:
		return http.StatusUnauthorized
	case api.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case api.CodeUnavailable, api.CodeNoLeader:
		return http.StatusServiceUnavailable
	case api.CodeConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func (s *Server) writeError(w http.ResponseWriter, path string, err error) {
	code := api.CodeOf(err)
	msg := err.Error()
	if code == api.CodeInternal {
		s.log.Error("rpc failed", zap.String("path", path), zap.Error(err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusOf(code))
	_ = json.NewEncoder(w).Encode(errorBody{Error: api.RemoteError{Code: code, Message: msg}})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	for _, m := range s.mounts {
		if strings.HasPrefix(path, m.prefix) {
			m.h.ServeHTTP(w, r.WithContext(withCertNames(r.Context(), r)))
			return
		}
	}
	if r.Method != http.MethodPost {
		s.writeError(w, path, fmt.Errorf("%w: method %s not allowed, use POST", api.ErrInvalid, r.Method))
		return
	}
	h, ok := s.handlers[path]
	if !ok {
		s.writeError(w, path, fmt.Errorf("%w: no such call %s", api.ErrNotFound, path))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, api.MaxRequestBytes+1))
	if err != nil {
		s.writeError(w, path, fmt.Errorf("%w: read request: %v", api.ErrInvalid, err))
		return
	}
	if len(body) > api.MaxRequestBytes {
		s.writeError(w, path, fmt.Errorf("%w: request body over %d bytes", api.ErrTooLarge, api.MaxRequestBytes))
		return
	}
	if s.forward != nil && s.forward(w, r, body) {
		return
	}
	ctx := withCertNames(r.Context(), r)
	if s.verifier != nil {
		if ctx, err = s.verifier.Authenticate(ctx, r.Method, path, body, r.Header.Get); err != nil {
			s.log.Warn("rejected unauthenticated request", zap.String("path", path),
				zap.String("remote", r.RemoteAddr), zap.Error(err))
			s.writeError(w, path, err)
			return
		}
	} else if _, ok := auth.PeerFrom(ctx); !ok {
		s.writeError(w, path, fmt.Errorf("%w: caller identity unknown", api.ErrUnauthenticated))
		return
	}
	resp, err := h(ctx, body)
	if err != nil {
		s.writeError(w, path, err)
		return
	}
	var data []byte
	if raw, ok := resp.(Raw); ok {
		data = raw
		w.Header().Set("Content-Type", rawContentType)
	} else {
		if data, err = encodeAnswer(resp); err != nil {
			s.writeError(w, path, fmt.Errorf("encode answer: %w", err))
			return
		}
		data = append(data, '\n')
		w.Header().Set("Content-Type", "application/json")
	}
	if s.verifier != nil {
		w.Header().Set(auth.HeaderRespSig, s.verifier.SignResponse(path, r.Header.Get, data))
	}
	if _, err := w.Write(data); err != nil {
		s.log.Debug("write response", zap.String("path", path), zap.Error(err))
	}
}

// ListenUnix creates a Unix socket any local user may connect to (the
// daemon identifies each caller by SO_PEERCRED), replacing a stale one.
func ListenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("socket dir: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("socket %s is in use by another daemon", path)
	}
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod socket: %w", err)
	}
	return l, nil
}

// HTTPServer wraps s in an http.Server. For Unix listeners it records each
// connection's peer credentials in the request context.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if s.verifier != nil {
				return ctx
			}
			p, err := auth.PeerCred(c)
			if err != nil {
				return ctx
			}
			return auth.WithPeer(ctx, p)
		},
		// TLS handshake failures (a node without a certificate, one from
		// another CA) and malformed requests go to the daemon's log.
		ErrorLog: stdLog(s.log),
	}
}

// Serve runs the server on l until ctx is done, then shuts it down.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := s.HTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// stdLog adapts log for net/http's ErrorLog, at warning level.
func stdLog(log *zap.Logger) *stdlog.Logger {
	l, err := zap.NewStdLogAt(log, zap.WarnLevel)
	if err != nil {
		return zap.NewStdLog(log)
	}
	return l
}
