package auth

import (
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// Bearer use of a token (the REST API and the web dashboard): the whole
// "JWT~SECRET" travels with each request, in an "Authorization: Bearer"
// header or the dashboard's HttpOnly cookie, since curl and browsers
// cannot compute the per-request signature that the commands send. The
// controller checks the JWT as for a signed request and that SECRET is
// the one it derives from the JWT; it cannot check freshness, so a bearer
// request seen on the wire can be replayed until the token expires. The
// controller therefore accepts bearer tokens over TLS, or over plain TCP
// only from loopback unless told otherwise (see docs/API.md).

// ErrBearerSecret is a bearer token whose secret does not belong to its JWT.
var ErrBearerSecret = fmt.Errorf("%w: bad token secret", api.ErrUnauthenticated)

// BearerToken is a bearer token that AuthenticateBearer accepted.
type BearerToken struct {
	// Peer is the token's holder (Remote is the host given, TokenID the jti).
	Peer Peer
	// Expires is the token's expiry.
	Expires time.Time
}

// AuthenticateBearer checks a bearer token ("JWT~SECRET") presented from
// host ("" when the client named none; a host-bound token then fails).
func (a *TokenAuthority) AuthenticateBearer(token, host string) (BearerToken, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return BearerToken{}, ErrUnsigned
	}
	j, sec, ok := strings.Cut(token, "~")
	if !ok || j == "" || sec == "" || len(sec) > 64 || len(host) > 255 {
		return BearerToken{}, ErrBadToken
	}
	claims, err := a.parse(j)
	if err != nil {
		return BearerToken{}, err
	}
	given, err := base64.RawURLEncoding.Strict().DecodeString(sec)
	if err != nil || !hmac.Equal(given, sessionSecret(a.key, j)) {
		return BearerToken{}, ErrBearerSecret
	}
	if claims.Host != "" && claims.Host != host {
		return BearerToken{}, ErrTokenHost
	}
	var exp time.Time
	if claims.ExpiresAt != nil {
		exp = claims.ExpiresAt.Time
	}
	return BearerToken{
		Peer:    Peer{UID: claims.UID, GID: claims.GID, User: claims.Subject, Remote: host, TokenID: claims.ID},
		Expires: exp,
	}, nil
}
