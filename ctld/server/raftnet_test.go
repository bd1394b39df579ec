package server

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// Raft's TLS transport connects controllers that hold the same cluster
// key and refuses, on both sides, a peer that does not.
func TestRaftTLSNeedsTheClusterKey(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	other := bytes.Repeat([]byte("o"), 32)
	srv, err := newTLSStream("127.0.0.1:0", "127.0.0.1:1", key)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := raft.ServerAddress(srv.Listener.Addr().String())
	accepted := make(chan error, 4)
	go func() {
		for {
			c, err := srv.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 5)
				_, err := io.ReadFull(c, buf)
				if err == nil {
					_, err = c.Write(buf)
				}
				accepted <- err
			}()
		}
	}()

	for _, tc := range []struct {
		name string
		key  []byte
		ok   bool
	}{{"same key", key, true}, {"other key", other, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cli, err := newTLSStream("127.0.0.1:0", "127.0.0.1:2", tc.key)
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			c, err := cli.Dial(addr, 2*time.Second)
			if err == nil {
				c.SetDeadline(time.Now().Add(2 * time.Second))
				if _, err = c.Write([]byte("hello")); err == nil {
					buf := make([]byte, 5)
					_, err = io.ReadFull(c, buf)
				}
				c.Close()
			}
			serverErr := <-accepted
			if tc.ok && (err != nil || serverErr != nil) {
				t.Fatalf("client %v, server %v", err, serverErr)
			}
			if !tc.ok && (err == nil || serverErr == nil) {
				t.Fatalf("a peer without the key got through: client %v, server %v", err, serverErr)
			}
		})
	}
}
