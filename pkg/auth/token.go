package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gsched/gsched/pkg/api"
)

// Remote users (commands on hosts other than the controller's) present a
// token that the controller issued to a local caller (`gcontrol token`),
// as Slurm's auth/jwt does. A token is two parts, "JWT~SECRET":
//
//   - JWT is an HS256 JSON Web Token (RFC 7519) signed with a key derived
//     from the cluster key. Its claims say who the holder is (uid, gid,
//     user name), when it was issued and expires, a random id (jti), and
//     optionally the one host it may be used from.
//   - SECRET is HMAC(token key, JWT): a per-token session key that only
//     the controller can compute and that never travels after issue.
//
// Each request carries the JWT in a header and is signed with SECRET over
// the method, path, origin host, time, a fresh nonce and the body's hash;
// the controller recomputes SECRET from the JWT. So a JWT seen on the
// network is useless without its SECRET, a request cannot be altered or
// replayed (same time window and nonce cache as node requests), and the
// answer is signed with SECRET too, so the command knows it came from the
// controller.

// Header names of a token-signed request (with HeaderTime, HeaderNonce
// and HeaderSig).
const (
	HeaderToken = "X-Gsched-Token"
	HeaderHost  = "X-Gsched-Host"
)

// TokenIssuer is the "iss" claim of every token.
const TokenIssuer = "gsched"

// maxTokenBytes bounds the JWT a server will parse.
const maxTokenBytes = 4096

// Errors of token authentication; all wrap api.ErrUnauthenticated.
var (
	ErrBadToken     = fmt.Errorf("%w: invalid token (not issued by this cluster, or damaged)", api.ErrUnauthenticated)
	ErrTokenExpired = fmt.Errorf("%w: token expired; get a new one with `gcontrol token`", api.ErrUnauthenticated)
	ErrTokenHost    = fmt.Errorf("%w: token is not valid from this host", api.ErrUnauthenticated)
)

// TokenClaims are a token's claims: the registered ones (iss, sub = user
// name, iat, nbf, exp, jti) and gsched's own.
type TokenClaims struct {
	jwt.RegisteredClaims
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
	// Host, when set, is the only origin host the token is valid from.
	Host string `json:"host,omitempty"`
}

// tokenKey derives the key that signs tokens from the cluster key, so a
// token signature can never be confused with a node request signature.
func tokenKey(clusterKey []byte) []byte {
	m := hmac.New(sha256.New, clusterKey)
	m.Write([]byte("gsched user token key v1"))
	return m.Sum(nil)
}

// sessionSecret is the per-token request-signing key.
func sessionSecret(tkey []byte, jwtString string) []byte {
	m := hmac.New(sha256.New, tkey)
	m.Write([]byte("session\x00"))
	m.Write([]byte(jwtString))
	return m.Sum(nil)
}

// TokenAuthority issues tokens and authenticates requests signed with
// them. It is safe for concurrent use.
type TokenAuthority struct {
	key    []byte
	now    func() time.Time
	replay *replayCache
}

// NewTokenAuthority returns an authority for the cluster key; skew bounds
// request timestamps and token times.
func NewTokenAuthority(clusterKey []byte, skew time.Duration) *TokenAuthority {
	return &TokenAuthority{key: tokenKey(clusterKey), now: time.Now, replay: newReplayCache(skew, time.Now)}
}

// Identity is who a token is for.
type Identity struct {
	UID  uint32
	GID  uint32
	User string
}

// Issue returns a token for id, valid for life from now and, if host is
// set, only from that host.
func (a *TokenAuthority) Issue(id Identity, host string, life time.Duration) (string, time.Time, error) {
	if life <= 0 {
		return "", time.Time{}, fmt.Errorf("%w: token lifespan must be positive", api.ErrInvalid)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", time.Time{}, fmt.Errorf("token id: %w", err)
	}
	now := a.now().Truncate(time.Second)
	exp := now.Add(life)
	claims := TokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   id.User,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        hex.EncodeToString(jti),
		},
		UID: id.UID, GID: id.GID, Host: host,
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(a.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(sessionSecret(a.key, signed))
	return signed + "~" + secret, exp, nil
}

