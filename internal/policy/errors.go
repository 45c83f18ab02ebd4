package policy

import (
	"errors"
	"fmt"
)

// Errors the policy manager returns; the REST layer maps them to status
// codes (404, 409, 422, 400).
var (
	ErrNotFound   = errors.New("not found")
	ErrExists     = errors.New("already exists")
	ErrNoTapMatch = errors.New("no tap match found for specified 'input.tap_selector' tags")
	ErrInvalid    = errors.New("invalid configuration")
)

// Error is an error of one of the kinds above whose message is exactly
// Msg (pktvisor's messages are contracts: no prefix is added).
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

// errf returns an Error of kind with a formatted message.
func errf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
