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
)

// Terminal steps (grun --pty, gattach): the task's client opens its
// connection with [MagicTTY] instead of [Magic]; the server then also sends
// it input frames, so that one connection carries the terminal both ways.
// Frames from the client are as on any connection (its pty's output comes
// as stdout frames). Frames from the server:
//
//	stream 3 (stdin)   data for the terminal, at most MaxFrameSize bytes
//	stream 4 (resize)  4 bytes: rows, then columns, each a uint16
//	stream 0 (end)     length 0: the end of grun's input (sent once)
//
// A client that receives an unknown stream, an end frame with data, a
// resize frame of another length or a length over MaxFrameSize stops
// reading: it treats grun as gone. A server serves input to one terminal
// connection at a time; another one is closed at the handshake.

// MagicTTY opens the handshake of a task on a terminal.
const MagicTTY = "GSTY1\n"

// Input stream identifiers: frames a server sends to a terminal client.
const (
	// StreamStdin carries bytes read from grun's standard input.
	StreamStdin byte = 3
	// StreamResize carries grun's window size.
	StreamResize byte = 4
)

// resizeLen is the data length of a resize frame.
const resizeLen = 4

// ErrBadInput is returned (wrapped) by [Client.ReadInput] for a malformed
// input frame.
var ErrBadInput = errors.New("stepio: malformed input frame")

// DialTTY is [Dial] for a task on a terminal: the server will also send it
// input, read with [Client.ReadInput].
func DialTTY(ctx context.Context, addr, token string, rank int) (*Client, error) {
	c, err := dialMagic(ctx, MagicTTY, addr, token, rank)
	if err != nil {
		return nil, err
	}
	c.in = bufio.NewReaderSize(c.conn, 4096)
	return c, nil
}

// Input is one message from grun to a terminal task: data typed, or a new
// window size.
type Input struct {
	// Data are bytes for the terminal; valid until the next ReadInput.
	Data []byte
	// Resize is set for a window size change to Rows x Cols.
	Resize     bool
	Rows, Cols uint16
}

// ReadInput returns the next input message. It returns io.EOF once grun
// has sent the end of its input, an error wrapping [ErrBadInput] for a
// malformed frame, and the connection's error when it broke (grun is
// gone). It must not be called concurrently with itself; it may be called
// concurrently with the output writers and Close (Close makes it fail).
func (c *Client) ReadInput() (Input, error) {
	if c.in == nil {
		return Input{}, errors.New("stepio: not a terminal connection")
	}
	return readInput(c.in, &c.inBuf)
}

// readInput reads one input frame from r, using *buf for its data.
func readInput(r io.Reader, buf *[]byte) (Input, error) {
	var hdr [frameHdrLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Input{}, fmt.Errorf("stepio: connection closed without end of input: %w", io.ErrUnexpectedEOF)
		}
		return Input{}, fmt.Errorf("stepio: %w", err)
	}
	stream, n := hdr[0], binary.BigEndian.Uint32(hdr[1:])
	switch {
	case stream == StreamEnd && n == 0:
		return Input{}, io.EOF
	case stream == StreamResize && n == resizeLen:
	case stream == StreamStdin && n <= MaxFrameSize:
	default:
		return Input{}, fmt.Errorf("%w: stream %d, length %d", ErrBadInput, stream, n)
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, max(int(n), 512))
	}
	data := (*buf)[:n]
	if _, err := io.ReadFull(r, data); err != nil {
		return Input{}, fmt.Errorf("stepio: %w", err)
	}
	if stream == StreamResize {
		return Input{Resize: true, Rows: binary.BigEndian.Uint16(data), Cols: binary.BigEndian.Uint16(data[2:])}, nil
	}
	return Input{Data: data}, nil
}

// appendResize appends a resize frame.
func appendResize(b []byte, rows, cols uint16) []byte {
	b = append(b, StreamResize, 0, 0, 0, resizeLen)
	b = binary.BigEndian.AppendUint16(b, rows)
	return binary.BigEndian.AppendUint16(b, cols)
}

