package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var alice = Identity{UID: 1000, GID: 100, User: "alice"}

// authority returns a token authority over testKey on a settable clock.
func authority() (*TokenAuthority, *clock) {
	c := &clock{t: t0}
	a := NewTokenAuthority(testKey, skew)
	a.now = c.now
	a.replay.now = c.now
	return a, c
}

func issue(t testing.TB, a *TokenAuthority, id Identity, host string, life time.Duration) string {
	t.Helper()
	tok, exp, err := a.Issue(id, host, life)
	if err != nil {
		t.Fatal(err)
	}
	if want := a.now().Truncate(time.Second).Add(life); !exp.Equal(want) {
		t.Fatalf("expiry %v, want %v", exp, want)
	}
	return tok
}

// signedBy returns a request signed with tok from host at the clock's time.
func signedBy(t *testing.T, tok, host string, c *clock, path string, body []byte) request {
	t.Helper()
	s, err := ParseToken(tok, host)
	if err != nil {
		t.Fatal(err)
	}
	s.now = c.now
	h, err := s.Sign("POST", path, body)
	if err != nil {
		t.Fatal(err)
	}
	return request{method: "POST", path: path, body: body, headers: h}
}

func authenticate(a *TokenAuthority, r request) (Peer, error) {
	ctx, err := a.Authenticate(context.Background(), r.method, r.path, r.body, r.get)
	if err != nil {
		return Peer{}, err
	}
	p, ok := PeerFrom(ctx)
	if !ok {
		return Peer{}, errors.New("no peer in context")
	}
	return p, nil
}

func TestTokenAuthenticatesHolder(t *testing.T) {
	a, c := authority()
	tok := issue(t, a, alice, "", time.Hour)
	p, err := authenticate(a, signedBy(t, tok, "laptop", c, "/v1/jobs/list", []byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	if p.UID != 1000 || p.GID != 100 || p.User != "alice" || p.Remote != "laptop" || !p.IsRemote() {
		t.Fatalf("peer %+v", p)
	}
	s, _ := ParseToken(tok, "laptop")
	if cl := s.Claims(); cl.Subject != "alice" || cl.UID != 1000 || cl.ID == "" || cl.Issuer != TokenIssuer {
		t.Fatalf("claims %+v", cl)
	}
}

func TestTokenRejections(t *testing.T) {
	otherAuthority := NewTokenAuthority(otherKey, skew)
	tests := []struct {
		name string
		// build returns the request to check, given a fresh authority and
		// its clock.
		build func(t *testing.T, a *TokenAuthority, c *clock) request
		want  error
	}{
		{"no token", func(t *testing.T, a *TokenAuthority, c *clock) request {
			r := signedBy(t, issue(t, a, alice, "", time.Hour), "h", c, "/p", nil)
			delete(r.headers, HeaderToken)
			return r
		}, ErrUnsigned},
		{"token from another cluster's key", func(t *testing.T, a *TokenAuthority, c *clock) request {
			otherAuthority.now = c.now
			return signedBy(t, issue(t, otherAuthority, alice, "", time.Hour), "h", c, "/p", nil)
		}, ErrBadToken},
		{"expired", func(t *testing.T, a *TokenAuthority, c *clock) request {
			tok := issue(t, a, alice, "", time.Hour)
			c.t = c.t.Add(time.Hour + skew + time.Second)
			return signedBy(t, tok, "h", c, "/p", nil)
		}, ErrTokenExpired},
		{"issued in the future", func(t *testing.T, a *TokenAuthority, c *clock) request {
			c.t = c.t.Add(2 * skew)
			tok := issue(t, a, alice, "", time.Hour)
			c.t = c.t.Add(-2 * skew)
			return signedBy(t, tok, "h", c, "/p", nil)
		}, ErrBadToken},
		{"body altered", func(t *testing.T, a *TokenAuthority, c *clock) request {
			r := signedBy(t, issue(t, a, alice, "", time.Hour), "h", c, "/p", []byte(`{"a":1}`))
			r.body = []byte(`{"a":2}`)
			return r
		}, ErrBadSig},
		{"path altered", func(t *testing.T, a *TokenAuthority, c *clock) request {
			r := signedBy(t, issue(t, a, alice, "", time.Hour), "h", c, "/v1/jobs/list", nil)
			r.path = "/v1/jobs/cancel"
			return r
		}, ErrBadSig},
		{"origin host altered", func(t *testing.T, a *TokenAuthority, c *clock) request {
			r := signedBy(t, issue(t, a, alice, "", time.Hour), "h", c, "/p", nil)
			r.headers[HeaderHost] = "other"
			return r
		}, ErrBadSig},
		{"host-bound token from another host", func(t *testing.T, a *TokenAuthority, c *clock) request {
			return signedBy(t, issue(t, a, alice, "login1", time.Hour), "laptop", c, "/p", nil)
		}, ErrTokenHost},
		{"JWT without its secret", func(t *testing.T, a *TokenAuthority, c *clock) request {
			j, _, _ := strings.Cut(issue(t, a, alice, "", time.Hour), "~")
			return signedBy(t, j+"~"+base64.RawURLEncoding.EncodeToString(make([]byte, 32)), "h", c, "/p", nil)
		}, ErrBadSig},
		{"claims changed to root", func(t *testing.T, a *TokenAuthority, c *clock) request {
			j, sec, _ := strings.Cut(issue(t, a, alice, "", time.Hour), "~")
			parts := strings.Split(j, ".")
			cl, _ := base64.RawURLEncoding.DecodeString(parts[1])
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(cl), `"uid":1000`, `"uid":0`, 1)))
			return signedBy(t, strings.Join(parts, ".")+"~"+sec, "h", c, "/p", nil)
		}, ErrBadToken},
		{"alg none", func(t *testing.T, a *TokenAuthority, c *clock) request {
			_, sec, _ := strings.Cut(issue(t, a, alice, "", time.Hour), "~")
			claims := TokenClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: TokenIssuer, Subject: "root", ID: "x",
				IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour))}}
			j, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return signedBy(t, j+"~"+sec, "h", c, "/p", nil)
		}, ErrBadToken},
		{"signed with the cluster key itself", func(t *testing.T, a *TokenAuthority, c *clock) request {
			_, sec, _ := strings.Cut(issue(t, a, alice, "", time.Hour), "~")
			claims := TokenClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: TokenIssuer, Subject: "root", ID: "x",
				IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour))}}
			j, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(testKey)
			if err != nil {
				t.Fatal(err)
			}
			return signedBy(t, j+"~"+sec, "h", c, "/p", nil)
		}, ErrBadToken},
		{"stale request", func(t *testing.T, a *TokenAuthority, c *clock) request {
			r := signedBy(t, issue(t, a, alice, "", time.Hour), "h", c, "/p", nil)
			c.t = c.t.Add(skew + time.Second)
			return r
		}, ErrStale},
		{"oversized token", func(t *testing.T, a *TokenAuthority, c *clock) request {
			r := signedBy(t, issue(t, a, alice, "", time.Hour), "h", c, "/p", nil)
			r.headers[HeaderToken] = strings.Repeat("a", maxTokenBytes+1)
			return r
		}, ErrBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, c := authority()
			_, err := authenticate(a, tt.build(t, a, c))
			if !errors.Is(err, tt.want) || !IsAuthError(err) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTokenRequestReplayRejected(t *testing.T) {
	a, c := authority()
	r := signedBy(t, issue(t, a, alice, "", time.Hour), "h", c, "/p", []byte("{}"))
	if _, err := authenticate(a, r); err != nil {
		t.Fatal(err)
	}
	if _, err := authenticate(a, r); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v, want ErrReplay", err)
	}
}

