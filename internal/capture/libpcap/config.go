package libpcap

import (
	"errors"
	"fmt"
	"time"
)

// Defaults applied by [Open] to zero fields of [Config]; they are pktvisor's
// libpcap settings.
const (
	DefaultSnaplen    = 1000                  // bytes captured per packet
	DefaultBufferSize = 16 << 20              // kernel capture buffer, bytes
	DefaultTimeout    = 10 * time.Millisecond // buffer timeout and heartbeat interval
)

// MaxSnaplen is the largest snapshot length libpcap accepts (0x40000 bytes).
const MaxSnaplen = 262144

// arenaSize is the size of the Go-owned buffer a batch is copied into. A
// batch holds at most arenaSize/Snaplen frames (4194 at the default
// snaplen), and never more than maxBatch.
const (
	arenaSize = 4 << 20
	maxBatch  = 8192
)

// maxWaitSlice bounds one poll(2) inside ReadBatch, so that a cancelled
// context is noticed within this time even with a long Timeout.
const maxWaitSlice = 100 * time.Millisecond

// Config says which interface to capture on and how. The zero value of
// every field but Iface means pktvisor's default.
type Config struct {
	// Iface is the interface name, as libpcap knows it ("eth0", "any").
	Iface string
	// Snaplen is the number of bytes captured per packet; 0 means
	// DefaultSnaplen. Longer packets are truncated; Frame.WireLen keeps
	// their length on the wire.
	Snaplen int
	// Promisc puts the interface into promiscuous mode.
	Promisc bool
	// DisableImmediate turns libpcap's immediate mode off: packets are then
	// delivered when a kernel buffer block fills or Timeout passes, which
	// costs fewer wakeups at the price of latency. pktvisor captures in
	// immediate mode, the default (false).
	DisableImmediate bool
	// BufferSize is the kernel capture buffer in bytes; 0 means
	// DefaultBufferSize.
	BufferSize int
	// Timeout is libpcap's buffer timeout and the longest a ReadBatch
	// waits before returning an empty batch (a heartbeat); 0 means
	// DefaultTimeout. It is rounded up to whole milliseconds.
	Timeout time.Duration
	// Filter is a tcpdump expression (pcap-filter(7)) compiled with
	// pcap_compile and attached in the kernel; empty captures everything.
	Filter string
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Iface == "" {
		return c, errors.New("no interface given")
	}
	switch {
	case c.Snaplen == 0:
		c.Snaplen = DefaultSnaplen
	case c.Snaplen < 0 || c.Snaplen > MaxSnaplen:
		return c, fmt.Errorf("snaplen %d outside 1..%d", c.Snaplen, MaxSnaplen)
	}
	switch {
	case c.BufferSize == 0:
		c.BufferSize = DefaultBufferSize
	case c.BufferSize < 0:
		return c, fmt.Errorf("negative buffer size %d", c.BufferSize)
	}
	switch {
	case c.Timeout == 0:
		c.Timeout = DefaultTimeout
	case c.Timeout < 0:
		return c, fmt.Errorf("negative timeout %v", c.Timeout)
	}
	c.Timeout = (c.Timeout + time.Millisecond - 1).Truncate(time.Millisecond)
	return c, nil
}

// batchLimit is the largest number of frames one batch can hold for snaplen.
func batchLimit(snaplen int) int {
	return min(arenaSize/snaplen, maxBatch)
}
