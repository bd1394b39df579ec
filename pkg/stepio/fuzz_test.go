package stepio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// referenceParse is what a correct server writes for data sent after a
// valid handshake: the data of every well-formed frame up to the first
// malformed, truncated or end frame.
func referenceParse(data []byte) (stdout, stderr []byte) {
	for len(data) >= frameHdrLen {
		stream := data[0]
		n := binary.BigEndian.Uint32(data[1:frameHdrLen])
		data = data[frameHdrLen:]
		if (stream != StreamStdout && stream != StreamStderr) || n > MaxFrameSize || uint64(n) > uint64(len(data)) {
			return
		}
		if stream == StreamStdout {
			stdout = append(stdout, data[:n]...)
		} else {
			stderr = append(stderr, data[:n]...)
		}
		data = data[n:]
	}
	return
}

// feed runs one server, sends a valid handshake followed by data, and
// returns what the server wrote once it has finished with the connection.
func feed(t *testing.T, label bool, data []byte) (stdout, stderr []byte) {
	stdout, stderr, _ = feedMagic(t, label, Magic, data)
	return stdout, stderr
}

// feedMagic is feed with the given handshake magic; it also returns what
// the server sent after its acceptance byte. For MagicTTY the server has a
// window size of 24x80 to send.
func feedMagic(t *testing.T, label bool, magic string, data []byte) (stdout, stderr, sent []byte) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if magic == MagicTTY {
		s.Resize(24, 80)
	}
	var so, se lockedBuffer
	served := make(chan error, 1)
	go func() { served <- s.Serve(Options{Stdout: &so, Stderr: &se, Label: label}) }()
	defer func() {
		s.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	conn := rawHandshakeMagic(t, s, magic, 0)
	defer conn.Close()
	// Read in the background so that a server that closes early (and
	// resets the connection) cannot leave the write below stuck.
	closed := make(chan error, 1)
	var got bytes.Buffer
	go func() {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(&got, conn)
		closed <- err
	}()
	if _, err := conn.Write(data); err == nil {
		conn.(*net.TCPConn).CloseWrite()
	}
	// The server closes the connection when its handler is done, after all
	// output has been written.
	if err := <-closed; err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("server did not finish with the connection")
		}
	}
	waitHandlers(t, s)
	return so.Bytes(), se.Bytes(), got.Bytes()
}

// waitHandlers waits until the server has no connection left.
func waitHandlers(t *testing.T, s *Server) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("connection handler still running")
		}
		time.Sleep(time.Millisecond)
	}
}

// unlabel checks that every line of out carries the "0: " label and returns
// out without labels and without newlines.
func unlabel(t *testing.T, out []byte) []byte {
	if len(out) == 0 {
		return nil
	}
	if out[len(out)-1] != '\n' {
		t.Fatalf("labelled output does not end in a newline: %q", out)
	}
	var res []byte
	for _, l := range bytes.SplitAfter(out, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		rest, ok := bytes.CutPrefix(l, []byte("0: "))
		if !ok {
			t.Fatalf("line without label: %q", l)
		}
		res = append(res, bytes.TrimSuffix(rest, []byte("\n"))...)
	}
	return res
}

func dropNewlines(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\n"), nil)
}

