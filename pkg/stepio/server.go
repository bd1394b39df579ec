package stepio

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strconv"
	"sync"
	"time"
)

// doneBuffer is the capacity of the channel returned by [Server.Done].
const doneBuffer = 1024

// Server is grun's end: it accepts task connections and copies their output.
//
// Create one with [Listen], hand [Server.Addr] and [Server.Token] to the
// tasks, run [Server.Serve] in a goroutine, wait for the ranks with
// [Server.WaitRanks] (or [Server.Done]) and finally call [Server.Close].
type Server struct {
	ln         net.Listener
	token      string
	tokenBytes []byte

	// Tunables; tests shrink them before Serve.
	handshakeTimeout time.Duration
	maxConns         int
	maxLine          int

	mu      sync.Mutex
	closed  bool
	serving bool
	conns   map[net.Conn]struct{}
	ended   map[int]struct{} // ranks whose connection ended cleanly
	changed chan struct{}    // closed and replaced whenever ended grows, closed for good by Close
	queue   []int            // ranks not yet handed to the pump

	kick    chan struct{} // wakes the pump; capacity 1
	closing chan struct{} // closed by Close
	done    chan int
	wg      sync.WaitGroup // connection handlers and the pump

	closeOnce sync.Once
	closeErr  error

	in *input // a terminal step's input (tty.go)
}

// Listen listens on addr (e.g. ":0" or "127.0.0.1:0") and makes a fresh random
// 32-byte token (hex encoded, 64 chars) from crypto/rand.
func Listen(addr string) (*Server, error) {
	var raw [TokenLen / 2]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("stepio: making token: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stepio: %w", err)
	}
	token := hex.EncodeToString(raw[:])
	s := &Server{
		ln:               ln,
		token:            token,
		tokenBytes:       []byte(token),
		handshakeTimeout: HandshakeTimeout,
		maxConns:         MaxConns,
		maxLine:          MaxLineSize,
		conns:            make(map[net.Conn]struct{}),
		ended:            make(map[int]struct{}),
		changed:          make(chan struct{}),
		kick:             make(chan struct{}, 1),
		closing:          make(chan struct{}),
		done:             make(chan int, doneBuffer),
		in:               newInput(),
	}
	s.wg.Add(1)
	go s.pump()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Token returns the secret that clients must present: 64 hex characters.
func (s *Server) Token() string { return s.token }

// Options says where output goes.
type Options struct {
	// Stdout and Stderr receive the tasks' standard output and standard
	// error; a nil writer discards. They may be the same writer.
	Stdout, Stderr io.Writer
	// Label prefixes every output line with the task's rank and ": " (srun -l), e.g. "3: hello".
	Label bool
}

// Serve accepts connections until Close; each valid connection's frames are
// written to opts.Stdout/Stderr. Writes to each writer are serialised (when
// Stdout and Stderr are the same writer they share one lock); errors from the
// writers are ignored, so that a broken stdout does not stall the tasks.
//
// With Label, output is written only in whole lines per (rank, stream), one
// Write per frame's worth of complete lines; a partial last line is flushed,
// with a newline added, when that connection ends. Without Label, each frame's
// data is written with one Write as it arrives, so chunks from different ranks
// may interleave only at frame boundaries.
//
// Serve returns nil when Close is called (also if Close came first), or an
// error if Serve was already called or the listener failed.
func (s *Server) Serve(opts Options) error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return errors.New("stepio: Serve called twice")
	}
	s.serving = true
	s.mu.Unlock()

	out := newOutput(opts, s.maxLine)
	var delay time.Duration
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("stepio: accept: %w", err)
			}
			// Probably transient (out of file descriptors, aborted
			// connection): back off and retry.
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay *= 2; delay > time.Second {
				delay = time.Second
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.closing:
				t.Stop()
				return nil
			}
			continue
		}
		delay = 0

		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return nil
		}
		if len(s.conns) >= s.maxConns {
			s.mu.Unlock()
			conn.Close()
			continue
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(conn, out)
	}
}

