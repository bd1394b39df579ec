package stepio

import (
	"errors"
	"time"
)

// Magic opens every handshake.
const Magic = "GSIO1\n"

// TokenLen is the length of a token: 32 random bytes, hex encoded.
const TokenLen = 64

// Stream identifiers, the first byte of every frame.
const (
	// StreamEnd marks the end frame: the client has sent all its output.
	StreamEnd byte = 0
	// StreamStdout carries the task's standard output.
	StreamStdout byte = 1
	// StreamStderr carries the task's standard error.
	StreamStderr byte = 2
)

// MaxFrameSize is the largest amount of data one frame may carry (64 KiB).
// Client writers split larger writes.
const MaxFrameSize = 64 << 10

// HandshakeTimeout bounds the time a server waits for a connection's
// handshake before closing it.
const HandshakeTimeout = 10 * time.Second

// MaxConns is the largest number of connections a server serves at once.
const MaxConns = 4096

// MaxLineSize is the longest line a server buffers in label mode; longer
// lines are written in pieces of this size, each ended with a newline.
const MaxLineSize = 64 << 10

// maxRank is the largest rank accepted on either end, so that a rank fits an
// int on every platform.
const maxRank = 1<<31 - 1

const (
	handshakeLen = len(Magic) + TokenLen + 4
	frameHdrLen  = 5
	acceptByte   = 'K'
)

// ErrRejected is returned (wrapped) by [Dial] when the server closed the
// connection instead of accepting the handshake: the token (or rank) was
// wrong, or the server is at its connection limit.
var ErrRejected = errors.New("stepio: server closed the connection without accepting the handshake (wrong token, or server at its connection limit)")

// ErrClosed is returned by a [Client]'s writers after [Client.Close].
var ErrClosed = errors.New("stepio: client closed")
