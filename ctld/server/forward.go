package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/rpc"
)

// With HA, only the leader applies commands and schedules. A follower
// passes every request it gets to the leader and relays the answer, so
// commands and node daemons may talk to any live controller:
//
//   - node daemons' and remote commands' requests go verbatim (their
//     signatures are end to end: the leader verifies them and signs the
//     answer, which the follower relays unchanged);
//   - local commands (Unix socket, identity from SO_PEERCRED) go to the
//     leader's user address signed with a short-lived token that this
//     follower mints for the caller, as `gcontrol token` would.
//
// With no leader (an election is under way) the answer is ErrNoLeader,
// which commands retry: nothing was applied.

// listenerKind says which listener a request came in on.
type listenerKind int

const (
	localUsers listenerKind = iota
	nodeDaemons
	remoteUsers
)

// forwardTokenLife bounds the tokens a follower mints to forward local
// callers' requests; tokens are reused for half of it.
const forwardTokenLife = 10 * time.Minute

type forwarder struct {
	s      *Server
	hc     *http.Client
	scheme string // "http://", or "https://" with TLS
	self   string

	mu     sync.Mutex
	tokens map[auth.Identity]forwardToken
}

type forwardToken struct {
	signer *auth.TokenSigner
	renew  time.Time
}

func newForwarder(s *Server, tlsConf *tls.Config) *forwarder {
	tr := &http.Transport{
		DialContext:     (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:    64,
		IdleConnTimeout: 90 * time.Second,
		TLSClientConfig: tlsConf,
	}
	scheme := "http://"
	if tlsConf != nil {
		scheme = "https://"
	}
	return &forwarder{s: s, hc: &http.Client{Transport: tr}, scheme: scheme, self: s.cfg.ControllerID(), tokens: map[auth.Identity]forwardToken{}}
}

// hook returns the rpc.Forwarder for one listener.
func (f *forwarder) hook(kind listenerKind, srv *rpc.Server) rpc.Forwarder {
	return func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if f.s.raft.isLeader() {
			return false
		}
		path := r.URL.Path
		if kind == localUsers && path == api.PathToken {
			return false // tokens are minted here, with the cluster key
		}
		lid := f.s.raft.leaderID()
		leader, ok := f.s.cfg.Peer(lid)
		if !ok || lid == f.self {
			srv.WriteError(w, path, api.ErrNoLeader)
			return true
		}
		var target string
		hdr := http.Header{}
		switch kind {
		case nodeDaemons:
			target = leader.Listen
			copySigned(hdr, r.Header)
			if names := rpc.PeerCertNames(r.TLS); names != nil {
				// The leader checks the node's own certificate, not ours.
				hdr.Set(rpc.HeaderRelayedCert, strings.Join(names, ","))
			}
		case remoteUsers:
			target = leader.User
			copySigned(hdr, r.Header)
		case localUsers:
			p, ok := auth.PeerFrom(r.Context())
			if !ok {
				return false // the local server refuses it
			}
			signer, err := f.token(p)
			if err != nil {
				srv.WriteError(w, path, err)
				return true
			}
			h, err := signer.Sign(http.MethodPost, path, body)
			if err != nil {
				srv.WriteError(w, path, err)
				return true
			}
			for k, v := range h {
				hdr.Set(k, v)
			}
			target = leader.User
		}
		f.relay(w, r.Context(), srv, target, path, hdr, body)
		return true
	}
}

// copySigned copies the headers an end-to-end signature covers.
func copySigned(dst, src http.Header) {
	for _, k := range []string{auth.HeaderTime, auth.HeaderNonce, auth.HeaderSig, auth.HeaderNode, auth.HeaderToken, auth.HeaderHost} {
		if v := src.Get(k); v != "" {
			dst.Set(k, v)
		}
	}
}

// token returns a (cached) forwarding token for a local caller.
func (f *forwarder) token(p auth.Peer) (*auth.TokenSigner, error) {
	id := auth.Identity{UID: p.UID, GID: p.GID, User: p.User}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.tokens[id]; ok && now.Before(t.renew) {
		return t.signer, nil
	}
	tok, _, err := f.s.tokens.Issue(id, "", forwardTokenLife)
	if err != nil {
		return nil, err
	}
	signer, err := auth.ParseToken(tok, "via-"+f.self)
	if err != nil {
		return nil, err
	}
	f.tokens[id] = forwardToken{signer: signer, renew: now.Add(forwardTokenLife / 2)}
	return signer, nil
}

// relay posts the request to the leader and copies its answer back. A
// leader that cannot be reached gives ErrNoLeader: the request was not
// delivered, so the caller may retry.
func (f *forwarder) relay(w http.ResponseWriter, ctx context.Context, srv *rpc.Server, target, path string, hdr http.Header, body []byte) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.scheme+target+path, bytes.NewReader(body))
	if err != nil {
		srv.WriteError(w, path, fmt.Errorf("forward: %w", err))
		return
	}
	req.Header = hdr
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.hc.Do(req)
	if err != nil {
		f.s.log.Debug("forward to leader failed", zap.String("leader", target), zap.String("path", path), zap.Error(err))
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			srv.WriteError(w, path, api.ErrNoLeader) // not delivered: safe to retry
		} else {
			srv.WriteError(w, path, fmt.Errorf("%w: the leader did not answer (the request may or may not have been applied)", api.ErrUnavailable))
		}
		return
	}
	defer resp.Body.Close()
	for _, k := range []string{"Content-Type", auth.HeaderRespSig} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		f.s.log.Debug("relay answer", zap.String("path", path), zap.Error(err))
	}
}
