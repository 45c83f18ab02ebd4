package policy

import (
	"errors"
	"fmt"

	"github.com/pktvisor-go/pktvisor/internal/input"
)

// Errors the policy manager returns; the REST layer maps them to status
// codes (404, 409, 422, 400).
var (
	ErrNotFound   = errors.New("not found")
	ErrExists     = errors.New("already exists")
	ErrNoTapMatch = errors.New("no tap match found for specified 'input.tap_selector' tags")
	ErrInvalid    = input.ErrInvalid
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

// StartError is the error of a policy that failed to start; Err is the
// reason (an input that could not open, a bad handler config).
type StartError struct {
	Policy string
	Err    error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("policy [%s] failed to start: %v", e.Policy, e.Err)
}

// Unwrap returns the reason.
func (e *StartError) Unwrap() error { return e.Err }
