package policy

import "errors"

// Errors the policy manager returns; the REST layer maps them to status
// codes (404, 409, 422, 400).
var (
	ErrNotFound   = errors.New("not found")
	ErrExists     = errors.New("already exists")
	ErrNoTapMatch = errors.New("no tap match found for specified 'input.tap_selector' tags")
	ErrInvalid    = errors.New("invalid configuration")
)
