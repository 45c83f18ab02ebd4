//go:build linux

package afxdp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/capture/netif"
)

var _ capture.Source = (*Socket)(nil)

// linkTypeEthernet is LINKTYPE_ETHERNET: XDP sees Ethernet frames.
const linkTypeEthernet = 1

// completionRingSize sizes the completion ring. The socket never
// transmits, but the kernel refuses to bind a UMEM without one.
const completionRingSize = 64

// Socket is one AF_XDP socket bound to one receive queue of an interface,
// with its own UMEM. One goroutine reads it with [Socket.ReadBatch];
// [Socket.Stats] and [Socket.Close] may be called from any goroutine.
type Socket struct {
	iface     string
	ifindex   int
	queue     int
	frameSize int
	frames    int
	timeoutMs int
	zeroCopy  bool
	bindFlags uint16
	fallbacks []string

	fd   int    // AF_XDP socket
	efd  int    // eventfd that wakes a blocked poll on Close
	umem []byte // frames*frameSize bytes of umemMap
	// umemMap is the whole anonymous mapping (umem plus alignment slack).
	umemMap []byte
	fill    fillRing
	comp    ring
	rx      rxRing

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	packets   atomic.Uint64

	// readMu is held by ReadBatch and by Close while it tears the socket
	// down; the fields below belong to the reader.
	readMu  sync.Mutex
	pending []uint64       // UMEM addresses of the last batch, to recycle
	pfd     [2]unix.PollFd // the socket, efd
	self    [1]*Socket

	statsMu sync.Mutex
	torn    bool // fd closed; last is final
	last    XDPStats
}

// Open creates an AF_XDP socket on cfg.Iface, queue cfg.Queue, in the
// network namespace of the calling thread, and registers it with prog
// (which must be attached to the same interface) so the queue's frames
// reach it. With a nil prog the caller registers the socket itself
// ([Socket.FD], [Program.Register]).
//
// Open binds in zero-copy mode first (unless cfg.ForceCopy) and falls back
// to copy mode; [Socket.ZeroCopy] says which one it got and
// [Socket.Fallbacks] why. It asks for XDP_USE_NEED_WAKEUP, and binds
// without it on kernels older than 5.4 that refuse it.
//
// Errors: a missing interface wraps [netif.ErrNotFound]; a kernel without
// AF_XDP or missing CAP_NET_RAW wrap [capture.ErrNotSupported]; a queue
// the device does not have fails with EINVAL; a queue that already has a
// socket with EBUSY; a bad cfg wraps [ErrInvalidConfig].
func Open(cfg Config, prog *Program) (_ *Socket, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open af_xdp on %s: %w", cfg.Iface, err)
	}
	if cfg.Queue >= 64 && prog != nil {
		return nil, fmt.Errorf("open af_xdp on %s: %w: queue %d beyond the program's 64 queues", cfg.Iface, ErrInvalidConfig, cfg.Queue)
	}
	s := &Socket{
		iface:     cfg.Iface,
		queue:     cfg.Queue,
		frameSize: cfg.FrameSize,
		frames:    cfg.Frames,
		timeoutMs: int(cfg.Timeout.Milliseconds()),
		fd:        -1,
		efd:       -1,
	}
	wrap := func(what string, err error) error {
		return fmt.Errorf("open af_xdp on %s queue %d: %s: %w", cfg.Iface, cfg.Queue, what, err)
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	link, err := netlink.LinkByName(cfg.Iface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("open af_xdp on %s: interface %s %w", cfg.Iface, cfg.Iface, netif.ErrNotFound)
		}
		return nil, wrap("look up interface", err)
	}
	s.ifindex = link.Attrs().Index

	if err := s.mapUMEM(cfg.Frames * cfg.FrameSize); err != nil {
		return nil, wrap(fmt.Sprintf("map umem of %d frames of %d bytes", cfg.Frames, cfg.FrameSize), err)
	}
	s.pending = make([]uint64, 0, cfg.Frames)

	type attempt struct {
		flags uint16
		name  string
	}
	attempts := []attempt{
		{unix.XDP_ZEROCOPY | unix.XDP_USE_NEED_WAKEUP, "zero-copy"},
		{unix.XDP_COPY | unix.XDP_USE_NEED_WAKEUP, "copy"},
		{unix.XDP_COPY, "copy without need_wakeup"},
	}
	if cfg.ForceCopy {
		attempts = attempts[1:]
		s.fallbacks = append(s.fallbacks, "zero-copy: not tried (ForceCopy)")
	}
	for i, a := range attempts {
		err = s.setup(a.flags)
		if err == nil {
			s.bindFlags = a.flags
			break
		}
		if errors.Is(err, capture.ErrNotSupported) || errors.Is(err, unix.EBUSY) || errors.Is(err, unix.ENODEV) || i == len(attempts)-1 {
			return nil, wrap("bind "+a.name, err)
		}
		// Zero-copy: EOPNOTSUPP (no driver support) or EINVAL; need_wakeup on
		// kernels < 5.4: EINVAL.
		if a.flags&unix.XDP_ZEROCOPY == 0 && !errors.Is(err, unix.EINVAL) {
			return nil, wrap("bind "+a.name, err)
		}
		s.fallbacks = append(s.fallbacks, fmt.Sprintf("%s: %v", a.name, err))
	}

	var opts uint32
	if _, err := getsockopt(s.fd, unix.SOL_XDP, unix.XDP_OPTIONS, unsafe.Pointer(&opts), 4); err == nil {
		s.zeroCopy = opts&unix.XDP_OPTIONS_ZEROCOPY != 0
	} else {
		s.zeroCopy = s.bindFlags&unix.XDP_ZEROCOPY != 0 // kernels < 5.3
	}

	s.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, wrap("create eventfd", err)
	}
	s.pfd[0] = unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN}
	s.pfd[1] = unix.PollFd{Fd: int32(s.efd), Events: unix.POLLIN}
	s.self[0] = s
	if prog != nil {
		if err := prog.Register(cfg.Queue, s.fd); err != nil {
			return nil, fmt.Errorf("open af_xdp on %s queue %d: %w", cfg.Iface, cfg.Queue, err)
		}
	}
	return s, nil
}

