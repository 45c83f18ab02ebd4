// Package capture defines what every packet source gives the engine: frames
// in batches, with their capture time, plus the source's drop statistics.
// The backends live in sub-packages: pcapfile (capture files), afpacket
// (Linux TPACKET_V3 rings with fanout), libpcap (cgo), and afxdp.
//
// # Ownership
//
// A batch's frames alias the source's buffers (an mmap'd ring, a file
// buffer) and stay valid only until the next ReadBatch or Close on the same
// source. A source is read by one goroutine.
//
// # The one mistake
//
// Drop counters are cumulative since the source opened: consumers take
// differences (the pcap handler does).
package capture

import (
	"context"
	"errors"
)

// ErrNotSupported wraps the reason a backend cannot run here (kernel,
// privileges, build without cgo); the "auto" fallback chain reads it.
var ErrNotSupported = errors.New("not supported")

// Frame is one captured frame.
type Frame struct {
	Data    []byte // captured bytes, valid until the next ReadBatch
	TS      int64  // capture time, Unix nanoseconds
	WireLen int    // length on the wire
}

// Stats are a source's cumulative counters.
type Stats struct {
	Packets uint64 // frames delivered
	Drops   uint64 // frames the kernel dropped (ring or socket buffer full)
	IfDrops uint64 // frames the interface/driver dropped, when known
}

// Source delivers frames of one link type.
type Source interface {
	// ReadBatch fills frames[:n] and returns n > 0, or waits until frames
	// arrive, the timeout of the source passes (n == 0, nil error: a
	// heartbeat), or ctx is done (ctx.Err()).
	ReadBatch(ctx context.Context, frames []Frame) (n int, err error)
	// LinkType is the pcap LINKTYPE_ of the frames.
	LinkType() uint32
	// Stats returns the cumulative counters.
	Stats() (Stats, error)
	// Close releases the source; a blocked ReadBatch returns.
	Close() error
}
