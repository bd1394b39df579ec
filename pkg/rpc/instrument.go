package rpc

import (
	"context"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// Observer sees each handled call: its path, result code ("ok", else
// api.CodeOf of the error) and how long the handler took.
type Observer func(path, code string, d time.Duration)

// Instrument wraps every handler registered so far so that obs sees each
// call (call it after the last Handle). Requests refused before a handler
// runs (authentication, size, unknown path) and requests a follower
// forwards to the leader are not seen: the leader's handlers see those.
func (s *Server) Instrument(obs Observer) {
	if obs == nil {
		return
	}
	for path, h := range s.handlers {
		s.handlers[path] = func(ctx context.Context, body []byte) (any, error) {
			start := time.Now()
			resp, err := h(ctx, body)
			code := "ok"
			if err != nil {
				code = api.CodeOf(err)
			}
			obs(path, code, time.Since(start))
			return resp, err
		}
	}
}

// Wrap replaces path's handler h with wrap(h); it does nothing if no
// handler is registered for path.
func (s *Server) Wrap(path string, wrap func(HandlerFunc) HandlerFunc) {
	if h, ok := s.handlers[path]; ok {
		s.handlers[path] = wrap(h)
	}
}
