// Package auth authenticates gsched's RPCs. Users are identified by the
// kernel (SO_PEERCRED on the controller's Unix socket), never by a field of
// the request. Daemons sign each request with the shared cluster key:
// HMAC-SHA256 over the method, path, a timestamp, a random nonce and the
// body's hash. The verifier rejects unsigned, forged, stale (beyond the
// allowed clock skew) and replayed (nonce seen before) requests.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// Header names of a signed request.
const (
	HeaderTime  = "X-Gsched-Time"
	HeaderNonce = "X-Gsched-Nonce"
	HeaderSig   = "X-Gsched-Signature"
	HeaderNode  = "X-Gsched-Node"
	// HeaderRespSig signs a daemon's answer to a signed request, bound to
	// that request's timestamp and nonce, so a node daemon acts only on
	// answers from a holder of the cluster key, and never on an old one.
	HeaderRespSig = "X-Gsched-Response-Signature"
)

// MinKeyBytes is the shortest cluster key accepted.
const MinKeyBytes = 32

// LoadKey reads the cluster key. The file must not be readable by group or
// others.
func LoadKey(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("cluster key %s: mode %04o is too open, want 0600", path, st.Mode().Perm())
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("cluster key %s: %d bytes, want at least %d", path, len(key), MinKeyBytes)
	}
	return key, nil
}

// CreateKey writes a new random key (hex, 64 bytes) with mode 0600, unless
// the file exists already.
func CreateKey(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cluster key dir: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("cluster key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("cluster key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(b)); err != nil {
		f.Close()
		return fmt.Errorf("cluster key: %w", err)
	}
	return f.Close()
}

// Signer signs requests with the cluster key.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a signer for the key.
func NewSigner(key []byte) *Signer { return &Signer{key: key, now: time.Now} }

// Sign returns the headers to add to a request.
func (s *Signer) Sign(method, path string, body []byte) (map[string]string, error) {
	ts, n, err := stamp(s.now())
	if err != nil {
		return nil, err
	}
	return map[string]string{
		HeaderTime:  ts,
		HeaderNonce: n,
		HeaderSig:   mac(s.key, method, path, ts, n, body),
	}, nil
}

// stamp returns a request's time (Unix nanoseconds) and a fresh 128-bit
// nonce, both as sent in the headers.
func stamp(now time.Time) (ts, nonce string, err error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("sign: %w", err)
	}
	return strconv.FormatInt(now.UnixNano(), 10), hex.EncodeToString(b), nil
}

func mac(key []byte, method, path, ts, nonce string, body []byte) string {
	return macParts(key, body, method, path, ts, nonce)
}

// macParts is HMAC-SHA256(key, part0 NUL part1 NUL ... SHA-256(body)), hex.
func macParts(key, body []byte, parts ...string) string {
	bh := sha256.Sum256(body)
	m := hmac.New(sha256.New, key)
	for _, part := range parts {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	m.Write(bh[:])
	return hex.EncodeToString(m.Sum(nil))
}

// Errors returned by Verify; all wrap api.ErrUnauthenticated.
var (
	ErrUnsigned = fmt.Errorf("%w: request is not signed", api.ErrUnauthenticated)
	ErrBadSig   = fmt.Errorf("%w: bad signature", api.ErrUnauthenticated)
	ErrStale    = fmt.Errorf("%w: request timestamp outside the allowed clock skew", api.ErrUnauthenticated)
	ErrReplay   = fmt.Errorf("%w: replayed request (nonce already seen)", api.ErrUnauthenticated)
)

// Verifier checks signed requests and remembers nonces for twice the
// allowed skew, so each signed request is accepted at most once.
type Verifier struct {
	key    []byte
	replay *replayCache
}

// NewVerifier returns a verifier for the key.
func NewVerifier(key []byte, skew time.Duration) *Verifier {
	return &Verifier{key: key, replay: newReplayCache(skew, time.Now)}
}

// Verify checks one request's headers against its method, path and body.
func (v *Verifier) Verify(method, path string, body []byte, get func(string) string) error {
	ts, nonce, sig := get(HeaderTime), get(HeaderNonce), get(HeaderSig)
	if ts == "" || nonce == "" || sig == "" {
		return ErrUnsigned
	}
	if len(nonce) > 64 || len(sig) > 128 {
		return ErrBadSig
	}
	want := mac(v.key, method, path, ts, nonce, body)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return ErrBadSig
	}
	return v.replay.check(ts, nonce)
}

// replayCache rejects requests whose time is outside the allowed skew and
// nonces seen before; it remembers each nonce for twice the skew.
type replayCache struct {
	skew time.Duration
	now  func() time.Time

	mu    sync.Mutex
	seen  map[string]time.Time
	sweep time.Time
}

func newReplayCache(skew time.Duration, now func() time.Time) *replayCache {
	return &replayCache{skew: skew, now: now, seen: map[string]time.Time{}}
}

// check accepts (ts, nonce) once; ts is Unix nanoseconds in decimal.
func (c *replayCache) check(ts, nonce string) error {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSig
	}
	now := c.now()
	t := time.Unix(0, n)
	if d := now.Sub(t); d > c.skew || d < -c.skew {
		return ErrStale
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.seen[nonce]; dup {
		return ErrReplay
	}
	c.seen[nonce] = t
	if now.Sub(c.sweep) > c.skew {
		for k, at := range c.seen {
			if now.Sub(at) > 2*c.skew {
				delete(c.seen, k)
			}
		}
		c.sweep = now
	}
	return nil
}

// ErrBadResponse is an answer to a signed request that is unsigned or not
// signed for that request.
var ErrBadResponse = fmt.Errorf("%w: answer not signed with the cluster key for this request", api.ErrUnauthenticated)

// responseMethod separates answers' signatures from requests'.
const responseMethod = "RESPONSE"

// SignResponse returns the signature of an answer, with body, to the
// (verified) request whose headers get returns.
func (v *Verifier) SignResponse(path string, get func(string) string, body []byte) string {
	return mac(v.key, responseMethod, path, get(HeaderTime), get(HeaderNonce), body)
}

// VerifyResponse checks the signature of an answer to the request that
// Sign gave headers for.
func (s *Signer) VerifyResponse(path string, reqHeaders map[string]string, body []byte, sig string) error {
	if sig == "" || len(sig) > 128 {
		return ErrBadResponse
	}
	want := mac(s.key, responseMethod, path, reqHeaders[HeaderTime], reqHeaders[HeaderNonce], body)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return ErrBadResponse
	}
	return nil
}

// IsAuthError reports whether err is an authentication failure.
func IsAuthError(err error) bool { return errors.Is(err, api.ErrUnauthenticated) }
