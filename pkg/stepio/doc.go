// Package stepio carries the standard output and standard error of a step's
// tasks back to the grun process that launched the step, the way srun
// forwards its tasks' output.
//
// grun runs a [Server]: it listens on TCP, and its address and random token
// travel in the step request. On each node the step shim (running as root)
// calls [Dial] once per task with the token and the task's rank, then copies
// the task's stdout and stderr pipes into [Client.Stdout] and
// [Client.Stderr], and calls [Client.Close] when both pipes reach EOF. The
// server writes what it receives to grun's own stdout and stderr, optionally
// prefixing every line with the rank (srun -l), and reports every rank whose
// stream ended cleanly through [Server.Done] and [Server.WaitRanks], so that
// grun can wait until all output has been written before it exits.
//
// # Wire format
//
// All integers are big-endian. The client opens a TCP connection and sends
// the handshake:
//
//	magic  6 bytes   "GSIO1\n"
//	token  64 bytes  the server's token, 64 lowercase hex characters
//	rank   4 bytes   uint32, at most 2^31-1
//
// If the magic, token and rank are valid the server replies with the single
// byte 'K'; otherwise it closes the connection without replying. The
// handshake must complete within [HandshakeTimeout].
//
// After 'K' the client sends frames, and the server sends nothing more
// (except on a terminal connection, opened with [MagicTTY] instead of the
// magic: see tty.go; the server then also sends stdin, window-size and
// end-of-input frames):
//
//	stream  1 byte   1 stdout, 2 stderr, 0 end
//	length  4 bytes  uint32, number of data bytes, at most MaxFrameSize
//	data    length bytes
//
// The end frame (stream 0) must have length 0; after it the client sends
// nothing and closes the connection. A connection that ends without an end
// frame (a crashed shim, a lost node) is not reported as done.
//
// # Server limits
//
// The token is compared in constant time (crypto/subtle). A connection with
// a bad magic, token or rank, an unknown stream, an end frame with data, or a
// length over [MaxFrameSize] is closed; data already received on it stays
// written, and other connections are not affected. At most [MaxConns]
// connections (including those still in their handshake) are served at a
// time; further ones are closed at once, which [Dial] reports as
// [ErrRejected].
//
// In label mode a line longer than [MaxLineSize] bytes is written in pieces
// of MaxLineSize bytes, each ended with a newline, so that a task that never
// writes a newline cannot make grun buffer without bound.
package stepio
