//go:build linux

package afpacket

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults applied by [Open] to zero fields of a [Config].
const (
	// DefaultBlockSize is the size of one ring block, 1 MiB.
	DefaultBlockSize = 1 << 20
	// DefaultNumBlocks makes a 32 MiB ring with [DefaultBlockSize]
	// (pktvisor's C++ af_packet input used 64 blocks of 4 MiB, 256 MiB, per
	// socket). At low rates the kernel hands blocks over after
	// [DefaultBlockTimeout] with few frames in them, so the number of
	// blocks, not their size, bounds how long the reader may stall before
	// frames drop: 32 blocks give 320 ms at any rate, 8 blocks of 4 MiB
	// only 80 ms.
	DefaultNumBlocks = 32
	// DefaultFrameSize is tp_frame_size.
	DefaultFrameSize = 2048
	// DefaultSnaplen keeps whole frames of any usual MTU.
	DefaultSnaplen = 65535
	// DefaultBlockTimeout is tp_retire_blk_tov: how long the kernel keeps a
	// partly filled block before handing it over.
	DefaultBlockTimeout = 10 * time.Millisecond
	// DefaultTimeout is how long ReadBatch waits before returning an empty
	// batch (a heartbeat).
	DefaultTimeout = 100 * time.Millisecond
)

const (
	// maxSnaplen is libpcap's MAXIMUM_SNAPLEN.
	maxSnaplen = 262144
	// maxFilterLen is BPF_MAXINSNS from <linux/bpf_common.h>.
	maxFilterLen = 4096
	// tpacket3HdrLen is TPACKET3_HDRLEN: TPACKET_ALIGN(sizeof(struct
	// tpacket3_hdr)) + sizeof(struct sockaddr_ll), the smallest frame size.
	tpacket3HdrLen = 48 + 20
	// maxRingSize bounds BlockSize*NumBlocks (the kernel computes ring
	// sizes in unsigned int).
	maxRingSize = 1 << 31
)

// ErrInvalidConfig is wrapped by errors about a [Config] that cannot work.
var ErrInvalidConfig = errors.New("invalid af_packet config")

// FanoutMode selects how the kernel spreads frames over the sockets of a
// fanout group (PACKET_FANOUT_* in <linux/if_packet.h>).
type FanoutMode int

// Fanout modes.
const (
	// FanoutHash keeps each flow on one socket (PACKET_FANOUT_HASH, with
	// PACKET_FANOUT_FLAG_DEFRAG so fragments of a datagram stay together;
	// the kernel then delivers reassembled datagrams).
	FanoutHash FanoutMode = iota
	// FanoutLB deals frames round robin (PACKET_FANOUT_LB).
	FanoutLB
	// FanoutCPU picks the socket by the CPU that received the frame
	// (PACKET_FANOUT_CPU).
	FanoutCPU
	// FanoutQM picks the socket by the frame's receive queue
	// (PACKET_FANOUT_QM, Linux ≥ 3.14).
	FanoutQM
)

// String returns the mode's name as [ParseFanoutMode] accepts it.
func (m FanoutMode) String() string {
	switch m {
	case FanoutHash:
		return "hash"
	case FanoutLB:
		return "lb"
	case FanoutCPU:
		return "cpu"
	case FanoutQM:
		return "qm"
	}
	return fmt.Sprintf("FanoutMode(%d)", int(m))
}

