package api

import (
	"errors"
	"fmt"
)

// Sentinel errors. Handlers wrap them with context (fmt.Errorf("...: %w"));
// the transport maps them to error codes and back, so a client can match
// them with errors.Is on the other side.
var (
	ErrInvalid         = errors.New("invalid request")
	ErrNotFound        = errors.New("not found")
	ErrPermission      = errors.New("permission denied")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrTooLarge        = errors.New("request too large")
	ErrUnavailable     = errors.New("service unavailable")
	ErrConflict        = errors.New("conflict")
	ErrInternal        = errors.New("internal error")
	// ErrNoLeader: the request reached a controller of an HA set while
	// no leader was elected (or it died); nothing was applied, so the
	// caller may retry it, here or at another controller.
	ErrNoLeader = fmt.Errorf("%w: no controller is the leader just now", ErrUnavailable)
)

// Error codes on the wire.
const (
	CodeInvalid         = "invalid"
	CodeNotFound        = "not_found"
	CodePermission      = "permission_denied"
	CodeUnauthenticated = "unauthenticated"
	CodeTooLarge        = "too_large"
	CodeUnavailable     = "unavailable"
	CodeNoLeader        = "no_leader"
	CodeConflict        = "conflict"
	CodeInternal        = "internal"
)

var codeErrs = []struct {
	code string
	err  error
}{
	{CodeInvalid, ErrInvalid},
	{CodeNotFound, ErrNotFound},
	{CodePermission, ErrPermission},
	{CodeUnauthenticated, ErrUnauthenticated},
	{CodeTooLarge, ErrTooLarge},
	{CodeNoLeader, ErrNoLeader},
	{CodeUnavailable, ErrUnavailable},
	{CodeConflict, ErrConflict},
	{CodeInternal, ErrInternal},
}

// CodeOf returns the wire code of err (CodeInternal when none matches).
func CodeOf(err error) string {
	for _, ce := range codeErrs {
		if errors.Is(err, ce.err) {
			return ce.code
		}
	}
	return CodeInternal
}

// ErrOfCode returns the sentinel error of a wire code.
func ErrOfCode(code string) error {
	for _, ce := range codeErrs {
		if ce.code == code {
			return ce.err
		}
	}
	return ErrInternal
}

// RemoteError is an error returned by a daemon: its code and message.
type RemoteError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *RemoteError) Error() string {
	if e.Message == "" {
		return e.Code // a daemon said no more; the code is better than nothing
	}
	return e.Message
}

// Unwrap lets errors.Is match the sentinel of the code.
func (e *RemoteError) Unwrap() error { return ErrOfCode(e.Code) }
