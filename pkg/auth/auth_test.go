package auth

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef-test-key")
	otherKey = []byte("fedcba9876543210fedcba9876543210-other-key")
	t0       = time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
)

const skew = time.Minute

// clock is a settable time source for the unexported now fields.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// pair returns a signer and verifier over key sharing one clock at t0.
func pair(key []byte) (*Signer, *Verifier, *clock) {
	c := &clock{t: t0}
	s := NewSigner(key)
	s.now = c.now
	v := NewVerifier(testKey, skew)
	v.replay.now = c.now
	return s, v, c
}

type request struct {
	method, path string
	body         []byte
	headers      map[string]string
}

func (r request) get(k string) string { return r.headers[k] }

func (r request) clone() request {
	h := map[string]string{}
	for k, v := range r.headers {
		h[k] = v
	}
	r.headers = h
	r.body = bytes.Clone(r.body)
	return r
}

func sign(t *testing.T, s *Signer, method, path string, body []byte) request {
	t.Helper()
	h, err := s.Sign(method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return request{method: method, path: path, body: body, headers: h}
}

func verify(v *Verifier, r request) error { return v.Verify(r.method, r.path, r.body, r.get) }

func TestSignVerifyRoundTrip(t *testing.T) {
	s, v, _ := pair(testKey)
	for _, body := range [][]byte{nil, {}, []byte(`{"node":"n1"}`), bytes.Repeat([]byte{0, 1, 2}, 10000)} {
		r := sign(t, s, "POST", api.PathNodeSync, body)
		if err := verify(v, r); err != nil {
			t.Errorf("Verify(body of %d bytes) = %v", len(body), err)
		}
	}
	a, b := sign(t, s, "POST", "/p", nil), sign(t, s, "POST", "/p", nil)
	if a.headers[HeaderNonce] == b.headers[HeaderNonce] || len(a.headers[HeaderNonce]) != 32 {
		t.Errorf("nonces %q and %q: want distinct 16-byte hex", a.headers[HeaderNonce], b.headers[HeaderNonce])
	}
	if got := a.headers[HeaderTime]; got != strconv.FormatInt(t0.UnixNano(), 10) {
		t.Errorf("time header %q, want the signer's clock", got)
	}
}

func TestVerifyRejects(t *testing.T) {
	flip := func(s string) string { // change the last character
		last := s[len(s)-1]
		if last == '0' {
			return s[:len(s)-1] + "1"
		}
		return s[:len(s)-1] + "0"
	}
	tests := []struct {
		name   string
		change func(*request)
		want   error
	}{
		{"tampered body", func(r *request) { r.body = []byte(`{"node":"n2"}`) }, ErrBadSig},
		{"body dropped", func(r *request) { r.body = nil }, ErrBadSig},
		{"tampered path", func(r *request) { r.path = api.PathNodeRegister }, ErrBadSig},
		{"tampered method", func(r *request) { r.method = "PUT" }, ErrBadSig},
		{"tampered timestamp", func(r *request) { r.headers[HeaderTime] = flip(r.headers[HeaderTime]) }, ErrBadSig},
		{"tampered nonce", func(r *request) { r.headers[HeaderNonce] = flip(r.headers[HeaderNonce]) }, ErrBadSig},
		{"tampered signature", func(r *request) { r.headers[HeaderSig] = flip(r.headers[HeaderSig]) }, ErrBadSig},
		{"upper-case signature", func(r *request) { r.headers[HeaderSig] = strings.ToUpper(r.headers[HeaderSig]) }, ErrBadSig},
		{"oversized nonce", func(r *request) { r.headers[HeaderNonce] = strings.Repeat("a", 65) }, ErrBadSig},
		{"oversized signature", func(r *request) { r.headers[HeaderSig] += strings.Repeat("0", 128) }, ErrBadSig},
		{"no time", func(r *request) { delete(r.headers, HeaderTime) }, ErrUnsigned},
		{"no nonce", func(r *request) { delete(r.headers, HeaderNonce) }, ErrUnsigned},
		{"no signature", func(r *request) { delete(r.headers, HeaderSig) }, ErrUnsigned},
		{"no headers", func(r *request) { r.headers = nil }, ErrUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, v, _ := pair(testKey)
			r := sign(t, s, "POST", api.PathNodeSync, []byte(`{"node":"n1"}`))
			bad := r.clone()
			tt.change(&bad)
			err := verify(v, bad)
			if !errors.Is(err, tt.want) || !errors.Is(err, api.ErrUnauthenticated) || !IsAuthError(err) {
				t.Errorf("Verify = %v, want %v (an api.ErrUnauthenticated)", err, tt.want)
			}
			// A rejected request does not burn the nonce of the genuine one.
			if err := verify(v, r); err != nil {
				t.Errorf("genuine request after the rejected one: %v", err)
			}
		})
	}
}