// hugePage is the size of a transparent huge page on x86-64 and arm64
// (4 KiB base pages).
const hugePage = 2 << 20

// mapUMEM maps size bytes of anonymous memory for the UMEM, aligned to a
// huge page and advised to use transparent huge pages, then populated.
// Each received frame lands on its own part of a 4 KiB page, so with base
// pages every frame costs a TLB miss when it is decoded (and in a virtual
// machine a two-level page walk); a few huge pages map the whole UMEM.
// Where THP is off or refused, the mapping stays in base pages.
func (s *Socket) mapUMEM(size int) error {
	m, err := unix.Mmap(-1, 0, size+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return err
	}
	off := 0
	if r := int(uintptr(unsafe.Pointer(&m[0])) % hugePage); r != 0 {
		off = hugePage - r
	}
	s.umemMap, s.umem = m, m[off:off+size:off+size]
	_ = unix.Madvise(s.umem, unix.MADV_HUGEPAGE) // refused: base pages
	// Populate now (MAP_POPULATE would have faulted before the advice).
	for i := 0; i < size; i += 4096 {
		s.umem[i] = 0
	}
	return nil
}

// setup creates the socket, registers the UMEM, maps the rings, hands
// every frame to the fill ring and binds with flags. On error it leaves no
// socket or ring behind (the UMEM stays for the next attempt): a failed
// bind can leave the kernel's UMEM state half torn down, so each attempt
// starts from a new socket.
func (s *Socket) setup(flags uint16) (err error) {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		switch {
		case errors.Is(err, unix.EAFNOSUPPORT):
			return fmt.Errorf("%w: kernel without AF_XDP (CONFIG_XDP_SOCKETS, Linux ≥ 4.18): %w", capture.ErrNotSupported, err)
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
			return fmt.Errorf("%w: AF_XDP sockets need CAP_NET_RAW: %w", capture.ErrNotSupported, err)
		}
		return fmt.Errorf("create socket: %w", err)
	}
	s.fd = fd
	defer func() {
		if err != nil {
			s.teardownSocket()
		}
	}()

	reg := unix.XDPUmemReg{
		Addr: uint64(uintptr(unsafe.Pointer(&s.umem[0]))),
		Len:  uint64(len(s.umem)),
		Size: uint32(s.frameSize),
	}
	if err := setsockopt(fd, unix.SOL_XDP, unix.XDP_UMEM_REG, unsafe.Pointer(&reg), unsafe.Sizeof(reg)); err != nil {
		return fmt.Errorf("register umem: %w", err)
	}
	for _, o := range []struct {
		name string
		opt  int
		n    int
	}{
		{"fill", unix.XDP_UMEM_FILL_RING, s.frames},
		{"completion", unix.XDP_UMEM_COMPLETION_RING, completionRingSize},
		{"rx", unix.XDP_RX_RING, s.frames},
	} {
		if err := unix.SetsockoptInt(fd, unix.SOL_XDP, o.opt, o.n); err != nil {
			return fmt.Errorf("size %s ring (%d entries): %w", o.name, o.n, err)
		}
	}
	var off unix.XDPMmapOffsets
	n, err := getsockopt(fd, unix.SOL_XDP, unix.XDP_MMAP_OFFSETS, unsafe.Pointer(&off), unsafe.Sizeof(off))
	if err != nil {
		return fmt.Errorf("read ring offsets: %w", err)
	}
	if n != unsafe.Sizeof(off) {
		return fmt.Errorf("%w: kernel without ring flags (XDP_MMAP_OFFSETS of %d bytes; need Linux ≥ 5.4)", capture.ErrNotSupported, n)
	}
	if s.fill, err = mapFillRing(fd, off.Fr, uint32(s.frames)); err != nil {
		return fmt.Errorf("fill ring: %w", err)
	}
	if s.comp, err = mapRing(fd, unix.XDP_UMEM_PGOFF_COMPLETION_RING, off.Cr, completionRingSize, 8); err != nil {
		return fmt.Errorf("completion ring: %w", err)
	}
	if s.rx, err = mapRxRing(fd, off.Rx, uint32(s.frames)); err != nil {
		return fmt.Errorf("rx ring: %w", err)
	}
	// Every frame starts in the kernel's hands.
	s.pending = s.pending[:0]
	for i := range s.frames {
		s.pending = append(s.pending, uint64(i*s.frameSize))
	}
	if put := s.fill.put(s.pending); put != s.frames {
		return fmt.Errorf("fill ring took %d of %d frames", put, s.frames)
	}
	s.pending = s.pending[:0]

	sa := &unix.SockaddrXDP{Flags: flags, Ifindex: uint32(s.ifindex), QueueID: uint32(s.queue)}
	if err := unix.Bind(fd, sa); err != nil {
		return err
	}
	return nil
}