// input is the server's side of the terminal's input.
type input struct {
	data    chan inChunk  // unbuffered: a write waits for the connection's feeder
	eof     chan struct{} // closed by Stdin().Close
	eofOnce sync.Once

	mu         sync.Mutex
	rows, cols uint16
	sized      bool
	kick       chan struct{} // capacity 1: the size changed
	active     bool          // a terminal connection is being fed
}

func newInput() *input {
	return &input{data: make(chan inChunk), eof: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// Resize sets the terminal's window size, sent to the terminal connection
// now or as soon as it connects. Only the latest size is sent.
func (s *Server) Resize(rows, cols uint16) {
	in := s.in
	in.mu.Lock()
	in.rows, in.cols, in.sized = rows, cols, true
	in.mu.Unlock()
	select {
	case in.kick <- struct{}{}:
	default:
	}
}

// Stdin returns a writer whose data goes to the terminal connection as
// stdin frames, and whose Close sends the end of input. A Write blocks
// until a terminal connection has sent the data (or the server is closed:
// [ErrClosed]), so that a Resize after it is sent after it; larger writes
// are split into frames of MaxFrameSize.
func (s *Server) Stdin() io.WriteCloser { return stdinWriter{s} }

type stdinWriter struct{ s *Server }

// inChunk is one frame's worth of input; the feeder closes done once it
// has been sent (or could not be).
type inChunk struct {
	p    []byte
	done chan struct{}
}

func (w stdinWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := inChunk{p: p[:min(len(p), MaxFrameSize)], done: make(chan struct{})}
		select {
		case w.s.in.data <- chunk:
		case <-w.s.closing:
			return n, ErrClosed
		}
		<-chunk.done
		n += len(chunk.p)
		p = p[len(chunk.p):]
	}
	return n, nil
}

func (w stdinWriter) Close() error {
	w.s.in.eofOnce.Do(func() { close(w.s.in.eof) })
	return nil
}

// claimInput makes conn the terminal connection; false if another one is.
func (s *Server) claimInput() bool {
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	if s.in.active {
		return false
	}
	s.in.active = true
	return true
}

func (s *Server) releaseInput() {
	s.in.mu.Lock()
	s.in.active = false
	s.in.mu.Unlock()
}

// feedInput writes input frames to the terminal connection conn until
// stop is closed, the server closes or a write fails.
func (s *Server) feedInput(conn net.Conn, stop <-chan struct{}) {
	in := s.in
	var sentRows, sentCols uint16
	sentSize := false
	var frame []byte
	write := func() bool {
		_, err := conn.Write(frame)
		frame = frame[:0]
		return err == nil
	}
	sendSize := func() bool {
		in.mu.Lock()
		rows, cols, sized := in.rows, in.cols, in.sized
		in.mu.Unlock()
		if !sized || sentSize && rows == sentRows && cols == sentCols {
			return true
		}
		sentRows, sentCols, sentSize = rows, cols, true
		frame = appendResize(frame, rows, cols)
		return write()
	}
	if !sendSize() {
		return
	}
	eof := in.eof
	for {
		select {
		case <-stop:
			return
		case <-s.closing:
			return
		case <-in.kick:
			if !sendSize() {
				return
			}
		case c := <-in.data:
			// A size change made before this data was written goes
			// first.
			ok := true
			select {
			case <-in.kick:
				ok = sendSize()
			default:
			}
			if ok {
				frame = append(frame, StreamStdin, 0, 0, 0, 0)
				binary.BigEndian.PutUint32(frame[1:], uint32(len(c.p)))
				frame = append(frame, c.p...)
				ok = write()
			}
			close(c.done)
			if !ok {
				return
			}
		case <-eof:
			eof = nil
			frame = append(frame, StreamEnd, 0, 0, 0, 0)
			if !write() {
				return
			}
		}
	}
}
