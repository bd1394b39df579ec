package auth

import (
	"context"
	"fmt"
	"net"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

// Peer is the identity of a local caller, as the kernel reports it.
type Peer struct {
	UID  uint32
	GID  uint32
	PID  int32
	User string
	// Remote is the origin host of a caller that came over TCP with a
	// token ("" for a local caller on the Unix socket); TokenID is that
	// token's id (jti), for the log.
	Remote  string
	TokenID string
}

// IsRemote reports whether the caller authenticated with a token.
func (p Peer) IsRemote() bool { return p.TokenID != "" }

type peerKey struct{}

// WithPeer stores the peer in the context.
func WithPeer(ctx context.Context, p Peer) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

// PeerFrom returns the peer stored by WithPeer.
func PeerFrom(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}

// PeerCred reads SO_PEERCRED of a Unix socket connection.
func PeerCred(c net.Conn) (Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Peer{}, fmt.Errorf("peer credentials: not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	if cerr != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", cerr)
	}
	return Peer{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid, User: UserName(cred.Uid)}, nil
}

// UserName returns the login name of uid, or the number as a string when
// the user database has no entry (jobs of such users still run).
func UserName(uid uint32) string {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return strconv.FormatUint(uint64(uid), 10)
	}
	return u.Username
}

// Groups returns the supplementary group ids of uid's user (with gid
// first); just gid when the user is unknown.
func Groups(uid, gid uint32) []uint32 {
	out := []uint32{gid}
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return out
	}
	ids, err := u.GroupIds()
	if err != nil {
		return out
	}
	for _, s := range ids {
		g, err := strconv.ParseUint(s, 10, 32)
		if err != nil || uint32(g) == gid {
			continue
		}
		out = append(out, uint32(g))
	}
	return out
}

// HomeDir returns uid's home directory, or "" when unknown.
func HomeDir(uid uint32) string {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return ""
	}
	return u.HomeDir
}