// Done returns a channel that receives each rank whose connection ended
// cleanly (the client sent the end frame), once per such connection, after
// all of that connection's output has been written.
//
// Serve never blocks on it: ranks are queued without bound and handed to the
// channel (buffered) as the reader takes them, so a caller that never reads
// Done costs only memory. The channel is never closed; after Close, ranks
// already in its buffer can still be received, later ones are not delivered
// (WaitRanks still sees them).
func (s *Server) Done() <-chan int { return s.done }

// WaitRanks blocks until every rank in ranks has ended cleanly or the timeout passes;
// it returns the ranks still missing (empty on success), in the order given.
// It returns at once, with the ranks still missing, once the server is closed.
// A rank counts as ended if any of its connections ended cleanly, before or
// during the call; WaitRanks does not consume anything from Done.
func (s *Server) WaitRanks(ranks []int, timeout time.Duration) []int {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var missing []int
		for _, r := range ranks {
			if _, ok := s.ended[r]; !ok {
				missing = append(missing, r)
			}
		}
		changed, closed := s.changed, s.closed
		s.mu.Unlock()
		if len(missing) == 0 || closed {
			return missing
		}
		select {
		case <-changed:
		case <-timer.C:
			return missing
		}
	}
}

// Close stops the listener, closes every connection (output not yet received
// from them is lost: wait for the ranks first) and waits for the server's
// goroutines, including writes in progress to the Options writers, to finish.
// Serve then returns. Calling Close again returns the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.changed)
		conns := make([]net.Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()

		close(s.closing)
		s.closeErr = s.ln.Close()
		for _, c := range conns {
			c.Close()
		}
		s.wg.Wait()
	})
	return s.closeErr
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// rankEnded records a clean end of rank and queues it for Done.
func (s *Server) rankEnded(rank int) {
	s.mu.Lock()
	if _, ok := s.ended[rank]; !ok {
		s.ended[rank] = struct{}{}
		if !s.closed {
			close(s.changed)
			s.changed = make(chan struct{})
		}
	}
	s.queue = append(s.queue, rank)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// pump moves ranks from the unbounded queue to the done channel.
func (s *Server) pump() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			select {
			case <-s.kick:
				continue
			case <-s.closing:
				return
			}
		}
		r := s.queue[0]
		s.mu.Unlock()
		select {
		case s.done <- r:
			s.mu.Lock()
			s.queue = s.queue[1:]
			if len(s.queue) == 0 {
				s.queue = nil // let the backing array go
			}
			s.mu.Unlock()
		case <-s.closing:
			return
		}
	}
}

// handle serves one connection from handshake to end.
func (s *Server) handle(conn net.Conn, out *output) {
	defer s.wg.Done()
	clean, rank := s.serveConn(conn, out)
	conn.Close()
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
	if clean {
		s.rankEnded(rank)
	}
}

// serveConn runs the handshake and copies frames until the end frame, an
// error or a protocol violation. All of the connection's output has been
// written when it returns. clean reports an end frame.
func (s *Server) serveConn(conn net.Conn, out *output) (clean bool, rank int) {
	br := bufio.NewReaderSize(conn, 4096)

	if err := conn.SetDeadline(time.Now().Add(s.handshakeTimeout)); err != nil {
		return false, 0
	}
	var hs [handshakeLen]byte
	if _, err := io.ReadFull(br, hs[:]); err != nil {
		return false, 0
	}
	tty := bytes.Equal(hs[:len(MagicTTY)], []byte(MagicTTY))
	magicOK := tty || bytes.Equal(hs[:len(Magic)], []byte(Magic))
	tokenOK := subtle.ConstantTimeCompare(hs[len(Magic):len(Magic)+TokenLen], s.tokenBytes) == 1
	r := binary.BigEndian.Uint32(hs[len(Magic)+TokenLen:])
	if !magicOK || !tokenOK || r > maxRank {
		return false, 0
	}
	rank = int(r)
	if tty {
		if !s.claimInput() {
			return false, rank
		}
		defer s.releaseInput()
	}
	if _, err := conn.Write([]byte{acceptByte}); err != nil {
		return false, rank
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return false, rank
	}
	if tty {
		// The feeder is the only writer on conn from here on; it is
		// done before the connection is closed.
		stop, fed := make(chan struct{}), make(chan struct{})
		go func() { defer close(fed); s.feedInput(conn, stop) }()
		defer func() { close(stop); <-fed }()
	}

	cs := out.newConnState(rank)
	defer cs.flush()
	var hdr [frameHdrLen]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return false, rank
		}
		stream := hdr[0]
		n := binary.BigEndian.Uint32(hdr[1:])
		switch stream {
		case StreamEnd:
			return n == 0, rank
		case StreamStdout, StreamStderr:
		default:
			return false, rank
		}
		if n > MaxFrameSize {
			return false, rank
		}
		if cap(buf) < int(n) {
			// Grow in steps so that small frames keep small buffers.
			c := max(int(n), 2*cap(buf), 512)
			buf = make([]byte, min(c, MaxFrameSize))
		}
		data := buf[:n]
		if _, err := io.ReadFull(br, data); err != nil {
			return false, rank
		}
		cs.write(stream, data)
	}
}

