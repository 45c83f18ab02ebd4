package pcapfile

import (
	"errors"
	"fmt"
)

// Sentinel causes carried by a [FormatError]. Test for them with errors.Is.
var (
	// ErrTruncated means the input ended inside a file header, record or block.
	ErrTruncated = errors.New("truncated capture file")
	// ErrBadMagic means the first four bytes are neither a pcap nor a pcapng magic number.
	ErrBadMagic = errors.New("unknown capture file magic")
	// ErrCorrupt means a header field is impossible: a bad block length, a
	// captured length beyond the record limit or beyond the original length,
	// a block trailer that does not repeat the block length, and the like.
	ErrCorrupt = errors.New("corrupt capture file")
)

// FormatError reports bad or unreadable content at a byte offset of the file.
// Offset is the start of the file header, record or block being read; Err is
// one of [ErrTruncated], [ErrBadMagic] or [ErrCorrupt] (possibly wrapped with
// detail), or the error of the underlying reader. For a mapped file cut by
// another process (Err is [ErrShrunk]), Offset is where its data now ends.
type FormatError struct {
	Offset int64
	Err    error
}

// Error returns "at byte offset N: <cause>".
func (e *FormatError) Error() string {
	return fmt.Sprintf("at byte offset %d: %v", e.Offset, e.Err)
}

// Unwrap returns the cause, so that errors.Is(err, ErrTruncated) works.
func (e *FormatError) Unwrap() error { return e.Err }

// corruptf returns a *FormatError at off wrapping ErrCorrupt with detail.
func corruptf(off int64, format string, args ...any) *FormatError {
	return &FormatError{Offset: off, Err: fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)}
}