// teardownSocket unmaps the rings and closes the socket.
func (s *Socket) teardownSocket() error {
	var errs []error
	for _, r := range []*ring{&s.fill.ring, &s.comp, &s.rx.ring} {
		if err := r.unmap(); err != nil {
			errs = append(errs, fmt.Errorf("unmap ring: %w", err))
		}
	}
	s.fill.descs, s.rx.descs = nil, nil
	if s.fd >= 0 {
		if err := unix.Close(s.fd); err != nil {
			errs = append(errs, err)
		}
		s.fd = -1
	}
	return errors.Join(errs...)
}

// ReadBatch fills frames with the next received frames and returns how
// many, waiting up to the configured timeout when none are ready (then it
// returns 0 and a nil error). Frame data aliases the UMEM and stays valid
// until the next ReadBatch or Close: ReadBatch first gives the previous
// batch's frames back to the kernel. TS is the time ReadBatch took the
// batch from the ring, the same for all its frames: AF_XDP descriptors
// carry no timestamp. WireLen equals len(Data) (frames are never cut).
// It does not allocate. After Close it returns an error wrapping
// [net.ErrClosed]; when ctx is done, ctx.Err() (checked before each wait).
// It satisfies [capture.Source].
// Wake-up coalescing: with less than a full batch ready (the caller's
// batch, at most coalesceMax frames), ReadBatch sleeps coalesceNanos once
// and takes what arrived; only a ring still empty after that waits in poll.
// Each syscall then serves a batch instead of a few frames, for at most
// 2 ms of latency.
const (
	coalesceMax   = 256
	coalesceNanos = 2_000_000
)

func (s *Socket) ReadBatch(ctx context.Context, frames []capture.Frame) (int, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.closed.Load() {
		return 0, s.errClosed()
	}
	s.recycle()
	if len(frames) == 0 {
		return 0, nil
	}
	ready, err := waitReady(ctx, s.self[:], min(len(frames), coalesceMax), s.pfd[:], s.timeoutMs, &s.closed)
	if !ready {
		return 0, err
	}
	return s.take(frames, s.rx.available()), nil
}