func TestTokenResponseSignature(t *testing.T) {
	a, c := authority()
	tok := issue(t, a, alice, "", time.Hour)
	r := signedBy(t, tok, "h", c, "/v1/jobs/list", nil)
	if _, err := authenticate(a, r); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"jobs":[]}`)
	sig := a.SignResponse(r.path, r.get, body)
	s, _ := ParseToken(tok, "h")
	if err := s.VerifyResponse(r.path, r.headers, body, sig); err != nil {
		t.Fatalf("genuine answer: %v", err)
	}
	for name, check := range map[string]func() error{
		"altered body": func() error { return s.VerifyResponse(r.path, r.headers, []byte(`{"jobs":[1]}`), sig) },
		"unsigned":     func() error { return s.VerifyResponse(r.path, r.headers, body, "") },
		"other path":   func() error { return s.VerifyResponse("/v1/other", r.headers, body, sig) },
		"cluster-key sig": func() error {
			return s.VerifyResponse(r.path, r.headers, body, mac(testKey, responseMethod, r.path, r.headers[HeaderTime], r.headers[HeaderNonce], body))
		},
	} {
		if err := check(); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%s: %v, want ErrBadResponse", name, err)
		}
	}
}

func TestIssueRejectsBadLifespan(t *testing.T) {
	a, _ := authority()
	for _, life := range []time.Duration{0, -time.Second} {
		if _, _, err := a.Issue(alice, "", life); err == nil {
			t.Errorf("lifespan %v accepted", life)
		}
	}
}

func TestParseTokenMalformed(t *testing.T) {
	a, _ := authority()
	good := issue(t, a, alice, "", time.Hour)
	j, sec, _ := strings.Cut(good, "~")
	for _, s := range []string{"", "~", j, j + "~", "~" + sec, j + "~!!!", j + "~" + base64.RawURLEncoding.EncodeToString([]byte("short")), "a.b.c~" + sec} {
		if _, err := ParseToken(s, "h"); err == nil {
			t.Errorf("ParseToken(%q) accepted", s)
		}
	}
	if _, err := ParseToken(" "+good+"\n", "h"); err != nil {
		t.Errorf("surrounding space: %v", err)
	}
}

// FuzzTokenAuthenticate: arbitrary headers never authenticate without a
// token this authority issued, never panic, and fail with an auth error.
func FuzzTokenAuthenticate(f *testing.F) {
	a, _ := authority()
	tok := issue(f, a, alice, "", time.Hour)
	j, _, _ := strings.Cut(tok, "~")
	f.Add(j, "h", "1", "n", "s", []byte("{}"))
	f.Add("", "", "", "", "", []byte(nil))
	f.Add(j+"x", "h\x00", "-1", strings.Repeat("n", 64), strings.Repeat("0", 128), []byte("\xff"))
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.", "h", "99999999999999999999", "n", "s", []byte("{}"))
	f.Fuzz(func(t *testing.T, token, host, ts, nonce, sig string, body []byte) {
		h := map[string]string{HeaderToken: token, HeaderHost: host, HeaderTime: ts, HeaderNonce: nonce, HeaderSig: sig}
		_, err := a.Authenticate(context.Background(), "POST", "/p", body, func(k string) string { return h[k] })
		if err == nil {
			t.Fatalf("authenticated without the session secret: %q", h)
		}
		if !IsAuthError(err) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %q is not a one-line auth error", err)
		}
	})
}
