package rpc

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"

	"github.com/gsched/gsched/pkg/api"
)

// Caller makes one call; *Client and *Failover implement it.
type Caller interface {
	Call(ctx context.Context, path string, req, resp any) error
}

var (
	_ Caller = (*Client)(nil)
	_ Caller = (*Failover)(nil)
)

// Failover calls the controllers of an HA set in turn: it keeps using the
// one that last answered, and moves on to the next when that one cannot be
// reached or has no leader. Every controller forwards to the leader, so
// any live one will do.
type Failover struct {
	clients []*Client
	// retryAll: retry any unavailable error (node daemons, whose calls
	// are idempotent); otherwise only errors that prove the request was
	// not applied (not delivered, or no leader), so a submission is never
	// made twice.
	retryAll bool

	mu  sync.Mutex
	cur int
}

// NewFailover returns a Failover over clients (at least one). retryAll
// retries any unavailable error; see Failover.
func NewFailover(clients []*Client, retryAll bool) *Failover {
	return &Failover{clients: clients, retryAll: retryAll}
}

// SplitAddrs splits a comma-separated address list, dropping blanks.
func SplitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Call tries the current controller, then each other one at most once.
func (f *Failover) Call(ctx context.Context, path string, req, resp any) error {
	f.mu.Lock()
	start := f.cur
	f.mu.Unlock()
	var err error
	for i := range f.clients {
		k := (start + i) % len(f.clients)
		err = f.clients[k].Call(ctx, path, req, resp)
		if err == nil || !f.retryable(err) || ctx.Err() != nil {
			if err == nil {
				f.mu.Lock()
				f.cur = k
				f.mu.Unlock()
			}
			return err
		}
		f.mu.Lock()
		f.cur = (k + 1) % len(f.clients)
		f.mu.Unlock()
	}
	return err
}

func (f *Failover) retryable(err error) bool {
	if !errors.Is(err, api.ErrUnavailable) {
		return false
	}
	if f.retryAll || errors.Is(err, api.ErrNoLeader) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// Close releases every client's idle connections.
func (f *Failover) Close() {
	for _, c := range f.clients {
		c.Close()
	}
}
