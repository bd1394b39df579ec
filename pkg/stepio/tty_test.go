package stepio

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"reflect"
	"testing"
	"time"
)

func dialTTY(t *testing.T, s *Server, rank int) (*Client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return DialTTY(ctx, s.Addr().String(), s.Token(), rank)
}

// readInputTimeout reads one input message, failing the test if none comes.
func readInputTimeout(t *testing.T, c *Client) (Input, error) {
	t.Helper()
	type res struct {
		in  Input
		err error
	}
	ch := make(chan res, 1)
	go func() {
		in, err := c.ReadInput()
		in.Data = append([]byte(nil), in.Data...)
		ch <- res{in, err}
	}()
	select {
	case r := <-ch:
		return r.in, r.err
	case <-time.After(5 * time.Second):
		t.Fatal("no input message within 5s")
		return Input{}, nil
	}
}

// A terminal connection gets the window size first, then stdin and size
// changes in the order they were made, then the end of input; its output
// comes back like any connection's.
func TestTTYInputFrames(t *testing.T) {
	ts := startServer(t, false, nil)
	ts.Resize(24, 80)
	c, err := dialTTY(t, ts.Server, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Input{{Resize: true, Rows: 24, Cols: 80}}
	go func() {
		_, _ = ts.Stdin().Write([]byte("echo hi\n"))
		ts.Resize(50, 132)
		_, _ = ts.Stdin().Write([]byte{3}) // Ctrl-C, as a byte
		_ = ts.Stdin().Close()
		_ = ts.Stdin().Close() // a second close sends nothing more
	}()
	want = append(want, Input{Data: []byte("echo hi\n")}, Input{Resize: true, Rows: 50, Cols: 132}, Input{Data: []byte{3}})
	for i, w := range want {
		got, err := readInputTimeout(t, c)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if len(got.Data) == 0 {
			got.Data = nil
		}
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("message %d = %+v, want %+v", i, got, w)
		}
	}
	if _, err := readInputTimeout(t, c); err != io.EOF {
		t.Fatalf("after the end of input: %v, want io.EOF", err)
	}
	if _, err := c.Stdout().Write([]byte("hi\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ts.Server, []int{0})
	if got := ts.stdout.String(); got != "hi\r\n" {
		t.Fatalf("stdout = %q", got)
	}
}

// Only one terminal connection is fed at a time: a second is refused at
// the handshake while the first lasts, plain connections are not
// affected, and once the first ends a new one is accepted.
func TestTTYOneConnectionAtATime(t *testing.T) {
	ts := startServer(t, false, nil)
	first, err := dialTTY(t, ts.Server, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dialTTY(t, ts.Server, 0); !errors.Is(err, ErrRejected) {
		t.Fatalf("second terminal connection: %v, want ErrRejected", err)
	}
	plain := dial(t, ts.Server, 1)
	if err := plain.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ts.Server, []int{0, 1})
	again, err := dialTTY(t, ts.Server, 0)
	if err != nil {
		t.Fatalf("terminal connection after the first ended: %v", err)
	}
	again.Close()
}

// Input written before the terminal connects waits for it; a plain
// connection never receives input.
func TestTTYInputWaitsForConnection(t *testing.T) {
	ts := startServer(t, false, nil)
	plain := dial(t, ts.Server, 1)
	defer plain.Close()
	wrote := make(chan error, 1)
	go func() {
		_, err := ts.Stdin().Write([]byte("early"))
		wrote <- err
	}()
	plain.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var b [1]byte
	if n, err := plain.conn.Read(b[:]); n != 0 || !isTimeout(err) {
		t.Fatalf("plain connection read %d bytes (%v), want nothing", n, err)
	}
	select {
	case err := <-wrote:
		t.Fatalf("Write returned (%v) with no terminal connection", err)
	default:
	}
	c, err := dialTTY(t, ts.Server, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := readInputTimeout(t, c)
	if err != nil || string(got.Data) != "early" {
		t.Fatalf("first message %+v, %v; want the early input", got, err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// A Write waiting for a terminal connection ends with ErrClosed when the
// server closes.
func TestTTYStdinAfterClose(t *testing.T) {
	ts := startServer(t, false, nil)
	wrote := make(chan error, 1)
	go func() {
		_, err := ts.Stdin().Write([]byte("x"))
		wrote <- err
	}()
	time.Sleep(20 * time.Millisecond)
	ts.close(t)
	select {
	case err := <-wrote:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Write = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Write still blocked after Close")
	}
}

// The client's end: a connection to a server that goes away reports an
// error other than io.EOF (grun is gone, not done).
func TestTTYServerGone(t *testing.T) {
	ts := startServer(t, false, nil)
	c, err := dialTTY(t, ts.Server, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ts.close(t)
	if _, err := readInputTimeout(t, c); err == nil || err == io.EOF {
		t.Fatalf("ReadInput after the server closed = %v, want a connection error", err)
	}
	plain := &Client{}
	if _, err := plain.ReadInput(); err == nil {
		t.Fatal("ReadInput on a plain client succeeded")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestReadInput(t *testing.T) {
	resize := func(r, c uint16) []byte { return appendResize(nil, r, c) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name    string
		in      []byte
		want    []Input
		wantErr error // after want
	}{
		{"stdin then end", cat(frame(StreamStdin, []byte("ls\r")), frame(StreamEnd, nil)), []Input{{Data: []byte("ls\r")}}, io.EOF},
		{"resize", cat(resize(40, 120), frame(StreamEnd, nil)), []Input{{Resize: true, Rows: 40, Cols: 120}}, io.EOF},
		{"empty stdin frame", cat(frame(StreamStdin, nil), frame(StreamEnd, nil)), []Input{{Data: []byte{}}}, io.EOF},
		{"end with data", frame(StreamEnd, []byte("x")), nil, ErrBadInput},
		{"resize too short", frame(StreamResize, []byte{0, 1, 0}), nil, ErrBadInput},
		{"resize too long", frame(StreamResize, []byte{0, 1, 0, 2, 0}), nil, ErrBadInput},
		{"output stream from the server", frame(StreamStdout, []byte("x")), nil, ErrBadInput},
		{"unknown stream", frame(9, nil), nil, ErrBadInput},
		{"too long", []byte{StreamStdin, 0, 1, 0, 1}, nil, ErrBadInput},
		{"truncated data", frame(StreamStdin, []byte("abc"))[:6], nil, io.ErrUnexpectedEOF},
		{"truncated header", []byte{StreamStdin, 0}, nil, io.ErrUnexpectedEOF},
		{"closed without end", frame(StreamStdin, []byte("a")), []Input{{Data: []byte("a")}}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader(tt.in)
			var buf []byte
			var got []Input
			var err error
			for {
				var in Input
				if in, err = readInput(r, &buf); err != nil {
					break
				}
				if !in.Resize {
					in.Data = append([]byte{}, in.Data...)
				}
				got = append(got, in)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) || len(got) > 0 && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("messages %+v, want %+v", got, tt.want)
			}
		})
	}
}

// referenceInput is what a correct client reads from data: every
// well-formed input frame up to the end frame or the first bad one, and
// whether the end frame was reached.
func referenceInput(data []byte) (msgs []Input, ended bool) {
	for len(data) >= frameHdrLen {
		stream, n := data[0], binary.BigEndian.Uint32(data[1:frameHdrLen])
		data = data[frameHdrLen:]
		switch {
		case stream == StreamEnd && n == 0:
			return msgs, true
		case stream == StreamResize && n == resizeLen && len(data) >= resizeLen:
			msgs = append(msgs, Input{Resize: true, Rows: binary.BigEndian.Uint16(data), Cols: binary.BigEndian.Uint16(data[2:])})
		case stream == StreamStdin && n <= MaxFrameSize && uint64(n) <= uint64(len(data)):
			msgs = append(msgs, Input{Data: append([]byte{}, data[:n]...)})
		default:
			return msgs, false
		}
		data = data[n:]
	}
	return msgs, false
}

// FuzzReadInput: the client reads exactly the well-formed input frames,
// stops at the first bad one, and reports io.EOF only for the end frame.
func FuzzReadInput(f *testing.F) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	f.Add([]byte{})
	f.Add(cat(appendResize(nil, 24, 80), frame(StreamStdin, []byte("echo $((6*7))\r")), frame(StreamEnd, nil)))
	f.Add(cat(frame(StreamStdin, []byte{3, 26}), frame(StreamResize, []byte{1, 2, 3})))
	f.Add(cat(frame(StreamEnd, []byte("x"))))
	f.Add([]byte{StreamStdin, 0xff, 0xff, 0xff, 0xff})
	f.Add(cat(frame(StreamStdin, []byte("a")), frame(StreamStdout, []byte("b"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, ended := referenceInput(data)
		r := bytes.NewReader(data)
		var buf []byte
		var got []Input
		var err error
		for len(got) <= len(want) {
			var in Input
			if in, err = readInput(r, &buf); err != nil {
				break
			}
			if in.Data != nil {
				in.Data = append([]byte{}, in.Data...)
			}
			got = append(got, in)
		}
		if ended != (err == io.EOF) {
			t.Fatalf("error %v; the data ends with an end frame: %v", err, ended)
		}
		if len(got) != len(want) {
			t.Fatalf("%d messages, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].Resize != want[i].Resize || got[i].Rows != want[i].Rows || got[i].Cols != want[i].Cols ||
				!bytes.Equal(got[i].Data, want[i].Data) {
				t.Fatalf("message %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}
