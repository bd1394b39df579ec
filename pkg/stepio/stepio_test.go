package stepio

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the test to read while the server
// may still write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int // number of Write calls
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// testServer is a running server with its output buffers.
type testServer struct {
	*Server
	stdout, stderr *lockedBuffer
	served         chan error
}

// startServer listens on loopback; tune, if not nil, may change the server's
// limits before Serve starts.
func startServer(t *testing.T, label bool, tune func(*Server)) *testServer {
	t.Helper()
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(s)
	}
	ts := &testServer{Server: s, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, served: make(chan error, 1)}
	go func() {
		ts.served <- s.Serve(Options{Stdout: ts.stdout, Stderr: ts.stderr, Label: label})
	}()
	t.Cleanup(func() { ts.close(t) })
	return ts
}

// close closes the server and checks that Serve returned nil.
func (ts *testServer) close(t *testing.T) {
	t.Helper()
	if err := ts.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-ts.served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
		ts.served <- nil // let a second close pass
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
}

func dial(t *testing.T, s *Server, rank int) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, s.Addr().String(), s.Token(), rank)
	if err != nil {
		t.Fatalf("Dial rank %d: %v", rank, err)
	}
	return c
}

func waitAll(t *testing.T, s *Server, ranks []int) {
	t.Helper()
	if missing := s.WaitRanks(ranks, 10*time.Second); len(missing) != 0 {
		t.Fatalf("ranks %v did not finish", missing)
	}
}

// checkNoLeak waits for the goroutine count to fall back to base.
func checkNoLeak(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left, started with %d:\n%s", n, base, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testLine(rank int, stream string, i int) string {
	return fmt.Sprintf("rank %d %s line %d %s", rank, stream, i, strings.Repeat("x", i%37))
}

// parseLines groups output lines "rank R S line I ..." by (rank, stream)
// and checks that each group is the expected sequence. If label is set every
// line must carry the "R: " prefix of its rank.
func checkLines(t *testing.T, out, stream string, ranks, lines int, label bool) {
	t.Helper()
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Fatalf("%s output does not end with a newline", stream)
	}
	got := make(map[int][]string)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var r int
		if _, err := fmt.Sscanf(l, "rank %d", &r); err != nil {
			// Labelled: strip the prefix and check it.
			p, rest, ok := strings.Cut(l, ": ")
			if !label || !ok {
				t.Fatalf("%s: unexpected line %q", stream, l)
			}
			if _, err := fmt.Sscanf(rest, "rank %d", &r); err != nil || p != strconv.Itoa(r) {
				t.Fatalf("%s: bad labelled line %q", stream, l)
			}
			l = rest
		} else if label {
			t.Fatalf("%s: line without label %q", stream, l)
		}
		got[r] = append(got[r], l)
	}
	for r := range ranks {
		if len(got[r]) != lines {
			t.Fatalf("%s rank %d: got %d lines, want %d", stream, r, len(got[r]), lines)
		}
		for i, l := range got[r] {
			if want := testLine(r, stream, i); l != want {
				t.Fatalf("%s rank %d line %d: got %q, want %q", stream, r, i, l, want)
			}
		}
	}
}

