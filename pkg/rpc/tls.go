package rpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
)

// TLSFiles names a daemon's TLS identity and the authority it trusts
// (PEM files); it converts from config.TLSConfig.
type TLSFiles struct {
	Cert, Key, CA string
	// ServerName is the name a client checks in the server's certificate
	// ("": the host of the address dialled).
	ServerName string
}

// loadCA reads the certificate pool in file.
func loadCA(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tls.ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls.ca: no PEM certificate in %s", file)
	}
	return pool, nil
}

func loadPair(f TLSFiles) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return c, fmt.Errorf("tls.cert/tls.key: %w", err)
	}
	return c, nil
}

// ServerTLS is the TLS configuration of a listener serving with f's
// certificate. With requireClient every client must present a certificate
// that chains to f.CA (mutual TLS, the node daemons' listener); otherwise a
// client certificate is checked only when one is given (remote users, who
// authenticate with tokens).
func ServerTLS(f TLSFiles, requireClient bool) (*tls.Config, error) {
	if f.Cert == "" || f.CA == "" {
		return nil, errors.New("tls: a server needs tls.cert, tls.key and tls.ca")
	}
	pair, err := loadPair(f)
	if err != nil {
		return nil, err
	}
	pool, err := loadCA(f.CA)
	if err != nil {
		return nil, err
	}
	mode := tls.VerifyClientCertIfGiven
	if requireClient {
		mode = tls.RequireAndVerifyClientCert
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   mode,
	}, nil
}

// ClientTLS is the TLS configuration of a client that checks the server's
// certificate against f.CA and, when f.Cert is set, presents its own.
func ClientTLS(f TLSFiles) (*tls.Config, error) {
	if f.CA == "" {
		return nil, errors.New("tls: a client needs tls.ca to check the controller's certificate")
	}
	pool, err := loadCA(f.CA)
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, ServerName: f.ServerName}
	if f.Cert != "" {
		pair, err := loadPair(f)
		if err != nil {
			return nil, err
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}

// WithTLS makes c talk TLS with conf (before its first call) and returns c.
func (c *Client) WithTLS(conf *tls.Config) *Client {
	if tr, ok := c.hc.Transport.(*http.Transport); ok {
		tr.TLSClientConfig = conf
		c.base = "https://" + c.target
	}
	return c
}

type certNamesKey struct{}

type relayedKey struct{}

// HeaderRelayedCert carries, on a request an HA follower relays to the
// leader, the names of the certificate the original client presented
// (comma-separated). The leader believes it only from a peer controller.
const HeaderRelayedCert = "X-Gsched-Relayed-Cert"

// CertNames returns the names (subject common name, then DNS names) of
// the verified client certificate the request came with; ok is false when
// the request came without one.
func CertNames(ctx context.Context) (names []string, ok bool) {
	names, ok = ctx.Value(certNamesKey{}).([]string)
	return names, ok
}

// RelayedCertNames returns the HeaderRelayedCert names of a request that
// came with a verified client certificate (ok false: no such header).
func RelayedCertNames(ctx context.Context) (names []string, ok bool) {
	names, ok = ctx.Value(relayedKey{}).([]string)
	return names, ok
}

// PeerCertNames returns the names of the verified client certificate of
// a TLS connection (nil without one).
func PeerCertNames(st *tls.ConnectionState) []string {
	if st == nil || len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return nil
	}
	leaf := st.VerifiedChains[0][0]
	names := []string{}
	if leaf.Subject.CommonName != "" {
		names = append(names, leaf.Subject.CommonName)
	}
	for _, n := range leaf.DNSNames {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// withCertNames records the verified client certificate's names, and the
// names a relaying controller says its client presented.
func withCertNames(ctx context.Context, r *http.Request) context.Context {
	names := PeerCertNames(r.TLS)
	if names == nil {
		return ctx
	}
	ctx = context.WithValue(ctx, certNamesKey{}, names)
	if v := r.Header.Get(HeaderRelayedCert); v != "" {
		ctx = context.WithValue(ctx, relayedKey{}, strings.Split(v, ","))
	}
	return ctx
}
