package server

import (
	"context"
	"fmt"
	"os/user"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
)

// issueToken gives a local caller a token for remote use of the commands
// (`gcontrol token`). Tokens are issued only on the Unix socket, where the
// kernel vouches for the caller: a token cannot be used to get a fresher
// one, so a leaked token dies at its expiry.
func (s *Server) issueToken(ctx context.Context, req *api.TokenRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if p.IsRemote() {
		s.log.Warn("denied: token request over the network", zap.String("user", p.User), zap.String("host", p.Remote))
		return nil, fmt.Errorf("%w: tokens are issued only to commands on the controller's host", api.ErrPermission)
	}
	life := s.cfg.Auth.TokenLifespan.Duration
	if req.Lifespan < 0 {
		return nil, fmt.Errorf("%w: lifespan must be positive", api.ErrInvalid)
	}
	if req.Lifespan > 0 {
		max := s.cfg.Auth.MaxTokenLifespan.Duration
		if req.Lifespan > int64(max/time.Second) {
			return nil, fmt.Errorf("%w: lifespan %ds is over the maximum %s (auth.max_token_lifespan)", api.ErrInvalid, req.Lifespan, max)
		}
		life = time.Duration(req.Lifespan) * time.Second
	}
	if len(req.Host) > 255 {
		return nil, fmt.Errorf("%w: host name too long", api.ErrInvalid)
	}
	id := auth.Identity{UID: p.UID, GID: p.GID, User: p.User}
	if req.User != "" && req.User != p.User {
		if !op {
			s.log.Warn("denied: token for another user", zap.Uint32("uid", p.UID), zap.String("user", p.User),
				zap.String("for", req.User))
			return nil, fmt.Errorf("%w: only operators may get a token for another user", api.ErrPermission)
		}
		if id, err = lookupIdentity(req.User); err != nil {
			return nil, err
		}
	}
	tok, exp, err := s.tokens.Issue(id, req.Host, life)
	if err != nil {
		return nil, err
	}
	s.log.Info("token issued", zap.String("user", id.User), zap.Uint32("uid", id.UID),
		zap.String("by", p.User), zap.String("host", req.Host), zap.Time("expires", exp))
	return &api.TokenResponse{Token: tok, User: id.User, Expires: exp.UTC()}, nil
}

// lookupIdentity finds a user by name in the controller's user database.
func lookupIdentity(name string) (auth.Identity, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return auth.Identity{}, fmt.Errorf("%w: unknown user %q", api.ErrInvalid, name)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return auth.Identity{}, fmt.Errorf("%w: user %q has no numeric uid/gid", api.ErrInvalid, name)
	}
	return auth.Identity{UID: uint32(uid), GID: uint32(gid), User: u.Username}, nil
}
