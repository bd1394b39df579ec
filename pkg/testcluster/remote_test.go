package testcluster

import (
	"encoding/base64"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// A user gets a token on the controller's host (`gcontrol token`) and uses
// the commands over TCP with it. The controller takes the caller's
// identity from the token, never from the local uid: root running gsub
// with nobody's token submits nobody's job, and cannot cancel root's.
// Forged, damaged, host-bound and re-minted tokens are refused.
func TestRemoteCommandsWithToken(t *testing.T) {
	c := Start(t, Options{})
	if c.UserAddr == "" {
		t.Fatal("controller wrote no user.addr with user_listen set")
	}
	dir := c.WorkDir(nobody, nobody)
	tok := getToken(t, c, nobody, dir, "lifespan=600")
	remote := func(tok string) []string {
		return []string{"GSCHED_TOKEN=" + tok, "GSCHED_CONTROLLER=" + c.UserAddr, "GSCHED_SOCKET=/nonexistent/ctld.sock"}
	}
	bin := func(name string) string { return filepath.Join(c.Bin, name) }

	r := c.RunEnv(remote(tok), 0, 0, dir, bin("gsub"), "--wait", "--parsable", "--wrap", "id -u")
	if r.Code != 0 {
		t.Fatalf("remote gsub: code %d stderr %q", r.Code, r.Stderr)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if err != nil {
		t.Fatalf("remote gsub --parsable printed %q", r.Stdout)
	}
	id := api.JobID(n)
	if out := readOut(t, dir, id); out != "65534\n" {
		t.Fatalf("job ran as %q, want nobody (65534): the token's user", out)
	}
	if j := c.Job(id); j.UID != nobody || j.User != "nobody" {
		t.Fatalf("job record uid %d user %q, want nobody's", j.UID, j.User)
	}
	if r := c.RunEnv(remote(tok), 0, 0, dir, bin("gacct"), "-j", id.String()); r.Code != 0 || !strings.Contains(r.Stdout, "COMPLETED") {
		t.Fatalf("remote gacct: code %d out %q err %q", r.Code, r.Stdout, r.Stderr)
	}

	held := c.Submit(api.JobSpec{Hold: true, Script: "#!/bin/sh\ntrue\n"}) // root's
	if r := c.RunEnv(remote(tok), 0, 0, dir, bin("gcancel"), held.String()); r.Code == 0 || !strings.Contains(r.Stderr, "permission denied") {
		t.Fatalf("nobody's token cancelling root's job: code %d stderr %q", r.Code, r.Stderr)
	}
	if j := c.Job(held); j.State != api.StatePending {
		t.Fatalf("refused cancel changed root's job: %s", j.State)
	}

	// A token cannot mint another (a leaked one dies at its expiry), and a
	// non-operator cannot get one for someone else.
	if r := c.RunEnv(remote(tok), nobody, nobody, dir, bin("gcontrol"), "token"); r.Code == 0 || !strings.Contains(r.Stderr, "only to commands on the controller's host") {
		t.Fatalf("token from a token: code %d stderr %q", r.Code, r.Stderr)
	}
	if r := c.CLI(nobody, nobody, dir, "gcontrol", "token", "username=root"); r.Code == 0 || !strings.Contains(r.Stderr, "permission denied") {
		t.Fatalf("nobody asking for root's token: code %d stderr %q", r.Code, r.Stderr)
	}
	if r := c.CLI(nobody, nobody, dir, "gcontrol", "token", "lifespan=3650d"); r.Code == 0 {
		t.Fatalf("lifespan in days is not a duration, yet accepted: %q", r.Stdout)
	}
	if r := c.CLI(nobody, nobody, dir, "gcontrol", "token", "lifespan=315360000"); r.Code == 0 || !strings.Contains(r.Stderr, "over the maximum") {
		t.Fatalf("ten-year token: code %d stderr %q", r.Code, r.Stderr)
	}

	jwtPart, secret, _ := strings.Cut(tok, "~")
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] ^= 1
	// The claims rewritten to say uid 0, the signature kept.
	parts := strings.Split(jwtPart, ".")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !strings.Contains(string(claims), `"uid":65534`) {
		t.Fatalf("token claims %q: %v", claims, err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(claims), `"uid":65534`, `"uid":0`, 1)))
	forged := []struct{ name, tok, want string }{
		{"damaged secret", jwtPart + "~" + base64.RawURLEncoding.EncodeToString(raw), "bad signature"},
		{"JWT seen on the wire, no secret", jwtPart + "~" + base64.RawURLEncoding.EncodeToString(make([]byte, 32)), "bad signature"},
		{"claims rewritten to root", strings.Join(parts, ".") + "~" + secret, "invalid token"},
	}
	for _, f := range forged {
		r := c.RunEnv(remote(f.tok), nobody, nobody, dir, bin("gqueue"))
		if r.Code == 0 || !strings.Contains(r.Stderr, f.want) {
			t.Errorf("%s: code %d stderr %q, want %q", f.name, r.Code, r.Stderr, f.want)
		}
	}

	// An operator may get a token for another user; a host-bound token
	// works only from that host.
	bound := getToken(t, c, 0, dir, "username=nobody", "host=elsewhere.example")
	if r := c.RunEnv(remote(bound), 0, 0, dir, bin("gqueue")); r.Code == 0 || !strings.Contains(r.Stderr, "not valid from this host") {
		t.Fatalf("host-bound token from another host: code %d stderr %q", r.Code, r.Stderr)
	}
}

// getToken runs `gcontrol token ARGS` as uid on the controller's host.
func getToken(t *testing.T, c *Cluster, uid int, dir string, args ...string) string {
	t.Helper()
	r := c.CLI(uid, uid, dir, "gcontrol", append([]string{"token"}, args...)...)
	tok, ok := strings.CutPrefix(strings.TrimSpace(r.Stdout), "GSCHED_TOKEN=")
	if r.Code != 0 || !ok || !strings.Contains(tok, "~") {
		t.Fatalf("gcontrol token %v: code %d out %q err %q", args, r.Code, r.Stdout, r.Stderr)
	}
	return tok
}
