package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// Raft between controllers runs over mutual TLS 1.3 whose one identity is
// derived from the cluster key: every controller computes the same Ed25519
// key pair from it and accepts a peer only if it presents a certificate
// for that public key. So raft traffic is encrypted, and nobody without
// the cluster key can join the set, feed entries or read the log, with no
// certificates to manage.

// raftIdentity returns the TLS certificate and public key derived from
// the cluster key.
func raftIdentity(clusterKey []byte) (tls.Certificate, ed25519.PublicKey, error) {
	m := hmac.New(sha256.New, clusterKey)
	m.Write([]byte("gsched raft tls identity v1"))
	priv := ed25519.NewKeyFromSeed(m.Sum(nil))
	pub := priv.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gsched-controller"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("raft identity: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, pub, nil
}

// errRaftPeer is a raft peer without the cluster's identity.
var errRaftPeer = errors.New("raft peer does not hold the cluster key")

// raftTLSConfig accepts exactly the peers that present the derived key.
func raftTLSConfig(clusterKey []byte) (*tls.Config, error) {
	cert, pub, err := raftIdentity(clusterKey)
	if err != nil {
		return nil, err
	}
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errRaftPeer
		}
		c, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return errRaftPeer
		}
		k, ok := c.PublicKey.(ed25519.PublicKey)
		if !ok || !bytes.Equal(k, pub) {
			return errRaftPeer
		}
		return nil
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		ClientAuth:   tls.RequireAnyClientCert,
		// The chain is checked by VerifyPeerCertificate (the one key),
		// not against CAs and host names.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: verify,
	}, nil
}

// tlsStream is a raft.StreamLayer over mutual TLS.
type tlsStream struct {
	net.Listener
	advertise net.Addr
	conf      *tls.Config
}

var _ raft.StreamLayer = (*tlsStream)(nil)

func newTLSStream(bind, advertise string, clusterKey []byte) (*tlsStream, error) {
	conf, err := raftTLSConfig(clusterKey)
	if err != nil {
		return nil, err
	}
	adv, err := net.ResolveTCPAddr("tcp", advertise)
	if err != nil {
		return nil, fmt.Errorf("raft address %s: %w", advertise, err)
	}
	l, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("raft listen %s: %w", bind, err)
	}
	return &tlsStream{Listener: tls.NewListener(l, conf), advertise: adv, conf: conf}, nil
}

// Addr is the address the other controllers know this one by.
func (s *tlsStream) Addr() net.Addr { return s.advertise }

// Dial connects to a peer and completes the handshake (so a wrong peer
// fails here, not on first use).
func (s *tlsStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	c, err := tls.DialWithDialer(d, "tcp", string(addr), s.conf)
	if err != nil {
		return nil, err
	}
	return c, nil
}
