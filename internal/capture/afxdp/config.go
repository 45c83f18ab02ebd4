package afxdp

import (
	"errors"
	"fmt"
	"time"
)

// Defaults applied to zero fields of a [Config].
const (
	// DefaultFrames is the number of UMEM frames of a socket; the fill and
	// RX rings have as many entries.
	DefaultFrames = 4096
	// DefaultFrameSize is the size of one UMEM frame. The kernel puts
	// XDP_PACKET_HEADROOM (256) bytes before the data, so frames up to
	// 1792 bytes fit; larger ones are dropped (rx_dropped).
	DefaultFrameSize = 2048
	// DefaultTimeout is how long ReadBatch waits before returning an empty
	// batch (a heartbeat).
	DefaultTimeout = 100 * time.Millisecond
)

// xdpPacketHeadroom is XDP_PACKET_HEADROOM from <linux/bpf.h>.
const xdpPacketHeadroom = 256

// ErrInvalidConfig is wrapped by errors about a [Config] that cannot work.
var ErrInvalidConfig = errors.New("invalid af_xdp config")

// Config describes one AF_XDP socket.
type Config struct {
	// Iface is the interface name.
	Iface string
	// Queue is the receive queue the socket binds to.
	Queue int
	// Frames is the number of UMEM frames, a power of two (default
	// [DefaultFrames]). Memory: Frames*FrameSize bytes per socket.
	Frames int
	// FrameSize is 2048 or 4096 (default [DefaultFrameSize]).
	FrameSize int
	// Timeout is how long ReadBatch waits for frames (default
	// [DefaultTimeout]).
	Timeout time.Duration
	// ForceCopy skips the zero-copy attempt and binds in copy mode.
	ForceCopy bool
	// Program is how [OpenAll] loads and attaches the XDP program.
	Program ProgramOptions
}

// withDefaults fills zero fields and validates c.
func (c Config) withDefaults() (Config, error) {
	if c.Frames == 0 {
		c.Frames = DefaultFrames
	}
	if c.FrameSize == 0 {
		c.FrameSize = DefaultFrameSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.Iface == "":
		return c, fmt.Errorf("%w: no interface", ErrInvalidConfig)
	case c.Queue < 0:
		return c, fmt.Errorf("%w: queue %d", ErrInvalidConfig, c.Queue)
	case c.Frames < 64 || c.Frames > 1<<20 || c.Frames&(c.Frames-1) != 0:
		return c, fmt.Errorf("%w: frames %d: want a power of two in 64..1048576", ErrInvalidConfig, c.Frames)
	case c.FrameSize != 2048 && c.FrameSize != 4096:
		return c, fmt.Errorf("%w: frame size %d: want 2048 or 4096", ErrInvalidConfig, c.FrameSize)
	case c.Timeout < time.Millisecond:
		return c, fmt.Errorf("%w: timeout %v: want at least 1ms", ErrInvalidConfig, c.Timeout)
	}
	return c, nil
}