// take moves up to len(frames) of the avail ready descriptors into frames.
func (s *Socket) take(frames []capture.Frame, avail uint32) int {
	p := len(s.pending)
	n := min(int(avail), len(frames), cap(s.pending)-p)
	ts := time.Now().UnixNano()
	mask := ^uint64(s.frameSize - 1)
	umem, descs, rmask, c := s.umem, s.rx.descs, s.rx.mask, s.rx.cached
	pend := s.pending[p : p+n]
	frames = frames[:n]
	for i := range frames {
		d := &descs[(c+uint32(i))&rmask]
		addr, end := d.Addr, d.Addr+uint64(d.Len)
		f := &frames[i]
		f.Data = umem[addr:end:end]
		f.TS = ts
		f.WireLen = int(d.Len)
		pend[i] = addr & mask
	}
	s.pending = s.pending[:p+n]
	s.rx.release(uint32(n))
	s.packets.Add(uint64(n))
	return n
}

// recycle gives the last batch's frames back to the kernel through the
// fill ring. The fill ring has a slot for every frame, so they all fit.
func (s *Socket) recycle() {
	if len(s.pending) == 0 {
		return
	}
	put := s.fill.put(s.pending)
	rest := copy(s.pending, s.pending[put:])
	s.pending = s.pending[:rest]
	if s.zeroCopy && s.fill.needWakeup() {
		// A driver in zero-copy mode that ran out of buffers waits for
		// a syscall (XDP_USE_NEED_WAKEUP); copy mode never asks.
		_, _, _ = unix.Syscall6(unix.SYS_RECVFROM, uintptr(s.fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
	}
}

// LinkType returns 1 (LINKTYPE_ETHERNET). It satisfies [capture.Source].
func (s *Socket) LinkType() uint32 { return linkTypeEthernet }

// FD returns the socket's file descriptor (for [Program.Register]).
func (s *Socket) FD() int { return s.fd }

// Queue returns the receive queue the socket is bound to.
func (s *Socket) Queue() int { return s.queue }

// Iface returns the interface name.
func (s *Socket) Iface() string { return s.iface }

// ZeroCopy reports whether the kernel bound the socket in zero-copy mode
// (XDP_OPTIONS_ZEROCOPY).
func (s *Socket) ZeroCopy() bool { return s.zeroCopy }

// Fallbacks returns why bind modes tried before the one in use failed,
// e.g. "zero-copy: operation not supported" on veth.
func (s *Socket) Fallbacks() []string { return append([]string(nil), s.fallbacks...) }

// Close unbinds the socket (the kernel removes it from the program's
// XSKMAP) and releases the rings and the UMEM. A ReadBatch blocked in
// another goroutine returns an error wrapping [net.ErrClosed]; frames of
// the last batch become invalid. Close is idempotent. It satisfies
// [capture.Source].
func (s *Socket) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.efd >= 0 {
			one := [8]byte{1}
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
		if err := s.teardownSocket(); err != nil {
			errs = append(errs, err)
		}
		if s.umemMap != nil {
			if err := unix.Munmap(s.umemMap); err != nil {
				errs = append(errs, fmt.Errorf("unmap umem: %w", err))
			}
			s.umem, s.umemMap = nil, nil
		}
		s.pending = nil
		if s.efd >= 0 {
			if err := unix.Close(s.efd); err != nil {
				errs = append(errs, err)
			}
			s.efd = -1
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close af_xdp on %s queue %d: %w", s.iface, s.queue, err)
		}
	})
	return s.closeErr
}

func (s *Socket) errClosed() error {
	return fmt.Errorf("read af_xdp on %s queue %d: %w", s.iface, s.queue, net.ErrClosed)
}

// setsockopt is setsockopt(2) with a pointer argument, which x/sys/unix
// has no typed wrapper for (XDP_UMEM_REG).
func setsockopt(fd, level, name int, p unsafe.Pointer, size uintptr) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(p), size, 0)
	if e != 0 {
		return e
	}
	return nil
}

// getsockopt is getsockopt(2) into the size bytes at p; it returns the
// length the kernel wrote.
func getsockopt(fd, level, name int, p unsafe.Pointer, size uintptr) (uintptr, error) {
	l := uint32(size)
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return uintptr(l), nil
}
