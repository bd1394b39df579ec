package stepio

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// Client is a task's end (used by the node's step shim, running as root):
// one connection to grun's [Server] carrying one task's output.
type Client struct {
	conn net.Conn
	// in reads the server's input frames (DialTTY clients only).
	in *bufio.Reader
	// inBuf holds the data of the last input frame.
	inBuf []byte

	mu     sync.Mutex // serialises frames on conn
	closed bool
	err    error // first write error; the stream is unusable after it
}

// Dial connects to addr, sends the handshake (token, rank) and waits for the
// server's acceptance byte. A server that closes without accepting (wrong
// token, or at its connection limit) gives an error wrapping [ErrRejected].
// ctx bounds the dial and the handshake; it has no effect on the returned
// Client.
func Dial(ctx context.Context, addr, token string, rank int) (*Client, error) {
	return dialMagic(ctx, Magic, addr, token, rank)
}

// dialMagic connects with the given handshake magic.
func dialMagic(ctx context.Context, magic, addr, token string, rank int) (*Client, error) {
	if len(token) != TokenLen {
		return nil, fmt.Errorf("stepio: token has %d characters, want %d", len(token), TokenLen)
	}
	if rank < 0 || rank > maxRank {
		return nil, fmt.Errorf("stepio: rank %d out of range", rank)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stepio: %w", err)
	}
	if err := handshake(ctx, conn, magic, token, rank); err != nil {
		conn.Close()
		return nil, err
	}
	return &Client{conn: conn}, nil
}

// handshake sends the handshake on conn and waits for the acceptance byte,
// giving up when ctx ends.
func handshake(ctx context.Context, conn net.Conn, magic, token string, rank int) error {
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return fmt.Errorf("stepio: %w", err)
		}
	}
	// Unblock the reads and writes below if ctx is cancelled.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })

	var hs [handshakeLen]byte
	copy(hs[:], magic)
	copy(hs[len(Magic):], token)
	binary.BigEndian.PutUint32(hs[len(Magic)+TokenLen:], uint32(rank))
	_, err := conn.Write(hs[:])
	var reply [1]byte
	if err == nil {
		_, err = io.ReadFull(conn, reply[:])
	}
	if !stop() {
		// ctx ended: whatever happened, report that.
		return fmt.Errorf("stepio: handshake with %s: %w", conn.RemoteAddr(), context.Cause(ctx))
	}
	var ne net.Error
	if dl, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(dl) {
		// The socket deadline copied from ctx fired before ctx's own timer.
		return fmt.Errorf("stepio: handshake with %s: %w", conn.RemoteAddr(), context.DeadlineExceeded)
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
			errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			return fmt.Errorf("stepio: handshake with %s: %w", conn.RemoteAddr(), ErrRejected)
		}
		return fmt.Errorf("stepio: handshake with %s: %w", conn.RemoteAddr(), err)
	}
	if reply[0] != acceptByte {
		return fmt.Errorf("stepio: handshake with %s: unexpected reply byte %#x", conn.RemoteAddr(), reply[0])
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("stepio: %w", err)
	}
	return nil
}

// Stdout returns a writer that sends its data as stdout frames. It is safe
// for concurrent use with the Stderr writer; a write larger than
// [MaxFrameSize] is split into several frames, sent back to back.
func (c *Client) Stdout() io.Writer { return streamWriter{c, StreamStdout} }

// Stderr returns a writer that sends its data as stderr frames; see Stdout.
func (c *Client) Stderr() io.Writer { return streamWriter{c, StreamStderr} }

// Close sends the end frame and closes the connection. Call it after
// everything has been written: the server reports the rank as done only on
// the end frame. Writes after Close fail with [ErrClosed]. Close returns an
// error if the end frame could not be sent (or an earlier write failed, in
// which case no end frame is sent); calling it again returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.err
	if err == nil {
		var end [frameHdrLen]byte
		end[0] = StreamEnd
		if _, werr := c.conn.Write(end[:]); werr != nil {
			err = fmt.Errorf("stepio: sending end frame: %w", werr)
		}
	} else {
		err = fmt.Errorf("stepio: stream broken before close: %w", err)
	}
	if cerr := c.conn.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("stepio: %w", cerr)
	}
	return err
}

// streamWriter sends writes as frames of one stream.
type streamWriter struct {
	c      *Client
	stream byte
}

// Write sends p as one or more frames. It returns the number of bytes whose
// frames were fully handed to the connection.
func (w streamWriter) Write(p []byte) (int, error) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, ErrClosed
	}
	if c.err != nil {
		return 0, c.err
	}
	var hdr [frameHdrLen]byte
	hdr[0] = w.stream
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), MaxFrameSize)]
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(chunk)))
		bufs := net.Buffers{hdr[:], chunk}
		if _, err := bufs.WriteTo(c.conn); err != nil {
			c.err = fmt.Errorf("stepio: %w", err)
			return n, c.err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}