// ParseFanoutMode parses "hash", "lb", "cpu" or "qm".
func ParseFanoutMode(s string) (FanoutMode, error) {
	for m := FanoutHash; m <= FanoutQM; m++ {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown fanout mode %q (want hash, lb, cpu or qm)", ErrInvalidConfig, s)
}

// kernel returns the PACKET_FANOUT type and flags for m.
func (m FanoutMode) kernel() (typ, flags uint32, err error) {
	switch m {
	case FanoutHash:
		return unix.PACKET_FANOUT_HASH, unix.PACKET_FANOUT_FLAG_DEFRAG, nil
	case FanoutLB:
		return unix.PACKET_FANOUT_LB, 0, nil
	case FanoutCPU:
		return unix.PACKET_FANOUT_CPU, 0, nil
	case FanoutQM:
		return unix.PACKET_FANOUT_QM, 0, nil
	}
	return 0, 0, fmt.Errorf("%w: unknown fanout mode %d", ErrInvalidConfig, int(m))
}

// Fanout puts sockets into one PACKET_FANOUT group. Groups are per network
// namespace; every member must use the same Mode.
type Fanout struct {
	// Group is the fanout group id. Zero asks the kernel for an unused id
	// (PACKET_FANOUT_FLAG_UNIQUEID, Linux ≥ 4.4; the kernel may choose 0);
	// [Source.FanoutGroup] tells which one it chose. Group 0 itself cannot
	// be asked for.
	Group uint16
	// Mode selects how frames are spread.
	Mode FanoutMode
	// Workers is the number of sockets [OpenGroup] opens when its n is 0.
	Workers int
}

// Config describes one AF_PACKET capture socket. Zero fields take the
// Default* values.
type Config struct {
	// Iface is the interface name (see the netif package to resolve
	// pktvisor's "auto" or an address).
	Iface string
	// BlockSize is the size of one ring block in bytes, a multiple of the
	// page size; a power of two wastes no kernel memory. A frame larger
	// than a block is truncated.
	BlockSize int
	// NumBlocks is the number of ring blocks. The ring takes
	// BlockSize*NumBlocks bytes of unswappable kernel memory per socket.
	NumBlocks int
	// FrameSize is tp_frame_size, a multiple of 16 of at least 68 that
	// divides BlockSize. TPACKET_V3 packs frames of any size into blocks,
	// so it only sizes the ring request; it does not limit frames.
	FrameSize int
	// Snaplen is the most bytes kept of each frame, at most 262144 (the
	// filter's return value can keep fewer). Without a Filter the kernel
	// copies only Snaplen bytes; with one, the filter's return value
	// decides and Data is cut to Snaplen.
	Snaplen int
	// BlockTimeout is tp_retire_blk_tov, rounded down to milliseconds: the
	// kernel hands a partly filled block over after this long. It bounds
	// the capture latency at low rates.
	BlockTimeout time.Duration
	// Timeout is how long ReadBatch waits for a block before it returns an
	// empty batch (a heartbeat), rounded down to milliseconds.
	Timeout time.Duration
	// Fanout, when set, joins the socket to a fanout group.
	Fanout *Fanout
	// Filter is a classic BPF program attached with SO_ATTACH_FILTER; it
	// returns the number of bytes to keep, 0 to drop. The caller compiles
	// it (tcpdump -dd, the bpfc package, or by hand). Empty keeps every
	// frame.
	Filter []unix.SockFilter
	// Promisc puts the interface in promiscuous mode while the socket is
	// open (PACKET_MR_PROMISC membership, dropped by the kernel on close).
	Promisc bool
}

// withDefaults returns c with defaults filled in, or an error wrapping
// [ErrInvalidConfig].
func (c Config) withDefaults() (Config, error) {
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.NumBlocks == 0 {
		c.NumBlocks = DefaultNumBlocks
	}
	if c.FrameSize == 0 {
		c.FrameSize = DefaultFrameSize
	}
	if c.Snaplen == 0 {
		c.Snaplen = DefaultSnaplen
	}
	if c.BlockTimeout == 0 {
		c.BlockTimeout = DefaultBlockTimeout
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if err := c.validate(os.Getpagesize()); err != nil {
		return c, err
	}
	return c, nil
}

func (c Config) validate(pageSize int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case c.Iface == "":
		return bad("no interface")
	case c.BlockSize <= 0 || c.BlockSize%pageSize != 0:
		return bad("block size %d is not a positive multiple of the page size %d", c.BlockSize, pageSize)
	case c.NumBlocks <= 0:
		return bad("block count %d is not positive", c.NumBlocks)
	case int64(c.BlockSize)*int64(c.NumBlocks) > maxRingSize:
		return bad("ring of %d blocks of %d bytes exceeds %d bytes", c.NumBlocks, c.BlockSize, maxRingSize)
	case c.FrameSize < tpacket3HdrLen || c.FrameSize%unix.TPACKET_ALIGNMENT != 0:
		return bad("frame size %d is not a multiple of %d of at least %d", c.FrameSize, unix.TPACKET_ALIGNMENT, tpacket3HdrLen)
	case c.FrameSize > c.BlockSize || c.BlockSize%c.FrameSize != 0:
		return bad("frame size %d does not divide block size %d", c.FrameSize, c.BlockSize)
	case c.Snaplen < 0 || c.Snaplen > maxSnaplen:
		return bad("snaplen %d outside 1..%d", c.Snaplen, maxSnaplen)
	case c.BlockTimeout < time.Millisecond || c.BlockTimeout > time.Minute:
		return bad("block timeout %v outside 1ms..1m", c.BlockTimeout)
	case c.Timeout < time.Millisecond || c.Timeout > time.Hour:
		return bad("timeout %v outside 1ms..1h", c.Timeout)
	case len(c.Filter) > maxFilterLen:
		return bad("filter of %d instructions exceeds %d", len(c.Filter), maxFilterLen)
	}
	if c.Fanout != nil {
		if _, _, err := c.Fanout.Mode.kernel(); err != nil {
			return err
		}
		if c.Fanout.Workers < 0 {
			return bad("fanout workers %d is negative", c.Fanout.Workers)
		}
	}
	return nil
}
