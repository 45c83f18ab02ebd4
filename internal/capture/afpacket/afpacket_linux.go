//go:build linux

package afpacket

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/capture/netif"
)

var _ capture.Source = (*Source)(nil)

// Source is one AF_PACKET socket with a TPACKET_V3 receive ring. One
// goroutine reads it with [Source.ReadBatch]; [Source.Stats] and
// [Source.Close] may be called from any goroutine.
type Source struct {
	iface     string
	ifindex   int
	linkType  uint32
	loopback  bool          // drop the OUTGOING copy of each frame
	netDown   atomic.Uint64 // times the interface went down while open
	snaplen   int
	timeoutMs int
	blockSize int
	numBlocks int
	filter    []unix.SockFilter
	group     uint16 // fanout group id, when inGroup
	inGroup   bool

	fd   int    // packet socket
	efd  int    // eventfd that wakes a blocked poll on Close
	ring []byte // the mmap'd ring, numBlocks*blockSize bytes
	nl   *netlink.Handle

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// readMu is held by ReadBatch and by Close while it tears the ring
	// down; the fields below it belong to the reader.
	readMu    sync.Mutex
	cur       int    // block the reader is at
	blk       []byte // ring[cur*blockSize:][:blockSize] while holding
	holding   bool   // block cur belongs to user space
	remaining int    // frames of blk not yet returned
	off       int    // offset in blk of the next frame
	pfd       [2]unix.PollFd

	// statsMu guards the cumulative counters and the fd for getsockopt.
	statsMu     sync.Mutex
	torn        bool // fd closed; counters are final
	packets     uint64
	drops       uint64
	freezes     uint64
	ifDrops     uint64
	ifDropsBase uint64
}

