package rpc_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/rpc"
	"github.com/gsched/gsched/pkg/rpc/rpctest"
)

const pathCertNames = "/v1/test/certnames"

type certNamesResp struct {
	Names []string `json:"names"`
	Had   bool     `json:"had"`
}

// startTLS runs a signed server behind TLS with the server's certificate
// from ca; requireClient as rpc.ServerTLS.
func startTLS(t *testing.T, ca *rpctest.CA, requireClient bool) (string, *atomic.Int64) {
	t.Helper()
	cert, key := ca.Issue(t, "ctld")
	conf, err := rpc.ServerTLS(rpc.TLSFiles{Cert: cert, Key: key, CA: ca.File}, requireClient)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	calls := &atomic.Int64{}
	s := rpc.NewSignedServer(auth.NewVerifier(clusterKey, time.Minute), zap.NewNop())
	rpc.Handle(s, pathCertNames, func(ctx context.Context, _ *struct{}) (any, error) {
		calls.Add(1)
		names, ok := rpc.CertNames(ctx)
		return certNamesResp{Names: names, Had: ok}, nil
	})
	serve(t, s, tls.NewListener(l, conf))
	return l.Addr().String(), calls
}

// tlsClient is a signed client with ClientTLS(f).
func tlsClient(t *testing.T, addr string, f rpc.TLSFiles) *rpc.Client {
	t.Helper()
	conf, err := rpc.ClientTLS(f)
	if err != nil {
		t.Fatal(err)
	}
	c := rpc.DialSigned(addr, clusterKey, "n1").WithTLS(conf)
	t.Cleanup(c.Close)
	return c
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := rpctest.NewCA(t, dir, "cluster")
	other := rpctest.NewCA(t, dir, "other")
	n1Cert, n1Key := ca.Issue(t, "n1")
	evilCert, evilKey := other.Issue(t, "evil")
	addr, calls := startTLS(t, ca, true)

	tests := []struct {
		name    string
		client  func() *rpc.Client
		wantErr string // "" = succeeds
	}{
		{"certificate from the cluster CA", func() *rpc.Client {
			return tlsClient(t, addr, rpc.TLSFiles{Cert: n1Cert, Key: n1Key, CA: ca.File})
		}, ""},
		{"no client certificate", func() *rpc.Client {
			return tlsClient(t, addr, rpc.TLSFiles{CA: ca.File})
		}, "certificate required"},
		// Go's client sends no certificate the server's CA list does not name...
		{"client certificate from another CA", func() *rpc.Client {
			return tlsClient(t, addr, rpc.TLSFiles{Cert: evilCert, Key: evilKey, CA: ca.File})
		}, "certificate required"},
		// ...so force it, as an attacker's client would.
		{"client certificate from another CA, forced", func() *rpc.Client {
			return forcedCertClient(t, addr, ca.File, evilCert, evilKey)
		}, "unknown certificate authority"},
		{"client does not trust the server", func() *rpc.Client {
			return tlsClient(t, addr, rpc.TLSFiles{Cert: n1Cert, Key: n1Key, CA: other.File})
		}, "certificate signed by unknown authority"},
		{"server certificate for another name", func() *rpc.Client {
			return tlsClient(t, addr, rpc.TLSFiles{Cert: n1Cert, Key: n1Key, CA: ca.File, ServerName: "elsewhere"})
		}, "not elsewhere"},
		{"plain HTTP to a TLS listener", func() *rpc.Client {
			c := rpc.DialSigned(addr, clusterKey, "n1")
			t.Cleanup(c.Close)
			return c
		}, "HTTP request to an HTTPS server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := calls.Load()
			var resp certNamesResp
			err := tc.client().Call(context.Background(), pathCertNames, struct{}{}, &resp)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("call: %v", err)
				}
				if !resp.Had || len(resp.Names) == 0 || resp.Names[0] != "n1" {
					t.Fatalf("handler saw certificate names %v (had %v), want n1 first", resp.Names, resp.Had)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if calls.Load() != before {
				t.Fatal("the handler ran for a refused connection")
			}
		})
	}
}

// The users' listener takes clients without a certificate (they
// authenticate with tokens) but still checks one that is given.
func TestServerTLSClientCertificateOptional(t *testing.T) {
	dir := t.TempDir()
	ca := rpctest.NewCA(t, dir, "cluster")
	other := rpctest.NewCA(t, dir, "other")
	addr, _ := startTLS(t, ca, false)

	var resp certNamesResp
	if err := tlsClient(t, addr, rpc.TLSFiles{CA: ca.File}).Call(context.Background(), pathCertNames, struct{}{}, &resp); err != nil {
		t.Fatalf("call without a client certificate: %v", err)
	}
	if resp.Had {
		t.Fatalf("handler saw certificate names %v without a client certificate", resp.Names)
	}
	evilCert, evilKey := other.Issue(t, "evil")
	err := forcedCertClient(t, addr, ca.File, evilCert, evilKey).Call(context.Background(), pathCertNames, struct{}{}, &resp)
	if err == nil || !strings.Contains(err.Error(), "unknown certificate authority") {
		t.Fatalf("a certificate from another CA: err = %v", err)
	}
}

func TestTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	ca := rpctest.NewCA(t, dir, "cluster")
	cert, key := ca.Issue(t, "n1")
	tests := []struct {
		name   string
		server bool
		f      rpc.TLSFiles
		want   string
	}{
		{"server without a certificate", true, rpc.TLSFiles{CA: ca.File}, "needs tls.cert"},
		{"client without a CA", false, rpc.TLSFiles{Cert: cert, Key: key}, "needs tls.ca"},
		{"missing CA file", false, rpc.TLSFiles{CA: dir + "/nope.crt"}, "no such file"},
		{"CA file that is not PEM", false, rpc.TLSFiles{CA: key + "x"}, "no such file"},
		{"key that does not match", true, rpc.TLSFiles{Cert: cert, Key: ca.File, CA: ca.File}, "tls.cert/tls.key"},
		{"CA that is a key", false, rpc.TLSFiles{CA: key}, "no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.server {
				_, err = rpc.ServerTLS(tc.f, true)
			} else {
				_, err = rpc.ClientTLS(tc.f)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// forcedCertClient presents cert whatever CAs the server asks for.
func forcedCertClient(t *testing.T, addr, caFile, cert, key string) *rpc.Client {
	t.Helper()
	conf, err := rpc.ClientTLS(rpc.TLSFiles{CA: caFile})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	c := rpc.DialSigned(addr, clusterKey, "n1").WithTLS(conf)
	t.Cleanup(c.Close)
	return c
}