func TestVerifyOtherKey(t *testing.T) {
	s, v, _ := pair(otherKey)
	err := verify(v, sign(t, s, "POST", "/p", []byte("x")))
	if !errors.Is(err, ErrBadSig) || !errors.Is(err, api.ErrUnauthenticated) {
		t.Errorf("Verify of a request signed with another key = %v, want ErrBadSig", err)
	}
}

func TestVerifyTimestampNotANumber(t *testing.T) {
	_, v, _ := pair(testKey)
	// Correctly MACed with the key, but the time is not a number.
	r := request{method: "POST", path: "/p", headers: map[string]string{HeaderTime: "yesterday", HeaderNonce: "abcd"}}
	r.headers[HeaderSig] = mac(testKey, r.method, r.path, "yesterday", "abcd", nil)
	if err := verify(v, r); !errors.Is(err, ErrBadSig) {
		t.Errorf("Verify = %v, want ErrBadSig", err)
	}
}

func TestVerifyClockSkew(t *testing.T) {
	tests := []struct {
		name string
		age  time.Duration // how far the verifier's clock is ahead of the signer's
		want error
	}{
		{"fresh", 0, nil},
		{"at the skew limit", skew, nil},
		{"just beyond the skew", skew + time.Nanosecond, ErrStale},
		{"an hour old", time.Hour, ErrStale},
		{"from the near future", -skew, nil},
		{"from the far future", -skew - time.Nanosecond, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, v, c := pair(testKey)
			r := sign(t, s, "POST", "/p", nil)
			c.t = c.t.Add(tt.age)
			err := verify(v, r)
			if !errors.Is(err, tt.want) || (err != nil && !errors.Is(err, api.ErrUnauthenticated)) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	s, v, c := pair(testKey)
	r := sign(t, s, "POST", "/p", []byte("b"))
	if err := verify(v, r); err != nil {
		t.Fatal(err)
	}
	if err := verify(v, r.clone()); !errors.Is(err, ErrReplay) || !errors.Is(err, api.ErrUnauthenticated) {
		t.Fatalf("replay = %v, want ErrReplay", err)
	}
	// Other requests move the clock on and trigger sweeps of old nonces;
	// r's nonce must be remembered for as long as r is not stale.
	for i := 0; i < 4; i++ {
		c.t = c.t.Add(skew / 4)
		if err := verify(v, sign(t, s, "POST", "/p", nil)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if err := verify(v, r.clone()); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay at the skew limit = %v, want ErrReplay", err)
	}
	c.t = c.t.Add(time.Nanosecond)
	if err := verify(v, r.clone()); !errors.Is(err, ErrStale) {
		t.Fatalf("replay beyond the skew = %v, want ErrStale", err)
	}
	// Old nonces are forgotten eventually.
	c.t = c.t.Add(3 * skew)
	if err := verify(v, sign(t, s, "POST", "/p", nil)); err != nil {
		t.Fatal(err)
	}
	v.replay.mu.Lock()
	n := len(v.replay.seen)
	v.replay.mu.Unlock()
	if n != 1 {
		t.Errorf("verifier remembers %d nonces after 3 skews, want 1 (the last)", n)
	}
}

// ---- keys ----

func writeKey(t *testing.T, content []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cluster.key")
	if err := os.WriteFile(p, content, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is subject to umask
		t.Fatal(err)
	}
	return p
}

func TestLoadKey(t *testing.T) {
	long := bytes.Repeat([]byte("k"), MinKeyBytes)
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		wantErr string
	}{
		{"0600 and long enough", long, 0o600, ""},
		{"0400", long, 0o400, ""},
		{"readable by others", long, 0o644, "too open"},
		{"readable by group", long, 0o640, "too open"},
		{"world-writable", long, 0o602, "too open"},
		{"one byte short", long[:MinKeyBytes-1], 0o600, "want at least"},
		{"empty", nil, 0o600, "want at least"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := LoadKey(writeKey(t, tt.content, tt.mode))
			if tt.wantErr == "" {
				if err != nil || !bytes.Equal(key, tt.content) {
					t.Errorf("LoadKey = %q, %v", key, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || key != nil {
				t.Errorf("LoadKey = %q, %v; want an error containing %q", key, err, tt.wantErr)
			}
		})
	}
	if _, err := LoadKey(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadKey(missing) = %v, want ErrNotExist", err)
	}
}

func TestCreateKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "dir", "cluster.key")
	if err := CreateKey(p); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %04o, want 0600", st.Mode().Perm())
	}
	if dst, err := os.Stat(filepath.Dir(p)); err != nil || dst.Mode().Perm()&0o077 != 0 {
		t.Errorf("key dir: %v, mode %v", err, dst.Mode())
	}
	key, err := LoadKey(p)
	if err != nil {
		t.Fatalf("LoadKey of a created key: %v", err)
	}
	if len(key) != 64 || strings.Trim(string(key), "0123456789abcdef") != "" {
		t.Errorf("key %q: want 64 hex digits", key)
	}
	if err := CreateKey(p); err != nil {
		t.Fatalf("CreateKey over an existing key: %v", err)
	}
	again, _ := os.ReadFile(p)
	if !bytes.Equal(again, key) {
		t.Error("CreateKey overwrote an existing key")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	if err := CreateKey(other); err != nil {
		t.Fatal(err)
	}
	if k2, _ := os.ReadFile(other); bytes.Equal(k2, key) {
		t.Error("two created keys are equal")
	}
}

// ---- fuzzing ----

// FuzzVerify feeds arbitrary headers and bodies to a verifier: it must
// never panic, never accept a request not signed with its key, and only
// return its own errors.
func FuzzVerify(f *testing.F) {
	s, _, _ := pair(otherKey) // seeds signed with the wrong key
	for _, body := range []string{"", "{}", `{"node":"n1"}`} {
		h, err := s.Sign("POST", api.PathNodeSync, []byte(body))
		if err != nil {
			f.Fatal(err)
		}
		f.Add("POST", api.PathNodeSync, h[HeaderTime], h[HeaderNonce], h[HeaderSig], []byte(body))
	}
	f.Add("", "", "", "", "", []byte(nil))
	f.Add("GET", "/", "-1", "x", strings.Repeat("f", 64), []byte("\x00"))
	f.Add("POST", "/p", "99999999999999999999999", strings.Repeat("n", 64), strings.Repeat("0", 128), []byte("z"))
	f.Fuzz(func(t *testing.T, method, path, ts, nonce, sig string, body []byte) {
		v := NewVerifier(testKey, skew)
		v.replay.now = func() time.Time { return t0 }
		h := map[string]string{HeaderTime: ts, HeaderNonce: nonce, HeaderSig: sig}
		err := v.Verify(method, path, body, func(k string) string { return h[k] })
		if err == nil {
			t.Fatalf("verified without the key: %q %q %q %q %q", method, path, ts, nonce, sig)
		}
		if !errors.Is(err, ErrUnsigned) && !errors.Is(err, ErrBadSig) && !errors.Is(err, ErrStale) && !errors.Is(err, ErrReplay) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