// Open opens a capture socket on cfg.Iface in the network namespace of the
// calling thread. The socket sees the interface's frames in both directions
// that pass cfg.Filter, from the moment Open returns.
//
// Errors: a missing interface wraps [netif.ErrNotFound] ("interface eth9
// not found"); missing CAP_NET_RAW, a kernel without AF_PACKET, TPACKET_V3,
// the fanout mode, or an interface whose link layer has no pcap link type
// wrap [capture.ErrNotSupported]; a bad cfg wraps [ErrInvalidConfig].
func Open(cfg Config) (*Source, error) {
	s, err := open(cfg, false)
	if err != nil {
		return nil, err
	}
	if err := s.activate(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenGroup opens n sockets on cfg.Iface in one fanout group, one per
// worker, in the network namespace of the calling thread. With a nil
// cfg.Fanout it uses [FanoutHash] and a kernel-assigned group id; n == 0
// means cfg.Fanout.Workers. All members are in the group before any of
// them keeps a frame, so each frame goes to exactly one socket. On error
// no socket is left open.
func OpenGroup(cfg Config, n int) ([]*Source, error) {
	fo := Fanout{Mode: FanoutHash}
	if cfg.Fanout != nil {
		fo = *cfg.Fanout
	}
	if n == 0 {
		n = fo.Workers
	}
	if n <= 0 {
		return nil, fmt.Errorf("open af_packet group on %s: %w: %d sockets", cfg.Iface, ErrInvalidConfig, n)
	}
	cfg.Fanout = &fo
	explicit := fo.Group != 0
	srcs := make([]*Source, 0, n)
	closeAll := func() {
		for _, s := range srcs {
			s.Close()
		}
	}
	for i := range n {
		s, err := open(cfg, explicit)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("open socket %d of %d: %w", i+1, n, err)
		}
		srcs = append(srcs, s)
		if !explicit {
			// Later members join the id the kernel chose for the first
			// (which can be 0).
			joined := fo
			joined.Group = s.group
			cfg.Fanout = &joined
			explicit = true
		}
	}
	for _, s := range srcs {
		if err := s.activate(); err != nil {
			closeAll()
			return nil, err
		}
	}
	return srcs, nil
}

// open sets a socket up completely but with the drop-all filter: bound,
// ring mapped, fanout group joined. activate makes it capture. With
// explicitGroup, a cfg.Fanout.Group of 0 means group 0, not a new one.
func open(cfg Config, explicitGroup bool) (_ *Source, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open af_packet on %s: %w", cfg.Iface, err)
	}
	wrap := func(what string, err error) error {
		return fmt.Errorf("open af_packet on %s: %s: %w", cfg.Iface, what, err)
	}
	s := &Source{
		iface:     cfg.Iface,
		snaplen:   cfg.Snaplen,
		timeoutMs: int(cfg.Timeout.Milliseconds()),
		blockSize: cfg.BlockSize,
		numBlocks: cfg.NumBlocks,
		filter:    cfg.Filter,
		fd:        -1,
		efd:       -1,
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	// A netlink socket of this namespace, kept for the interface's drop
	// counter: sysfs shows the namespace that mounted it, not ours.
	s.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, wrap("open netlink", err)
	}
	link, err := s.nl.LinkByName(cfg.Iface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("open af_packet on %s: interface %s %w", cfg.Iface, cfg.Iface, netif.ErrNotFound)
		}
		return nil, wrap("look up interface", err)
	}
	s.ifindex = link.Attrs().Index
	if st := link.Attrs().Statistics; st != nil {
		s.ifDropsBase = st.RxDropped
	}

	// Protocol 0: the socket receives nothing until bind names ETH_P_ALL.
	s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		switch {
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
			return nil, fmt.Errorf("open af_packet on %s: %w: packet sockets need CAP_NET_RAW: %w", cfg.Iface, capture.ErrNotSupported, err)
		case errors.Is(err, unix.EAFNOSUPPORT):
			return nil, fmt.Errorf("open af_packet on %s: %w: kernel without AF_PACKET: %w", cfg.Iface, capture.ErrNotSupported, err)
		}
		return nil, wrap("create socket", err)
	}
	// Until activate, the socket keeps nothing.
	dropAll := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	if err := attachFilter(s.fd, dropAll); err != nil {
		return nil, wrap("attach drop-all filter", err)
	}
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOPROTOOPT) {
			return nil, fmt.Errorf("open af_packet on %s: %w: kernel without TPACKET_V3: %w", cfg.Iface, capture.ErrNotSupported, err)
		}
		return nil, wrap("set TPACKET_V3", err)
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(cfg.BlockSize),
		Block_nr:       uint32(cfg.NumBlocks),
		Frame_size:     uint32(cfg.FrameSize),
		Frame_nr:       uint32(cfg.BlockSize / cfg.FrameSize * cfg.NumBlocks),
		Retire_blk_tov: uint32(cfg.BlockTimeout.Milliseconds()),
	}
	if err := unix.SetsockoptTpacketReq3(s.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, wrap(fmt.Sprintf("set up rx ring of %d blocks of %d bytes", cfg.NumBlocks, cfg.BlockSize), err)
	}
	s.ring, err = unix.Mmap(s.fd, 0, cfg.BlockSize*cfg.NumBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, wrap("map rx ring", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: s.ifindex}
	if err := unix.Bind(s.fd, sa); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return nil, fmt.Errorf("open af_packet on %s: interface %s %w", cfg.Iface, cfg.Iface, netif.ErrNotFound)
		}
		return nil, wrap("bind", err)
	}
	bound, err := unix.Getsockname(s.fd)
	if err != nil {
		return nil, wrap("get bound address", err)
	}
	ll, ok := bound.(*unix.SockaddrLinklayer)
	if !ok {
		return nil, wrap("get bound address", fmt.Errorf("unexpected address type %T", bound))
	}
	s.loopback = ll.Hatype == unix.ARPHRD_LOOPBACK
	if s.linkType, err = linkType(ll.Hatype); err != nil {
		return nil, fmt.Errorf("open af_packet on %s: %w", cfg.Iface, err)
	}
	if cfg.Promisc {
		mreq := unix.PacketMreq{Ifindex: int32(s.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(s.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, wrap("enable promiscuous mode", err)
		}
	}
	if cfg.Fanout != nil {
		if s.group, err = joinFanout(s.fd, *cfg.Fanout, !explicitGroup && cfg.Fanout.Group == 0); err != nil {
			return nil, fmt.Errorf("open af_packet on %s: %w", cfg.Iface, err)
		}
		s.inGroup = true
	}
	s.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, wrap("create eventfd", err)
	}
	s.pfd[0] = unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN}
	s.pfd[1] = unix.PollFd{Fd: int32(s.efd), Events: unix.POLLIN}
	return s, nil
}

