package ebpfcap

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pktvisor-go/pktvisor/bpf"
)

// Defaults applied to zero fields of a [Config].
const (
	// DefaultSnaplen is how many bytes of each frame are copied: the
	// most the program can ([bpf.PassthruMaxSnaplen]).
	DefaultSnaplen = bpf.PassthruMaxSnaplen
	// DefaultTimeout is how long ReadBatch waits before returning an empty
	// batch (a heartbeat).
	DefaultTimeout = 100 * time.Millisecond
	// DefaultRingSize is the size of the ring buffer shared by all CPUs
	// and both directions.
	DefaultRingSize = bpf.PassthruRingSize
)

// ErrInvalidConfig is wrapped by errors about a [Config] that cannot work.
var ErrInvalidConfig = errors.New("invalid ebpf capture config")

// Mode selects the hook of the ingress program.
type Mode int

// Ingress modes. Egress always uses TCX.
const (
	// ModeAuto tries XDP in the driver, then generic XDP, then TCX
	// ingress; [Source.Fallbacks] says why the others lost (for example
	// another XDP program on the interface: XDP takes one program per
	// interface, TCX any number).
	ModeAuto Mode = iota
	// ModeNative attaches XDP in the driver (XDP_FLAGS_DRV_MODE) or fails.
	ModeNative
	// ModeGeneric attaches XDP to the generic, skb-based hook
	// (XDP_FLAGS_SKB_MODE) or fails.
	ModeGeneric
	// ModeTCX attaches the TC program to TCX ingress (Linux ≥ 6.6) or
	// fails. It sees frames after GRO, like the egress side does.
	ModeTCX
)

// String returns "auto", "native", "generic" or "tcx".
func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeNative:
		return "native"
	case ModeGeneric:
		return "generic"
	case ModeTCX:
		return "tcx"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode is the inverse of [Mode.String]; "" is [ModeAuto].
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "auto":
		return ModeAuto, nil
	case "native", "drv", "driver":
		return ModeNative, nil
	case "generic", "skb":
		return ModeGeneric, nil
	case "tcx", "tc":
		return ModeTCX, nil
	}
	return ModeAuto, fmt.Errorf("%w: mode %q: want auto, native, generic or tcx", ErrInvalidConfig, s)
}

// Config describes one pass-through capture on one interface.
type Config struct {
	// Iface is the interface name.
	Iface string
	// Snaplen is how many bytes of each frame are copied, 1 to
	// [bpf.PassthruMaxSnaplen] (default [DefaultSnaplen]); WireLen keeps
	// the frame's full length.
	Snaplen int
	// Ports, when not empty, restricts the capture to TCP and UDP frames
	// with one of these ports as source or destination (at most
	// [bpf.PassthruMaxPorts]). Other frames are counted (filtered_out)
	// and pass to the stack like all frames do.
	Ports []uint16
	// Timeout is how long ReadBatch waits for frames (default
	// [DefaultTimeout]).
	Timeout time.Duration
	// Mode is the ingress hook; the zero value is [ModeAuto].
	Mode Mode
	// RingSize is the ring buffer's size in bytes, a power of two and a
	// multiple of the page size (default [DefaultRingSize]). A record
	// takes 8 + 24 + captured bytes, rounded up to 8.
	RingSize int
}

// withDefaults fills zero fields and validates c.
func (c Config) withDefaults() (Config, error) {
	if c.Snaplen == 0 {
		c.Snaplen = DefaultSnaplen
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RingSize == 0 {
		c.RingSize = DefaultRingSize
	}
	page := os.Getpagesize()
	switch {
	case c.Iface == "":
		return c, fmt.Errorf("%w: no interface", ErrInvalidConfig)
	case c.Snaplen < 1 || c.Snaplen > bpf.PassthruMaxSnaplen:
		return c, fmt.Errorf("%w: snaplen %d: want 1..%d", ErrInvalidConfig, c.Snaplen, bpf.PassthruMaxSnaplen)
	case len(c.Ports) > bpf.PassthruMaxPorts:
		return c, fmt.Errorf("%w: %d ports: at most %d", ErrInvalidConfig, len(c.Ports), bpf.PassthruMaxPorts)
	case c.Timeout < time.Millisecond:
		return c, fmt.Errorf("%w: timeout %v: want at least 1ms", ErrInvalidConfig, c.Timeout)
	case c.Mode < ModeAuto || c.Mode > ModeTCX:
		return c, fmt.Errorf("%w: unknown mode %d", ErrInvalidConfig, int(c.Mode))
	case c.RingSize < page || c.RingSize > 1<<30 || c.RingSize&(c.RingSize-1) != 0:
		return c, fmt.Errorf("%w: ring size %d: want a power of two from %d to 1 GiB", ErrInvalidConfig, c.RingSize, page)
	}
	return c, nil
}
