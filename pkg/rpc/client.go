package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
)

// RequestSigner signs requests and checks the answers' signatures: the
// cluster key's *auth.Signer (node daemons) or a user's *auth.TokenSigner.
type RequestSigner interface {
	Sign(method, path string, body []byte) (map[string]string, error)
	VerifyResponse(path string, reqHeaders map[string]string, body []byte, sig string) error
}

var (
	_ RequestSigner = (*auth.Signer)(nil)
	_ RequestSigner = (*auth.TokenSigner)(nil)
)

// Client calls one daemon.
type Client struct {
	hc     *http.Client
	base   string
	target string
	signer RequestSigner
	node   string
}

// MaxAnswerBytes bounds an answer a client reads (a listing of about
// 350,000 jobs).
const MaxAnswerBytes = 256 << 20

// maxAnswer is MaxAnswerBytes, lowered by tests.
var maxAnswer = MaxAnswerBytes

// Dial returns a client for the controller's Unix socket. Nothing is sent
// until the first Call.
func Dial(socketPath string) *Client {
	return DialWith(socketPath, func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socketPath)
	})
}

// DialWith is Dial with the caller's own way of connecting to the
// controller's socket (a test connecting as another user, say); target
// names the socket in errors.
func DialWith(target string, dial func(ctx context.Context) (net.Conn, error)) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx)
		},
		MaxIdleConns:    4,
		IdleConnTimeout: 30 * time.Second,
	}
	return &Client{hc: &http.Client{Transport: tr}, base: "http://gsched", target: target}
}

// DialSigned returns a client for a daemon's TCP address that signs every
// request with the cluster key. node names the caller (informational).
func DialSigned(addr string, key []byte, node string) *Client {
	c := dialTCP(addr, auth.NewSigner(key))
	c.node = node
	return c
}

// DialToken returns a client for the controller's user TCP address that
// signs every request with a user token (see auth.TokenSigner).
func DialToken(addr string, t *auth.TokenSigner) *Client { return dialTCP(addr, t) }

func dialTCP(addr string, s RequestSigner) *Client {
	tr := &http.Transport{
		DialContext:     (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:    4,
		IdleConnTimeout: 90 * time.Second,
	}
	return &Client{hc: &http.Client{Transport: tr}, base: "http://" + addr, target: addr, signer: s}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Call posts req to path and decodes the answer into resp (which may be
// nil). Daemon errors come back as *api.RemoteError; a daemon that cannot
// be reached gives an error wrapping api.ErrUnavailable.
func (c *Client) Call(ctx context.Context, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	var signed map[string]string
	if c.signer != nil {
		h, err := c.signer.Sign(http.MethodPost, path, body)
		if err != nil {
			return err
		}
		signed = h
		for k, v := range h {
			hr.Header.Set(k, v)
		}
		if c.node != "" {
			hr.Header.Set(auth.HeaderNode, c.node)
		}
	}
	r, err := c.hc.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: cannot reach %s: %w", api.ErrUnavailable, c.target, err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(io.LimitReader(r.Body, int64(maxAnswer)+1))
	if err != nil {
		return fmt.Errorf("%w: read answer from %s: %v", api.ErrUnavailable, c.target, err)
	}
	if len(data) > maxAnswer {
		return fmt.Errorf("%w: the answer from %s is larger than %d bytes: ask for less (a user, states, partitions or job IDs)",
			api.ErrInvalid, c.target, maxAnswer)
	}
	if r.StatusCode != http.StatusOK {
		var eb errorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			e := eb.Error
			return &e
		}
		msg := fmt.Sprintf("%s answered HTTP %d", c.target, r.StatusCode)
		if line, _, _ := strings.Cut(string(data), "\n"); line != "" && len(line) < 200 && utf8.ValidString(line) {
			msg += ": " + line // e.g. Go's "Client sent an HTTP request to an HTTPS server."
		}
		return &api.RemoteError{Code: api.CodeInternal, Message: msg}
	}
	if signed != nil {
		if err := c.signer.VerifyResponse(path, signed, data, r.Header.Get(auth.HeaderRespSig)); err != nil {
			return fmt.Errorf("%s: %w", c.target, err)
		}
	}
	if resp == nil {
		return nil
	}
	if raw, ok := resp.(*Raw); ok {
		if ct := r.Header.Get("Content-Type"); ct != rawContentType {
			return fmt.Errorf("decode answer from %s: %s, not text", c.target, ct)
		}
		*raw = data
		return nil
	}
	// Answers are decoded with goccy/go-json (answerjson.go); requests,
	// which the server decodes strictly, stay with encoding/json.
	if err := decodeAnswer(data, resp); err != nil {
		return fmt.Errorf("decode answer from %s: %w", c.target, err)
	}
	if ck, ok := resp.(answerChecker); ok {
		if err := ck.CheckAnswer(); err != nil {
			return fmt.Errorf("answer from %s: %w", c.target, err)
		}
	}
	return nil
}

// answerChecker is an answer type that checks itself once decoded, for
// what JSON cannot say (api.JobList: every job has a spec).
type answerChecker interface{ CheckAnswer() error }