// runRanks has ranks tasks write lines lines to each stream concurrently,
// each stream from its own goroutine. With split, lines are written in random
// pieces (so frames hold partial lines); otherwise one Write per line.
func runRanks(t *testing.T, s *Server, ranks, lines int, split bool) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 2*ranks)
	for r := range ranks {
		c := dial(t, s, r)
		var streams sync.WaitGroup
		for _, st := range []struct {
			name string
			w    io.Writer
		}{{"stdout", c.Stdout()}, {"stderr", c.Stderr()}} {
			streams.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer streams.Done()
				rng := mrand.New(mrand.NewPCG(uint64(r), uint64(len(st.name))))
				for i := range lines {
					b := []byte(testLine(r, st.name, i) + "\n")
					for len(b) > 0 {
						n := len(b)
						if split {
							n = 1 + rng.IntN(len(b))
						}
						if _, err := st.w.Write(b[:n]); err != nil {
							errs <- err
							return
						}
						b = b[n:]
					}
					if i%16 == 0 {
						runtime.Gosched()
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			streams.Wait()
			if err := c.Close(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func allRanks(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = i
	}
	return r
}

func TestTokenAndAddr(t *testing.T) {
	ts := startServer(t, false, nil)
	tok := ts.Token()
	if len(tok) != TokenLen || strings.Trim(tok, "0123456789abcdef") != "" {
		t.Fatalf("token %q is not 64 hex characters", tok)
	}
	s2, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Token() == tok {
		t.Fatal("two servers have the same token")
	}
	if ts.Addr().(*net.TCPAddr).Port == 0 {
		t.Fatal("no port")
	}
}

func TestManyRanksInterleaved(t *testing.T) {
	base := runtime.NumGoroutine()
	const ranks, lines = 8, 300
	ts := startServer(t, false, nil)
	runRanks(t, ts.Server, ranks, lines, false)
	waitAll(t, ts.Server, allRanks(ranks))
	checkLines(t, ts.stdout.String(), "stdout", ranks, lines, false)
	checkLines(t, ts.stderr.String(), "stderr", ranks, lines, false)
	ts.close(t)
	checkNoLeak(t, base)
}

func TestManyRanksLabel(t *testing.T) {
	base := runtime.NumGoroutine()
	const ranks, lines = 8, 300
	ts := startServer(t, true, nil)
	runRanks(t, ts.Server, ranks, lines, true)
	waitAll(t, ts.Server, allRanks(ranks))
	checkLines(t, ts.stdout.String(), "stdout", ranks, lines, true)
	checkLines(t, ts.stderr.String(), "stderr", ranks, lines, true)
	ts.close(t)
	checkNoLeak(t, base)
}

func TestSameWriterForBothStreams(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	served := make(chan error, 1)
	go func() { served <- s.Serve(Options{Stdout: &out, Stderr: &out, Label: true}) }()
	const ranks, lines = 4, 100
	runRanks(t, s, ranks, lines, true)
	waitAll(t, s, allRanks(ranks))
	s.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	var so, se strings.Builder
	for _, l := range strings.SplitAfter(out.String(), "\n") {
		switch {
		case strings.Contains(l, "stdout"):
			so.WriteString(l)
		case strings.Contains(l, "stderr"):
			se.WriteString(l)
		case l != "":
			t.Fatalf("unexpected line %q", l)
		}
	}
	checkLines(t, so.String(), "stdout", ranks, lines, true)
	checkLines(t, se.String(), "stderr", ranks, lines, true)
}

func TestNilWritersDiscard(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(Options{Label: true}) }()
	c := dial(t, s, 0)
	io.WriteString(c.Stdout(), "hello\npartial")
	io.WriteString(c.Stderr(), "err")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitAll(t, s, []int{0})
	s.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

func TestLabelPartialLineFlushed(t *testing.T) {
	ts := startServer(t, true, nil)
	c := dial(t, ts.Server, 3)
	for _, p := range []string{"hel", "lo\nwor", "ld\n", "tail without newline"} {
		if _, err := io.WriteString(c.Stdout(), p); err != nil {
			t.Fatal(err)
		}
	}
	io.WriteString(c.Stderr(), "e1\ne2")
	// Whole lines are written at once; the partial one waits.
	waitFor(t, func() bool { return ts.stdout.String() == "3: hello\n3: world\n" }, ts.stdout.String)
	c2 := dial(t, ts.Server, 12)
	io.WriteString(c2.Stdout(), "x\n\ny")
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ts.Server, []int{12})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ts.Server, []int{3})
	wantOut := "3: hello\n3: world\n12: x\n12: \n12: y\n3: tail without newline\n"
	if got := ts.stdout.String(); got != wantOut {
		t.Errorf("stdout = %q, want %q", got, wantOut)
	}
	if got, want := ts.stderr.String(), "3: e1\n3: e2\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

func TestLabelPartialLineFlushedOnAbruptEnd(t *testing.T) {
	ts := startServer(t, true, nil)
	conn := rawHandshake(t, ts.Server, 5)
	conn.Write(frame(StreamStdout, []byte("a\nb")))
	conn.Close()
	waitFor(t, func() bool { return ts.stdout.String() == "5: a\n5: b\n" }, func() string { return ts.stdout.String() })
	if missing := ts.WaitRanks([]int{5}, 50*time.Millisecond); !slices.Equal(missing, []int{5}) {
		t.Fatalf("rank without end frame reported done: missing=%v", missing)
	}
}

func TestLabelLongLineSplit(t *testing.T) {
	ts := startServer(t, true, func(s *Server) { s.maxLine = 10 })
	c := dial(t, ts.Server, 1)
	io.WriteString(c.Stdout(), "0123456")
	io.WriteString(c.Stdout(), "789abcdefghijklmnopqrstu")
	io.WriteString(c.Stdout(), "vwxyz\nshort\n0123456789")
	io.WriteString(c.Stdout(), "\n")
	c.Close()
	waitAll(t, ts.Server, []int{1})
	want := "1: 0123456789\n1: abcdefghij\n1: klmnopqrst\n1: uvwxyz\n1: short\n1: 0123456789\n"
	if got := ts.stdout.String(); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestLargeWrite(t *testing.T) {
	for _, label := range []bool{false, true} {
		t.Run(fmt.Sprintf("label=%v", label), func(t *testing.T) {
			ts := startServer(t, label, nil)
			big := make([]byte, 1<<20)
			for i := range big {
				big[i] = 'a' + byte(i%26)
				if i%1000 == 999 {
					big[i] = '\n'
				}
			}
			big[len(big)-1] = '\n'
			c := dial(t, ts.Server, 2)
			n, err := c.Stdout().Write(big)
			if err != nil || n != len(big) {
				t.Fatalf("Write = %d, %v", n, err)
			}
			rnd := make([]byte, 1<<20+17)
			rand.Read(rnd)
			if !label {
				if n, err := c.Stderr().Write(rnd); err != nil || n != len(rnd) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			c.Close()
			waitAll(t, ts.Server, []int{2})
			got := ts.stdout.Bytes()
			if label {
				want := []byte("2: " + strings.ReplaceAll(string(big[:len(big)-1]), "\n", "\n2: ") + "\n")
				if !bytes.Equal(got, want) {
					t.Fatalf("labelled output differs (got %d bytes, want %d)", len(got), len(want))
				}
				return
			}
			if !bytes.Equal(got, big) {
				t.Fatalf("stdout differs (got %d bytes, want %d)", len(got), len(big))
			}
			if !bytes.Equal(ts.stderr.Bytes(), rnd) {
				t.Fatalf("stderr differs (got %d bytes, want %d)", len(ts.stderr.Bytes()), len(rnd))
			}
			// Without label every frame is one Write: at least 17.
			if ts.stdout.n < 16 || ts.stderr.n < 17 {
				t.Errorf("writes: stdout %d, stderr %d; want frames of at most 64 KiB", ts.stdout.n, ts.stderr.n)
			}
		})
	}
}

// TestClientWireFormat checks the client's bytes against a hand-written
// server: handshake, frames of at most MaxFrameSize, end frame.
func TestClientWireFormat(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	token := strings.Repeat("ab", 32)
	type result struct {
		hs     []byte
		frames [][]byte // stream byte + data
		err    error
	}
	res := make(chan result, 1)
	go func() {
		var r result
		defer func() { res <- r }()
		conn, err := ln.Accept()
		if err != nil {
			r.err = err
			return
		}
		defer conn.Close()
		r.hs = make([]byte, handshakeLen)
		if _, r.err = io.ReadFull(conn, r.hs); r.err != nil {
			return
		}
		conn.Write([]byte{'K'})
		for {
			var hdr [5]byte
			if _, r.err = io.ReadFull(conn, hdr[:]); r.err != nil {
				return
			}
			n := binary.BigEndian.Uint32(hdr[1:])
			if n > MaxFrameSize {
				r.err = fmt.Errorf("frame of %d bytes", n)
				return
			}
			f := make([]byte, 1+n)
			f[0] = hdr[0]
			if _, r.err = io.ReadFull(conn, f[1:]); r.err != nil {
				return
			}
			r.frames = append(r.frames, f)
			if hdr[0] == StreamEnd {
				_, err := conn.Read(make([]byte, 1))
				if err != io.EOF {
					r.err = fmt.Errorf("after end frame: %v, want EOF", err)
				}
				return
			}
		}
	}()
	c, err := Dial(context.Background(), ln.Addr().String(), token, 0x01020304)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 3*MaxFrameSize+5)
	rand.Read(big)
	if _, err := c.Stderr().Write(big); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Stdout().Write(nil); n != 0 || err != nil {
		t.Fatalf("empty Write = %d, %v", n, err)
	}
	io.WriteString(c.Stdout(), "hi")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.Stdout().Write([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v, want ErrClosed", err)
	}
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantHS := append([]byte("GSIO1\n"+token), 1, 2, 3, 4)
	if !bytes.Equal(r.hs, wantHS) {
		t.Fatalf("handshake %q, want %q", r.hs, wantHS)
	}
	if len(r.frames) != 6 {
		t.Fatalf("%d frames, want 6", len(r.frames))
	}
	var got []byte
	for _, f := range r.frames[:4] {
		if f[0] != StreamStderr {
			t.Fatalf("frame stream %d, want 2", f[0])
		}
		got = append(got, f[1:]...)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("stderr frames do not reassemble the write")
	}
	if f := r.frames[4]; f[0] != StreamStdout || string(f[1:]) != "hi" {
		t.Fatalf("frame %q, want stdout hi", f)
	}
	if f := r.frames[5]; f[0] != StreamEnd || len(f) != 1 {
		t.Fatalf("last frame %q, want empty end frame", f)
	}
}

func TestDialArgs(t *testing.T) {
	ctx := context.Background()
	if _, err := Dial(ctx, "127.0.0.1:1", "short", 0); err == nil {
		t.Error("short token accepted")
	}
	tok := strings.Repeat("0", TokenLen)
	if _, err := Dial(ctx, "127.0.0.1:1", tok, -1); err == nil {
		t.Error("negative rank accepted")
	}
	if _, err := Dial(ctx, "127.0.0.1:1", tok, 1<<31); err == nil {
		t.Error("rank 2^31 accepted")
	}
}

func TestWrongTokenRejected(t *testing.T) {
	ts := startServer(t, false, nil)
	bad := []byte(ts.Token())
	bad[10] ^= 1
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, ts.Addr().String(), string(bad), 0)
	if err == nil {
		c.Stdout().Write([]byte("should not appear"))
		c.Close()
		t.Fatal("Dial with a wrong token succeeded")
	}
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("Dial error %v, want ErrRejected", err)
	}
	// The server keeps working.
	c = dial(t, ts.Server, 0)
	io.WriteString(c.Stdout(), "ok\n")
	c.Close()
	waitAll(t, ts.Server, []int{0})
	if got := ts.stdout.String(); got != "ok\n" {
		t.Fatalf("stdout %q", got)
	}
	if ts.stderr.String() != "" {
		t.Fatal("stderr written")
	}
}

func TestDialContextEndsHandshake(t *testing.T) {
	// A listener that accepts but never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	tok := strings.Repeat("0", TokenLen)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Dial(ctx, ln.Addr().String(), tok, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial error %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Dial took %v", d)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel2)
	if _, err := Dial(ctx2, ln.Addr().String(), tok, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial error %v, want canceled", err)
	}
	for range 2 {
		(<-accepted).Close()
	}
}

// rawHandshake opens a connection and performs a valid handshake by hand.
func rawHandshake(t *testing.T, s *Server, rank uint32) net.Conn {
	t.Helper()
	return rawHandshakeMagic(t, s, Magic, rank)
}

// rawHandshakeMagic is rawHandshake with the given magic (Magic or MagicTTY).
func rawHandshakeMagic(t *testing.T, s *Server, magic string, rank uint32) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	hs := append([]byte(magic+s.Token()), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(hs[len(hs)-4:], rank)
	if _, err := conn.Write(hs); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil || b[0] != 'K' {
		t.Fatalf("handshake reply %q, %v", b, err)
	}
	conn.SetReadDeadline(time.Time{})
	return conn
}

func frame(stream byte, data []byte) []byte {
	f := []byte{stream, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(f[1:], uint32(len(data)))
	return append(f, data...)
}

// expectServerClose waits until the server closes conn.
func expectServerClose(t *testing.T, name string, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("%s: server did not close the connection", name)
	}
	conn.Close()
}

func waitFor(t *testing.T, cond func() bool, show func() string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached; state: %s", show())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGarbageConnections(t *testing.T) {
	base := runtime.NumGoroutine()
	ts := startServer(t, false, func(s *Server) { s.handshakeTimeout = 200 * time.Millisecond })
	addr := ts.Addr().String()

	// A good client runs throughout.
	good := dial(t, ts.Server, 0)
	io.WriteString(good.Stdout(), "before\n")

	rawDial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	random := make([]byte, 10000)
	rand.Read(random)
	badMagic := append([]byte("GSIO2\n"+ts.Token()), 0, 0, 0, 1)
	badToken := append([]byte(Magic+strings.Repeat("f", TokenLen)), 0, 0, 0, 1)
	badRank := append([]byte(Magic+ts.Token()), 0xff, 0xff, 0xff, 0xff)

	// Pre-handshake garbage: the server closes without replying.
	for name, data := range map[string][]byte{
		"random":           random,
		"bad magic":        badMagic,
		"bad token":        badToken,
		"bad rank":         badRank,
		"short handshake":  []byte(Magic + ts.Token()[:10]),
		"silent":           nil,
		"http":             []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"handshake prefix": []byte(Magic),
	} {
		c := rawDial()
		c.Write(data)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		if len(b) != 0 {
			t.Errorf("%s: server replied %q", name, b)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: server did not close the connection", name)
		}
		c.Close()
	}

	// Post-handshake garbage: data before the bad frame is written, the
	// connection is closed, the rank is not done.
	for name, tc := range map[string]struct {
		rank uint32
		data []byte
	}{
		"giant length":   {10, append(frame(StreamStdout, []byte("g1\n")), 1, 0xff, 0xff, 0xff, 0xff)},
		"just too big":   {11, append(frame(StreamStdout, []byte("g2\n")), frame(StreamStdout, make([]byte, MaxFrameSize+1))...)},
		"unknown stream": {12, append(frame(StreamStdout, []byte("g3\n")), frame(7, []byte("zz"))...)},
		"end with data":  {13, append(frame(StreamStdout, []byte("g4\n")), frame(StreamEnd, []byte("zz"))...)},
		"random frames":  {14, random},
	} {
		c := rawHandshake(t, ts.Server, tc.rank)
		c.Write(tc.data)
		expectServerClose(t, name, c)
	}
	// Truncated frames: the peer goes away mid-header or mid-data.
	for i, data := range [][]byte{
		{StreamStdout, 0, 0},
		append(frame(StreamStdout, []byte("g5\n")), frame(StreamStderr, make([]byte, 100))[:50]...),
	} {
		c := rawHandshake(t, ts.Server, uint32(20+i))
		c.Write(data)
		c.Close()
	}
	// A handshaken connection that goes silent is kept (tasks may be quiet
	// for hours) until Close.
	idle := rawHandshake(t, ts.Server, 30)
	defer idle.Close()

	io.WriteString(good.Stdout(), "after\n")
	if err := good.Close(); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ts.Server, []int{0})
	want := map[string]bool{"before": true, "after": true, "g1": true, "g2": true, "g3": true, "g4": true, "g5": true}
	waitFor(t, func() bool { return strings.Count(ts.stdout.String(), "\n") >= len(want) }, ts.stdout.String)
	for _, l := range strings.Split(strings.TrimSuffix(ts.stdout.String(), "\n"), "\n") {
		if !want[l] {
			// "random frames" may legitimately produce output too, but only
			// before "after" and only as whole frames; accept any line
			// not in want as long as the known lines are all present.
			continue
		}
		delete(want, l)
	}
	if len(want) != 0 {
		t.Errorf("missing lines %v in stdout %q", want, ts.stdout.String())
	}
	missing := ts.WaitRanks([]int{0, 10, 11, 12, 13, 14, 20, 21, 30}, 50*time.Millisecond)
	if !slices.Equal(missing, []int{10, 11, 12, 13, 14, 20, 21, 30}) {
		t.Errorf("missing = %v", missing)
	}
	ts.close(t)
	expectServerClose(t, "idle after Close", idle)
	checkNoLeak(t, base)
}

func TestConnectionLimit(t *testing.T) {
	ts := startServer(t, false, func(s *Server) { s.maxConns = 2 })
	c1 := dial(t, ts.Server, 1)
	c2 := dial(t, ts.Server, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Dial(ctx, ts.Addr().String(), ts.Token(), 3); !errors.Is(err, ErrRejected) {
		t.Fatalf("third Dial: %v, want ErrRejected", err)
	}
	c1.Close()
	waitAll(t, ts.Server, []int{1})
	c3 := dial(t, ts.Server, 3) // the handler of c1 has finished
	io.WriteString(c3.Stdout(), "three\n")
	c3.Close()
	c2.Close()
	waitAll(t, ts.Server, []int{1, 2, 3})
	if got := ts.stdout.String(); got != "three\n" {
		t.Fatalf("stdout %q", got)
	}
}

func TestWaitRanksAndDone(t *testing.T) {
	ts := startServer(t, false, nil)
	if m := ts.WaitRanks(nil, 0); len(m) != 0 {
		t.Fatalf("WaitRanks(nil) = %v", m)
	}
	c0 := dial(t, ts.Server, 0)
	c1 := dial(t, ts.Server, 1)
	c2 := dial(t, ts.Server, 2)
	c0.Close()
	c1.Close()

	start := time.Now()
	missing := ts.WaitRanks([]int{0, 1, 2, 3}, 200*time.Millisecond)
	if !slices.Equal(missing, []int{2, 3}) {
		t.Fatalf("missing = %v, want [2 3]", missing)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("WaitRanks returned after %v, before its timeout", d)
	}

	// A waiter is woken when the last rank ends.
	result := make(chan []int, 1)
	go func() { result <- ts.WaitRanks([]int{0, 1, 2}, 10*time.Second) }()
	time.Sleep(50 * time.Millisecond)
	io.WriteString(c2.Stdout(), "last\n")
	c2.Close()
	select {
	case m := <-result:
		if len(m) != 0 {
			t.Fatalf("missing = %v, want none", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitRanks not woken")
	}
	// Output is written before the rank is reported.
	if ts.stdout.String() != "last\n" {
		t.Fatalf("stdout %q", ts.stdout.String())
	}

	got := map[int]bool{}
	for range 3 {
		select {
		case r := <-ts.Done():
			got[r] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("Done delivered only %v", got)
		}
	}
	if !got[0] || !got[1] || !got[2] {
		t.Fatalf("Done delivered %v", got)
	}

	// After Close, WaitRanks returns at once.
	ts.close(t)
	start = time.Now()
	if m := ts.WaitRanks([]int{2, 7}, 10*time.Second); !slices.Equal(m, []int{7}) {
		t.Fatalf("after Close missing = %v", m)
	}
	if time.Since(start) > time.Second {
		t.Fatal("WaitRanks blocked after Close")
	}
}

// TestDoneDoesNotBlockServe ends more ranks than the Done buffer holds
// without reading Done.
func TestDoneDoesNotBlockServe(t *testing.T) {
	ts := startServer(t, false, nil)
	n := doneBuffer + 100
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for r := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Dial(ctx, ts.Addr().String(), ts.Token(), r)
			if err != nil {
				t.Error(err)
				return
			}
			c.Close()
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	waitAll(t, ts.Server, allRanks(n))
	seen := make(map[int]bool)
	for len(seen) < n {
		select {
		case r := <-ts.Done():
			seen[r] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("Done delivered %d of %d ranks", len(seen), n)
		}
	}
}

func TestServeTwiceAndCloseFirst(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Serve(Options{}); err != nil {
		t.Fatalf("Serve after Close = %v", err)
	}
	if err := s.Serve(Options{}); err == nil {
		t.Fatal("second Serve succeeded")
	}
}

func TestCloseWithActiveClients(t *testing.T) {
	base := runtime.NumGoroutine()
	ts := startServer(t, true, nil)
	var clients []*Client
	for r := range 5 {
		c := dial(t, ts.Server, r)
		io.WriteString(c.Stdout(), "partial")
		clients = append(clients, c)
	}
	waitFor(t, func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		return len(ts.conns) == 5
	}, func() string { return "conns" })
	ts.close(t)
	for _, c := range clients {
		c.Close()
	}
	checkNoLeak(t, base)
}
