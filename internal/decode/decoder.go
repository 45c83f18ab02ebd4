package decode

import "errors"

// Errors returned by [Decoder.Decode]. A packet for which Decode returns an
// error may still have some fields filled in (for example L3 and the
// addresses when the transport header is cut short).
var (
	ErrUnsupportedLink = errors.New("unsupported link type")
	ErrTruncated       = errors.New("truncated packet")
	ErrMalformed       = errors.New("malformed packet")
)

// Config configures a [Decoder].
type Config struct {
	// Hosts decides packet direction; empty means every packet is DirUnknown.
	Hosts HostSpec
	// MaxFragDatagrams bounds the IP datagrams under reassembly at once
	// (default 1024). When full, the oldest is evicted and counted.
	MaxFragDatagrams int
	// FragTimeoutNanos drops incomplete datagrams older than this in event
	// time (default 30 s).
	FragTimeoutNanos int64
}

// Stats counts what the decoder saw and dropped. All fields only grow.
type Stats struct {
	Packets       uint64 // frames given to Decode
	Unsupported   uint64 // unknown link or network protocol (not an error for L3)
	Truncated     uint64 // frames cut short inside a header
	Malformed     uint64 // impossible header values
	Fragments     uint64 // IP fragments seen
	Reassembled   uint64 // datagrams completed from fragments
	FragEvicted   uint64 // incomplete datagrams evicted for room
	FragTimedOut  uint64 // incomplete datagrams dropped after the timeout
	FragDiscarded uint64 // fragments refused (overlap, too large, bad offset)
}
