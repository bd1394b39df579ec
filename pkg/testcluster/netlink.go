package testcluster

import (
	"io"
	"net"
	"sync"
	"testing"
)

// netLink stands for the network between one node daemon and the
// controller: a TCP proxy that a test can cut (Options.Partitionable).
// Cutting it drops the open connections and black-holes new ones (they
// are accepted and never answered, as packets lost in a partition would
// be); healing it closes the held ones, so the node's next try goes
// through. This machine has no iptables and the tests run on loopback,
// so a proxy is the partition.
type netLink struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{} // every open connection, held or piped
}

func newNetLink(t testing.TB, target string) *netLink {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &netLink{l: l, target: target, conns: map[net.Conn]struct{}{}}
	go n.serve()
	t.Cleanup(func() { l.Close(); n.dropAll() })
	return n
}

func (n *netLink) addr() string { return n.l.Addr().String() }

func (n *netLink) serve() {
	for {
		c, err := n.l.Accept()
		if err != nil {
			return
		}
		n.mu.Lock()
		cut := n.cut
		n.conns[c] = struct{}{}
		n.mu.Unlock()
		if cut {
			continue // held unanswered until healed
		}
		go n.pipe(c)
	}
}

func (n *netLink) pipe(c net.Conn) {
	up, err := net.Dial("tcp", n.target)
	if err != nil {
		n.drop(c)
		return
	}
	n.mu.Lock()
	n.conns[up] = struct{}{}
	n.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	n.drop(c)
	n.drop(up)
}

func (n *netLink) drop(c net.Conn) {
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
	c.Close()
}

func (n *netLink) dropAll() {
	n.mu.Lock()
	conns := n.conns
	n.conns = map[net.Conn]struct{}{}
	n.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// setCut cuts (true) or heals (false) the link; either way the open
// connections are dropped.
func (n *netLink) setCut(cut bool) {
	n.mu.Lock()
	n.cut = cut
	n.mu.Unlock()
	n.dropAll()
}
