package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrNoTapMatch is wrapped by the error [Selector.Select] returns when no
// tap matches; the REST layer answers it with 422.
var ErrNoTapMatch = errors.New("no tap match found for specified 'input.tap_selector' tags")

// Error is the error type of every function in this package. Error() is
// pktvisor's message verbatim where pktvisor has one, or our own message
// starting with "line N:" otherwise.
type Error struct {
	Line   int    // 1-based line of the offending YAML node; 0 if unknown
	Column int    // 1-based column; 0 if unknown
	Msg    string // the complete message
	Err    error  // an optional sentinel such as [ErrNoTapMatch]
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel, if any.
func (e *Error) Unwrap() error { return e.Err }

// pkErr returns pktvisor's verbatim message located at n.
func pkErr(n *yaml.Node, msg string) *Error {
	e := &Error{Msg: msg}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// pkErrf is pkErr with formatting.
func pkErrf(n *yaml.Node, format string, args ...any) *Error {
	return pkErr(n, fmt.Sprintf(format, args...))
}

// lineErrf returns one of our own messages, prefixed with the line of n.
func lineErrf(n *yaml.Node, format string, args ...any) *Error {
	e := pkErrf(n, format, args...)
	if e.Line > 0 {
		e.Msg = "line " + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e
}

// wrapMsg prefixes err's message with prefix and keeps its location; it is
// used for pktvisor's nested messages such as "invalid input config: ...".
func wrapMsg(prefix string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Line: e.Line, Column: e.Column, Msg: prefix + e.Msg, Err: e.Err}
	}
	return &Error{Msg: prefix + err.Error()}
}

// yamlErr converts a yaml.v3 syntax error, keeping its text and lifting the
// line number out of it ("yaml: line 3: ...").
func yamlErr(err error) *Error {
	e := &Error{Msg: err.Error()}
	if _, rest, ok := strings.Cut(e.Msg, "line "); ok {
		end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if end < 0 {
			end = len(rest)
		}
		if n, err := strconv.Atoi(rest[:end]); err == nil {
			e.Line = n
		}
	}
	return e
}
