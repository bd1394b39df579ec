package rpc

import "net/http"

// WrapTransport lets tests observe the HTTP requests a Client sends.
func WrapTransport(c *Client, wrap func(http.RoundTripper) http.RoundTripper) {
	c.hc.Transport = wrap(c.hc.Transport)
}