// activate replaces the drop-all filter with the configured one.
func (s *Source) activate() error {
	prog := s.filter
	if len(prog) == 0 {
		prog = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: uint32(s.snaplen)}}
	}
	if err := attachFilter(s.fd, prog); err != nil {
		return fmt.Errorf("open af_packet on %s: attach filter: %w", s.iface, err)
	}
	s.filter = nil
	return nil
}

// attachFilter attaches a classic BPF program with SO_ATTACH_FILTER,
// replacing any earlier one atomically.
func attachFilter(fd int, prog []unix.SockFilter) error {
	if len(prog) == 0 {
		return errors.New("empty program")
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog)
}

// joinFanout adds fd to the fanout group fo.Group, or to a new group with
// a kernel-assigned id when unique is set, and returns the group id.
func joinFanout(fd int, fo Fanout, unique bool) (uint16, error) {
	typ, flags, err := fo.Mode.kernel()
	if err != nil {
		return 0, err
	}
	if unique {
		flags |= unix.PACKET_FANOUT_FLAG_UNIQUEID
	}
	arg := uint32(fo.Group) | (typ|flags)<<16
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, int(arg)); err != nil {
		what := fmt.Sprintf("join fanout group %d (%s)", fo.Group, fo.Mode)
		if unique {
			what = fmt.Sprintf("join new fanout group (%s)", fo.Mode)
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOPROTOOPT) {
			// EINVAL is also what a group of another mode gives.
			return 0, fmt.Errorf("%s: %w: mode unknown to this kernel or group has other settings: %w", what, capture.ErrNotSupported, err)
		}
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT)
	if err != nil {
		return 0, fmt.Errorf("read fanout group: %w", err)
	}
	return uint16(got & 0xffff), nil
}

// htons converts a 16-bit value to network byte order for sockaddr_ll.
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// LinkType returns the pcap LINKTYPE_ of the frames: 1 (Ethernet) for
// Ethernet and loopback devices, 101 (raw IP) for tun-like devices. It
// satisfies [capture.Source].
func (s *Source) LinkType() uint32 { return s.linkType }

// Iface returns the interface name the source captures on.
func (s *Source) Iface() string { return s.iface }

// FanoutGroup returns the id of the fanout group the socket joined, and
// false when it joined none. Other sockets (or processes) in the same
// network namespace can join the group with this id and the same mode.
func (s *Source) FanoutGroup() (id uint16, ok bool) { return s.group, s.inGroup }

// Close releases the ring and the socket. A ReadBatch blocked in another
// goroutine returns an error wrapping [net.ErrClosed]; frames of the last
// batch become invalid. Close is idempotent. It satisfies [capture.Source].
func (s *Source) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.efd >= 0 {
			var one = [8]byte{1}
			_, _ = unix.Write(s.efd, one[:])
		}
		s.readMu.Lock()
		defer s.readMu.Unlock()
		s.statsMu.Lock()
		defer s.statsMu.Unlock()
		if s.fd >= 0 {
			_ = s.pullLocked() // final counters; a failure keeps the last ones
		}
		s.torn = true
		var errs []error
		if s.ring != nil {
			if err := unix.Munmap(s.ring); err != nil {
				errs = append(errs, fmt.Errorf("unmap ring: %w", err))
			}
			s.ring, s.blk = nil, nil
		}
		for _, fd := range []*int{&s.fd, &s.efd} {
			if *fd >= 0 {
				if err := unix.Close(*fd); err != nil {
					errs = append(errs, err)
				}
				*fd = -1
			}
		}
		if s.nl != nil {
			s.nl.Close()
			s.nl = nil
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close af_packet on %s: %w", s.iface, err)
		}
	})
	return s.closeErr
}

// errClosed is what ReadBatch returns once the source is closed.
func (s *Source) errClosed() error {
	return fmt.Errorf("read af_packet on %s: %w", s.iface, net.ErrClosed)
}
