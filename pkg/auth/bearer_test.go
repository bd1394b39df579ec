package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAuthenticateBearer(t *testing.T) {
	a, c := authority()
	tok := issue(t, a, alice, "", time.Hour)
	bound := issue(t, a, alice, "lab1", time.Hour)
	other, _ := authority()
	other.key = tokenKey([]byte("another cluster's key, 32 bytes or more"))
	foreign := issue(t, other, alice, "", time.Hour)
	j, sec, _ := strings.Cut(tok, "~")
	raw, err := base64.RawURLEncoding.DecodeString(sec)
	if err != nil {
		t.Fatal(err)
	}
	raw[3] ^= 0x40
	expired := issue(t, a, alice, "", time.Minute)

	tests := []struct {
		name    string
		token   string
		host    string
		advance time.Duration
		want    error
	}{
		{"valid", tok, "", 0, nil},
		{"valid with spaces around", "  " + tok + "\n", "somewhere", 0, nil},
		{"host-bound from its host", bound, "lab1", 0, nil},
		{"host-bound from elsewhere", bound, "lab2", 0, ErrTokenHost},
		{"host-bound with no host", bound, "", 0, ErrTokenHost},
		{"empty", "", "", 0, ErrUnsigned},
		{"no secret", j, "", 0, ErrBadToken},
		{"JWT alone with a tilde", j + "~", "", 0, ErrBadToken},
		{"damaged secret", j + "~" + base64.RawURLEncoding.EncodeToString(raw), "", 0, ErrBearerSecret},
		{"secret not base64", j + "~!!!", "", 0, ErrBearerSecret},
		{"another cluster's token", foreign, "", 0, ErrBadToken},
		{"secret of another token", j + "~" + strings.SplitN(bound, "~", 2)[1], "", 0, ErrBearerSecret},
		{"expired", expired, "", 2*time.Minute + 2*skew, ErrTokenExpired},
		{"oversized secret", j + "~" + strings.Repeat("A", 100), "", 0, ErrBadToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := c.t
			c.t = c.t.Add(tc.advance)
			defer func() { c.t = saved }()
			got, err := a.AuthenticateBearer(tc.token, tc.host)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if !IsAuthError(err) {
					t.Fatalf("error %v is not an authentication error", err)
				}
				return
			}
			if got.Peer.UID != alice.UID || got.Peer.User != alice.User || got.Peer.TokenID == "" || !got.Peer.IsRemote() {
				t.Fatalf("peer %+v, want alice's with the token id", got.Peer)
			}
			if want := t0.Truncate(time.Second).Add(time.Hour); !got.Expires.Equal(want) {
				t.Fatalf("expires %v, want %v", got.Expires, want)
			}
		})
	}
}

// FuzzAuthenticateBearer: no string authenticates unless it is a token
// this authority issued; failures are one-line authentication errors.
func FuzzAuthenticateBearer(f *testing.F) {
	a, _ := authority()
	tok := issue(f, a, alice, "", time.Hour)
	j, sec, _ := strings.Cut(tok, "~")
	// The issued secret with its last character changed (to another
	// canonical one: the secret's last character carries 4 bits).
	last := "A"
	if strings.HasSuffix(sec, "A") {
		last = "E"
	}
	f.Add(j+"~"+sec[:len(sec)-1]+last, "h")
	f.Add(j, "")
	f.Add("~", "")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.~AAAA", "x")
	f.Fuzz(func(t *testing.T, token, host string) {
		got, err := a.AuthenticateBearer(token, host)
		if err == nil {
			if strings.TrimSpace(token) != tok {
				t.Fatalf("authenticated %q, which is not the issued token", token)
			}
			if got.Peer.User != alice.User {
				t.Fatalf("peer %+v", got.Peer)
			}
			return
		}
		if !IsAuthError(err) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %q is not a one-line auth error", err)
		}
	})
}