// output is the shared destination of all connections' data.
type output struct {
	label   bool
	maxLine int
	w       [3]io.Writer   // indexed by stream
	mu      [3]*sync.Mutex // indexed by stream; shared when the writers are the same
}

func newOutput(opts Options, maxLine int) *output {
	o := &output{label: opts.Label, maxLine: maxLine}
	o.w[StreamStdout] = opts.Stdout
	o.w[StreamStderr] = opts.Stderr
	for _, st := range []byte{StreamStdout, StreamStderr} {
		if o.w[st] == nil {
			o.w[st] = io.Discard
		}
	}
	o.mu[StreamStdout] = new(sync.Mutex)
	if sameWriter(o.w[StreamStdout], o.w[StreamStderr]) {
		o.mu[StreamStderr] = o.mu[StreamStdout]
	} else {
		o.mu[StreamStderr] = new(sync.Mutex)
	}
	return o
}

// sameWriter reports whether a and b are the same writer, without panicking
// on writers of non-comparable types.
func sameWriter(a, b io.Writer) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}

// put writes p to the stream's writer under the writer's lock.
func (o *output) put(stream byte, p []byte) {
	if len(p) == 0 {
		return
	}
	o.mu[stream].Lock()
	defer o.mu[stream].Unlock()
	_, _ = o.w[stream].Write(p)
}

// connState is one connection's view of the output: in label mode it holds
// the partial last line of each stream.
type connState struct {
	o       *output
	prefix  []byte
	pending [3][]byte
	scratch []byte
}

func (o *output) newConnState(rank int) *connState {
	return &connState{o: o, prefix: []byte(strconv.Itoa(rank) + ": ")}
}

// write handles one frame's data.
func (c *connState) write(stream byte, data []byte) {
	if !c.o.label {
		c.o.put(stream, data)
		return
	}
	out := c.scratch[:0]
	pend := c.pending[stream]
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			room := c.o.maxLine - len(pend)
			if len(data) <= room {
				pend = append(pend, data...)
				break
			}
			// The line would pass maxLine bytes without a newline:
			// write its first maxLine bytes as a line of their own.
			pend = append(pend, data[:room]...)
			data = data[room:]
			out = c.line(out, pend, nil)
			pend = pend[:0]
			continue
		}
		out = c.line(out, pend, data[:i+1])
		pend = pend[:0]
		data = data[i+1:]
	}
	c.pending[stream] = pend
	c.o.put(stream, out)
	if cap(out) > 4*MaxFrameSize {
		out = nil
	}
	c.scratch = out
}

// line appends one labelled line made of head and tail to out; a newline is
// added if tail does not end with one.
func (c *connState) line(out, head, tail []byte) []byte {
	out = append(out, c.prefix...)
	out = append(out, head...)
	out = append(out, tail...)
	if len(tail) == 0 || tail[len(tail)-1] != '\n' {
		out = append(out, '\n')
	}
	return out
}

// flush writes the partial last lines, with a newline added.
func (c *connState) flush() {
	if !c.o.label {
		return
	}
	for _, st := range []byte{StreamStdout, StreamStderr} {
		if len(c.pending[st]) > 0 {
			c.o.put(st, c.line(nil, c.pending[st], nil))
			c.pending[st] = nil
		}
	}
}
