package auth

import (
	"context"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// unusedUID is a uid with no entry in the user database on test machines.
const unusedUID = 54321

// unixPair returns both ends of a real Unix socket connection.
func unixPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type result struct {
		c   net.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		accepted <- result{c, err}
	}()
	client, err = net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-accepted
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.c.Close() })
	return r.c, client
}

func TestPeerCred(t *testing.T) {
	server, client := unixPair(t)
	for name, c := range map[string]net.Conn{"server end": server, "client end": client} {
		p, err := PeerCred(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.UID != uint32(os.Getuid()) || p.GID != uint32(os.Getgid()) || p.PID != int32(os.Getpid()) {
			t.Errorf("%s: peer %+v, want uid %d gid %d pid %d", name, p, os.Getuid(), os.Getgid(), os.Getpid())
		}
		if p.User != UserName(p.UID) || p.User == "" {
			t.Errorf("%s: user %q, want %q", name, p.User, UserName(p.UID))
		}
	}
}

func TestPeerCredNotUnix(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := PeerCred(a); err == nil {
		t.Error("PeerCred over net.Pipe succeeded")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := PeerCred(c); err == nil {
		t.Error("PeerCred over TCP succeeded")
	}
}

func TestPeerContext(t *testing.T) {
	if _, ok := PeerFrom(context.Background()); ok {
		t.Error("PeerFrom(empty context) found a peer")
	}
	want := Peer{UID: 7, GID: 8, PID: 9, User: "u"}
	got, ok := PeerFrom(WithPeer(context.Background(), want))
	if !ok || got != want {
		t.Errorf("PeerFrom = %+v, %v; want %+v", got, ok, want)
	}
}

func TestUserDatabase(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skipf("no user database entry for the current user: %v", err)
	}
	uid, _ := strconv.ParseUint(me.Uid, 10, 32)
	gid, _ := strconv.ParseUint(me.Gid, 10, 32)
	if _, err := user.LookupId(strconv.Itoa(unusedUID)); err == nil {
		t.Skipf("uid %d exists here", unusedUID)
	}
	tests := []struct {
		name     string
		uid, gid uint32
		user     string
		home     string
	}{
		{"current user", uint32(uid), uint32(gid), me.Username, me.HomeDir},
		{"unknown uid", unusedUID, 77, strconv.Itoa(unusedUID), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UserName(tt.uid); got != tt.user {
				t.Errorf("UserName = %q, want %q", got, tt.user)
			}
			if got := HomeDir(tt.uid); got != tt.home {
				t.Errorf("HomeDir = %q, want %q", got, tt.home)
			}
			g := Groups(tt.uid, tt.gid)
			if len(g) == 0 || g[0] != tt.gid || slices.Contains(g[1:], tt.gid) {
				t.Errorf("Groups = %v: want %d first and only once", g, tt.gid)
			}
		})
	}
	if got := Groups(unusedUID, 77); !slices.Equal(got, []uint32{77}) {
		t.Errorf("Groups(unknown) = %v, want [77]", got)
	}
}