func FuzzServerConn(f *testing.F) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	f.Add([]byte{})
	f.Add(frame(StreamStdout, []byte("hello\n")))
	f.Add(cat(frame(StreamStdout, []byte("a\nb")), frame(StreamStderr, []byte("c")), frame(StreamEnd, nil)))
	f.Add(cat(frame(StreamStdout, []byte("x")), frame(StreamEnd, nil), frame(StreamStdout, []byte("after end"))))
	f.Add(cat(frame(StreamStdout, []byte("x")), []byte{1, 0xff, 0xff, 0xff, 0xff}))
	f.Add(cat(frame(StreamStdout, []byte("x")), []byte{1, 0, 1, 0, 1}, make([]byte, 20)))
	f.Add(cat(frame(StreamStderr, []byte("y")), frame(9, []byte("bad stream"))))
	f.Add(cat(frame(StreamStderr, []byte("y")), frame(StreamEnd, []byte("data"))))
	f.Add(frame(StreamStdout, []byte(strings.Repeat("z", 1000)))[:500])
	f.Add([]byte{2, 0, 0})
	f.Add([]byte("GSIO1\n random garbage \x00\x01\x02"))

	f.Fuzz(func(t *testing.T, data []byte) {
		wantOut, wantErr := referenceParse(data)

		so, se := feed(t, false, data)
		if len(so)+len(se) > len(data) {
			t.Fatalf("wrote %d bytes for %d bytes of input", len(so)+len(se), len(data))
		}
		if !bytes.Equal(so, wantOut) || !bytes.Equal(se, wantErr) {
			t.Fatalf("stdout %q stderr %q, want %q %q", so, se, wantOut, wantErr)
		}

		so, se = feed(t, true, data)
		if got := unlabel(t, so); !bytes.Equal(got, dropNewlines(wantOut)) {
			t.Fatalf("labelled stdout %q, want %q", so, wantOut)
		}
		if got := unlabel(t, se); !bytes.Equal(got, dropNewlines(wantErr)) {
			t.Fatalf("labelled stderr %q, want %q", se, wantErr)
		}
		if n, max := bytes.Count(so, []byte("\n")), bytes.Count(wantOut, []byte("\n"))+1+len(wantOut)/MaxLineSize; n > max {
			t.Fatalf("labelled stdout has %d lines, at most %d expected", n, max)
		}

		// A terminal connection's frames are read the same way; the
		// server sends it the window size and nothing else.
		so, se, sent := feedMagic(t, false, MagicTTY, data)
		if !bytes.Equal(so, wantOut) || !bytes.Equal(se, wantErr) {
			t.Fatalf("terminal: stdout %q stderr %q, want %q %q", so, se, wantOut, wantErr)
		}
		if want := appendResize(nil, 24, 80); len(sent) != 0 && !bytes.Equal(sent, want) {
			t.Fatalf("terminal: server sent %q, want nothing or %q", sent, want)
		}
	})
}

// FuzzHandshake: a connection is accepted only with the magic, the
// server's token and a rank in range; anything else gets no acceptance
// byte and writes nothing. An accepted one writes what its frames hold.
func FuzzHandshake(f *testing.F) {
	f.Add(uint8(0), uint32(0), []byte("GSIO1\n"+strings.Repeat("0", TokenLen)+"\x00\x00\x00\x00"))
	f.Add(uint8(1), uint32(3), frame(StreamStdout, []byte("hi\n")))
	f.Add(uint8(1), uint32(1<<31), frame(StreamStdout, []byte("hi\n")))
	f.Add(uint8(2), uint32(0), frame(StreamStdout, []byte("hi\n")))
	f.Add(uint8(3), uint32(0), frame(StreamStdout, []byte("hi\n")))
	f.Add(uint8(0), uint32(0), []byte{})
	f.Fuzz(func(t *testing.T, mode uint8, rank uint32, rest []byte) {
		s, err := Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var so, se lockedBuffer
		served := make(chan error, 1)
		go func() { served <- s.Serve(Options{Stdout: &so, Stderr: &se}) }()
		defer func() {
			s.Close()
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}()
		var hs []byte
		token := []byte(s.Token())
		switch mode % 4 {
		case 0: // bytes of any kind
		case 1: // the right token
			hs = append([]byte(Magic), token...)
		case 2: // one byte of the token wrong
			token[int(rank)%TokenLen] ^= 1
			hs = append([]byte(Magic), token...)
		case 3: // the wrong magic
			hs = append([]byte("GSIO2\n"), token...)
		}
		if hs != nil {
			hs = binary.BigEndian.AppendUint32(hs, rank)
		}
		msg := append(hs, rest...)
		conn, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		reply, err := io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server neither answered nor closed the connection")
		}
		valid := len(msg) >= handshakeLen && string(msg[:len(Magic)]) == Magic &&
			string(msg[len(Magic):len(Magic)+TokenLen]) == s.Token() &&
			binary.BigEndian.Uint32(msg[len(Magic)+TokenLen:handshakeLen]) <= maxRank
		if !valid {
			if len(reply) != 0 || len(so.Bytes())+len(se.Bytes()) != 0 {
				t.Fatalf("a bad handshake got %q and wrote %d bytes", reply, len(so.Bytes())+len(se.Bytes()))
			}
			return
		}
		if string(reply) != "K" {
			t.Fatalf("a valid handshake got %q", reply)
		}
		// The connection's output is written before the server closes it.
		wantOut, wantErr := referenceParse(msg[handshakeLen:])
		if !bytes.Equal(so.Bytes(), wantOut) || !bytes.Equal(se.Bytes(), wantErr) {
			t.Fatalf("stdout %q stderr %q, want %q %q", so.Bytes(), se.Bytes(), wantOut, wantErr)
		}
	})
}
