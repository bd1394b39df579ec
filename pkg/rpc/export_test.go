package rpc

import "net/http"

// WrapTransport lets tests observe the HTTP requests a Client sends.
func WrapTransport(c *Client, wrap func(http.RoundTripper) http.RoundTripper) {
	c.hc.Transport = wrap(c.hc.Transport)
}

// SetMaxAnswer lowers the answer size limit for a test.
func SetMaxAnswer(t interface{ Cleanup(func()) }, n int) {
	old := maxAnswer
	maxAnswer = n
	t.Cleanup(func() { maxAnswer = old })
}