// parse verifies a JWT's signature, issuer and times.
func (a *TokenAuthority) parse(s string) (*TokenClaims, error) {
	if s == "" {
		return nil, ErrUnsigned
	}
	if len(s) > maxTokenBytes {
		return nil, ErrBadToken
	}
	claims := &TokenClaims{}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(TokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(a.replay.skew),
		jwt.WithTimeFunc(a.now),
	)
	_, err := p.ParseWithClaims(s, claims, func(*jwt.Token) (any, error) { return a.key, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrTokenExpired
	case err != nil:
		return nil, ErrBadToken
	case claims.Subject == "" || claims.ID == "":
		return nil, ErrBadToken
	}
	return claims, nil
}

// Authenticate checks a token-signed request and returns the context with
// the token holder as the caller (a Peer with Remote set).
func (a *TokenAuthority) Authenticate(ctx context.Context, method, path string, body []byte, get func(string) string) (context.Context, error) {
	tok, ts, nonce, sig, host := get(HeaderToken), get(HeaderTime), get(HeaderNonce), get(HeaderSig), get(HeaderHost)
	if tok == "" || ts == "" || nonce == "" || sig == "" {
		return ctx, ErrUnsigned
	}
	if len(nonce) > 64 || len(sig) > 128 || len(host) > 255 {
		return ctx, ErrBadSig
	}
	claims, err := a.parse(tok)
	if err != nil {
		return ctx, err
	}
	want := macParts(sessionSecret(a.key, tok), body, method, path, host, ts, nonce)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return ctx, ErrBadSig
	}
	if claims.Host != "" && claims.Host != host {
		return ctx, ErrTokenHost
	}
	if err := a.replay.check(ts, nonce); err != nil {
		return ctx, err
	}
	return WithPeer(ctx, Peer{UID: claims.UID, GID: claims.GID, User: claims.Subject, Remote: host, TokenID: claims.ID}), nil
}

// SignResponse signs the answer to a request Authenticate accepted.
func (a *TokenAuthority) SignResponse(path string, get func(string) string, body []byte) string {
	return macParts(sessionSecret(a.key, get(HeaderToken)), body, responseMethod, path, get(HeaderTime), get(HeaderNonce))
}

// TokenSigner signs a remote command's requests with a token.
type TokenSigner struct {
	jwt    string
	secret []byte
	host   string
	claims TokenClaims
	now    func() time.Time
}

// ParseToken splits a token string ("JWT~SECRET", as `gcontrol token`
// prints it) for use from host. It reads the claims without verifying
// them (only the controller can), to report expiry early.
func ParseToken(s, host string) (*TokenSigner, error) {
	s = strings.TrimSpace(s)
	j, sec, ok := strings.Cut(s, "~")
	if !ok || j == "" || sec == "" {
		return nil, fmt.Errorf("malformed token: want JWT~SECRET as printed by `gcontrol token`")
	}
	secret, err := base64.RawURLEncoding.DecodeString(sec)
	if err != nil || len(secret) != sha256.Size {
		return nil, fmt.Errorf("malformed token: bad secret part")
	}
	ts := &TokenSigner{jwt: j, secret: secret, host: host, now: time.Now}
	if _, _, err := jwt.NewParser().ParseUnverified(j, &ts.claims); err != nil {
		return nil, fmt.Errorf("malformed token: %v", err)
	}
	return ts, nil
}

// Claims returns the token's (unverified) claims.
func (s *TokenSigner) Claims() TokenClaims { return s.claims }

// Sign returns the headers of a request signed with the token.
func (s *TokenSigner) Sign(method, path string, body []byte) (map[string]string, error) {
	ts, n, err := stamp(s.now())
	if err != nil {
		return nil, err
	}
	return map[string]string{
		HeaderToken: s.jwt,
		HeaderHost:  s.host,
		HeaderTime:  ts,
		HeaderNonce: n,
		HeaderSig:   macParts(s.secret, body, method, path, s.host, ts, n),
	}, nil
}

// VerifyResponse checks the controller's signature of an answer to the
// request that Sign gave headers for.
func (s *TokenSigner) VerifyResponse(path string, reqHeaders map[string]string, body []byte, sig string) error {
	if sig == "" || len(sig) > 128 {
		return ErrBadResponse
	}
	want := macParts(s.secret, body, responseMethod, path, reqHeaders[HeaderTime], reqHeaders[HeaderNonce])
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return ErrBadResponse
	}
	return nil
}

// Authenticate checks a request signed with the cluster key (a node
// daemon's); the context is returned unchanged.
func (v *Verifier) Authenticate(ctx context.Context, method, path string, body []byte, get func(string) string) (context.Context, error) {
	return ctx, v.Verify(method, path, body, get)
}
