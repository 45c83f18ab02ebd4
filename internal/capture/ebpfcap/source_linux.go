//go:build linux

package ebpfcap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/bpf"
	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/capture/netif"
)

// Direction says which hook saw a frame.
type Direction = bpf.Direction

// Directions of [Source.ReadBatchDir].
const (
	Ingress = bpf.DirIngress
	Egress  = bpf.DirEgress
)

// linkTypeEthernet is LINKTYPE_ETHERNET.
const linkTypeEthernet = 1

// offsetRefresh is how often the CLOCK_BOOTTIME → wall clock offset is
// measured again, to follow clock steps (NTP, settimeofday).
const offsetRefresh = time.Second

// Source is the pass-through capture on one interface: passthru's XDP (or
// TCX ingress) and TCX egress programs attached through bpf_links, which
// the kernel detaches when the process exits even if Close is never
// called, and a reader of their shared ring buffer. It implements
// [capture.Source].
//
// ReadBatch must be called by one goroutine at a time (the ring buffer
// has one consumer position; concurrent calls are serialised). Stats,
// Counters, Mode, Fallbacks and Close are safe to call from any
// goroutine.
type Source struct {
	iface     string
	ifindex   int
	objs      bpf.PassthruObjects
	ingress   link.Link
	egress    link.Link
	mode      Mode // the ingress hook in use: native, generic or tcx
	fallbacks []string
	timeout   time.Duration

	rd *ringbuf.Reader

	readMu   sync.Mutex        // one reader at a time
	recs     []ringbuf.Record  // one per frame slot; frames alias RawSample
	offset   int64             // wall clock minus CLOCK_BOOTTIME, ns
	offsetAt time.Time         // when offset was measured
	statsMu  sync.RWMutex      // Close (write) against map reads (read)
	closed   atomic.Bool       // set first thing in Close
	final    map[string]uint64 // counters read by Close, served after it

	delivered atomic.Uint64 // frames returned by ReadBatch
	malformed atomic.Uint64 // records that did not parse (a bug if ever > 0)

	closeOnce sync.Once
	closeErr  error
}

// Open loads passthru, attaches its ingress program to cfg.Iface with
// the hook cfg.Mode asks for (in auto mode: XDP in the driver, generic
// XDP, then TCX ingress; [Source.Mode] tells which one won,
// [Source.Fallbacks] why the others lost) and its egress program to TCX
// egress, and opens the ring buffer reader. All of this happens in the
// network namespace of the calling thread (lock the OS thread and setns
// to use another one); reading, statistics and Close then work from any
// thread.
//
// Errors: invalid cfg wraps [ErrInvalidConfig]; a missing interface wraps
// [netif.ErrNotFound]; missing privileges (CAP_BPF, CAP_PERFMON,
// CAP_NET_ADMIN), a kernel without the helpers or TCX (Linux ≥ 6.6), or no
// ingress hook that accepts the program wrap [capture.ErrNotSupported].
func Open(cfg Config) (_ *Source, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open ebpf capture: %w", err)
	}
	wrap := func(what string, err error) error {
		return fmt.Errorf("open ebpf capture on %s: %s: %w", cfg.Iface, what, err)
	}
	ifi, err := net.InterfaceByName(cfg.Iface)
	if err != nil {
		return nil, fmt.Errorf("open ebpf capture on %s: interface %s %w: %w", cfg.Iface, cfg.Iface, netif.ErrNotFound, err)
	}
	s, err := load(cfg)
	if err != nil {
		return nil, wrap("load", err)
	}
	s.iface, s.ifindex = cfg.Iface, ifi.Index
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.attachIngress(cfg.Mode); err != nil {
		return nil, err
	}
	s.egress, err = link.AttachTCX(link.TCXOptions{Program: s.objs.PassthruTc, Attach: ebpf.AttachTCXEgress, Interface: s.ifindex})
	if err != nil {
		if notSupported(err) {
			return nil, fmt.Errorf("open ebpf capture on %s: %w: attach tcx egress (Linux ≥ 6.6): %w", cfg.Iface, capture.ErrNotSupported, err)
		}
		return nil, wrap("attach tcx egress", err)
	}
	return s, nil
}

// load creates the maps and programs, configures them and opens the ring
// reader; it attaches nothing.
func load(cfg Config) (*Source, error) {
	s := &Source{timeout: cfg.Timeout}
	if err := bpf.LoadPassthruObjects(&s.objs, uint32(cfg.RingSize), nil); err != nil {
		if notSupported(err) {
			return nil, fmt.Errorf("%w: loading BPF needs CAP_BPF and CAP_PERFMON (or root) and Linux ≥ 5.18: %w", capture.ErrNotSupported, err)
		}
		return nil, err
	}
	var flags uint32
	if len(cfg.Ports) > 0 {
		flags |= bpf.PassthruConfigFilterPorts
		for _, p := range cfg.Ports {
			if err := s.objs.Ports.Put(p, uint8(1)); err != nil {
				s.objs.Close()
				return nil, fmt.Errorf("set port %d: %w", p, err)
			}
		}
	}
	if err := s.objs.Config.Put(uint32(0), bpf.PassthruConfig{Flags: flags, Snaplen: uint32(cfg.Snaplen)}); err != nil {
		s.objs.Close()
		return nil, fmt.Errorf("set config: %w", err)
	}
	rd, err := ringbuf.NewReader(s.objs.Events)
	if err != nil {
		s.objs.Close()
		return nil, fmt.Errorf("open ring buffer: %w", err)
	}
	s.rd = rd
	s.offset, s.offsetAt = bootOffset(), time.Now()
	return s, nil
}

// attachIngress attaches the ingress program with the first mode that
// works.
func (s *Source) attachIngress(mode Mode) error {
	modes := []Mode{mode}
	if mode == ModeAuto {
		modes = []Mode{ModeNative, ModeGeneric, ModeTCX}
	}
	var errs []error
	for _, m := range modes {
		var l link.Link
		var err error
		switch m {
		case ModeNative, ModeGeneric:
			flags := link.XDPDriverMode
			if m == ModeGeneric {
				flags = link.XDPGenericMode
			}
			l, err = link.AttachXDP(link.XDPOptions{Program: s.objs.PassthruXdp, Interface: s.ifindex, Flags: flags})
		case ModeTCX:
			l, err = link.AttachTCX(link.TCXOptions{Program: s.objs.PassthruTcIngress, Attach: ebpf.AttachTCXIngress, Interface: s.ifindex})
		}
		if err == nil {
			s.ingress, s.mode = l, m
			return nil
		}
		s.fallbacks = append(s.fallbacks, fmt.Sprintf("%s: %v", m, err))
		errs = append(errs, fmt.Errorf("%s: %w", m, err))
	}
	err := errors.Join(errs...)
	if notSupported(err) || errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("open ebpf capture on %s: %w: attach ingress (%s): %w", s.iface, capture.ErrNotSupported, mode, err)
	}
	return fmt.Errorf("open ebpf capture on %s: attach ingress (%s): %w", s.iface, mode, err)
}

// notSupported reports whether err means the kernel or the privileges
// are missing.
func notSupported(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.EOPNOTSUPP) ||
		errors.Is(err, unix.EINVAL) || errors.Is(err, ebpf.ErrNotSupported)
}

// bootOffset measures wall clock minus CLOCK_BOOTTIME (the clock of
// bpf_ktime_get_boot_ns) in nanoseconds, reading the boot clock between
// two wall clock reads.
func bootOffset() int64 {
	var r1, b, r2 unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &r1)
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &b)
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &r2)
	return r1.Nano() + (r2.Nano()-r1.Nano())/2 - b.Nano()
}

// Iface returns the interface name.
func (s *Source) Iface() string { return s.iface }

// Mode returns the ingress hook in use: [ModeNative], [ModeGeneric] or
// [ModeTCX].
func (s *Source) Mode() Mode { return s.mode }

// Fallbacks returns why the ingress hooks tried before the one in use
// failed, e.g. "native: ... device or resource busy" when the interface
// already runs another XDP program.
func (s *Source) Fallbacks() []string { return append([]string(nil), s.fallbacks...) }

// LinkType returns 1 (LINKTYPE_ETHERNET). It satisfies [capture.Source].
func (s *Source) LinkType() uint32 { return linkTypeEthernet }

// ReadBatch is [Source.ReadBatchDir] without directions. It satisfies
// [capture.Source].
func (s *Source) ReadBatch(ctx context.Context, frames []capture.Frame) (int, error) {
	return s.ReadBatchDir(ctx, frames, nil)
}

// ReadBatchDir fills frames (and dirs, when not nil, with the hook that
// saw each frame) with the next records of the ring buffer and returns
// how many: it waits up to the configured timeout, or ctx's deadline if
// sooner, for the first one (then it returns 0 and a nil error, a
// heartbeat) and takes the others that are ready without waiting. With a
// non-nil dirs, at most len(dirs) frames are filled.
//
// Frame data aliases buffers of the Source and stays valid until the next
// ReadBatch or Close. Data holds the first Snaplen bytes of the frame,
// WireLen its length (skb->len on TCX, all fragments on XDP). TS is the
// time the program ran (CLOCK_BOOTTIME in the kernel, converted to Unix
// time with an offset measured every second). Records of different CPUs
// may be out of time order by a few microseconds.
//
// ctx is checked before the wait and after it, not during it: a cancel
// is noticed within the timeout. Close from another goroutine interrupts
// the wait; ReadBatch then returns an error wrapping [net.ErrClosed].
// After the first call, ReadBatch does not allocate unless a later call
// has more frames than any before.
// Wake-up coalescing of ReadBatchDir: with less than a batch of records
// (at minRecordBytes each: ring buffer header, record header, a 60-byte
// frame) in the ring, it first sleeps coalesceWait.
const (
	minRecordBytes = 96
	coalesceWait   = 2 * time.Millisecond
)

func (s *Source) ReadBatchDir(ctx context.Context, frames []capture.Frame, dirs []Direction) (int, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.closed.Load() {
		return 0, s.errClosed()
	}
	limit := len(frames)
	if dirs != nil {
		limit = min(limit, len(dirs))
	}
	if limit == 0 {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.grow(limit)
	if s.rd.AvailableBytes() < limit*minRecordBytes {
		// Less than a batch waiting: give the ring coalesceWait to fill,
		// so that one wake-up serves a batch instead of a few records.
		capture.CoalesceSleep(coalesceWait)
	}
	now := time.Now()
	if now.Sub(s.offsetAt) >= offsetRefresh {
		s.offset, s.offsetAt = bootOffset(), now
	}
	deadline := now.Add(s.timeout)
	ctxDeadline := false
	if d, ok := ctx.Deadline(); ok && !d.After(deadline) {
		deadline, ctxDeadline = d, true
	}
	s.rd.SetDeadline(deadline)

	n := 0
	for n < limit {
		rec := &s.recs[n]
		err := s.rd.ReadInto(rec)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// The reader reports a deadline that passed during
				// an earlier call once, even if this call's has not;
				// the last millisecond is not worth another wait
				// (epoll's timeout is in whole milliseconds).
				if n == 0 && time.Until(deadline) > time.Millisecond {
					continue
				}
				break
			}
			if errors.Is(err, os.ErrClosed) {
				s.delivered.Add(uint64(n))
				return n, s.errClosed()
			}
			s.delivered.Add(uint64(n))
			return n, fmt.Errorf("read ebpf capture on %s: %w", s.iface, err)
		}
		r, err := bpf.ParsePassthruRecord(rec.RawSample)
		if err != nil {
			s.malformed.Add(1)
		} else {
			frames[n] = capture.Frame{Data: r.Data, TS: int64(r.BootNS) + s.offset, WireLen: int(r.WireLen)}
			if dirs != nil {
				dirs[n] = r.Dir
			}
			n++
		}
		if rec.Remaining == 0 {
			break
		}
	}
	s.delivered.Add(uint64(n))
	if n == 0 {
		if ctxDeadline && time.Until(deadline) <= time.Millisecond {
			// ctx's deadline ended the wait; its timer may not
			// have fired yet (at most a millisecond away).
			<-ctx.Done()
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// grow makes room for n records, each with a buffer large enough for
// the largest record, so ReadInto never allocates.
func (s *Source) grow(n int) {
	if len(s.recs) >= n {
		return
	}
	recs := make([]ringbuf.Record, n)
	copy(recs, s.recs)
	for i := len(s.recs); i < n; i++ {
		recs[i].RawSample = make([]byte, 0, bpf.PassthruRecordHeaderSize+bpf.PassthruMaxSnaplen)
	}
	s.recs = recs
}

func (s *Source) errClosed() error {
	return fmt.Errorf("read ebpf capture on %s: %w", s.iface, net.ErrClosed)
}

// Stats returns Packets, the frames ReadBatch delivered, and Drops, the
// records lost because the ring buffer was full (ringbuf_full, both
// directions): frames the host received or sent but the capture missed.
// Frames the port pre-filter skipped are not drops. IfDrops is 0. After
// Close it returns the last values. It satisfies [capture.Source].
func (s *Source) Stats() (capture.Stats, error) {
	c, err := s.Counters()
	if err != nil {
		return capture.Stats{Packets: s.delivered.Load()}, err
	}
	drops := c[counterName(Ingress, bpf.PassthruClassRingbufFull, "packets")] +
		c[counterName(Egress, bpf.PassthruClassRingbufFull, "packets")]
	return capture.Stats{Packets: s.delivered.Load(), Drops: drops}, nil
}

// Counters returns the kernel-side counters summed over CPUs, keyed
// "<direction>_<class>_packets" and "..._bytes" for every direction
// (ingress, egress) and class of [bpf.PassthruClassNames] (ipv4, ipv6,
// other_l3, tcp, udp, other_l4, parse_errors, captured, ringbuf_full,
// filtered_out), plus "delivered_packets" (user space, = Stats().Packets)
// and "malformed_records" (records that did not parse: always 0 unless
// the C and Go sides disagree). Bytes are wire lengths. After Close it
// returns the last values.
func (s *Source) Counters() (map[string]uint64, error) {
	s.statsMu.RLock()
	defer s.statsMu.RUnlock()
	if s.final != nil {
		out := make(map[string]uint64, len(s.final))
		for k, v := range s.final {
			out[k] = v
		}
		out["delivered_packets"] = s.delivered.Load()
		return out, nil
	}
	return s.readCounters()
}

// readCounters reads the counters map; the caller holds statsMu.
func (s *Source) readCounters() (map[string]uint64, error) {
	out := make(map[string]uint64, 2*bpf.NumDirections*bpf.PassthruNumClasses+2)
	var per []bpf.PassthruCounter
	for d := range Direction(bpf.NumDirections) {
		for c := range bpf.PassthruNumClasses {
			if err := s.objs.Counters.Lookup(bpf.PassthruCounterKey(d, c), &per); err != nil {
				return nil, fmt.Errorf("read ebpf capture counters on %s: %w", s.iface, err)
			}
			var p, b uint64
			for _, v := range per {
				p += v.Packets
				b += v.Bytes
			}
			out[counterName(d, c, "packets")] = p
			out[counterName(d, c, "bytes")] = b
		}
	}
	out["delivered_packets"] = s.delivered.Load()
	out["malformed_records"] = s.malformed.Load()
	return out, nil
}

// counterName is the key of a counter in [Source.Counters].
func counterName(d Direction, class int, unit string) string {
	return d.String() + "_" + bpf.PassthruClassNames[class] + "_" + unit
}

// Close detaches both programs, closes the ring buffer reader (a
// ReadBatch blocked in another goroutine returns an error wrapping
// [net.ErrClosed]) and releases the maps and programs. Frames of the last
// batch become invalid. Close is idempotent. It satisfies
// [capture.Source].
func (s *Source) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		var errs []error
		for _, l := range []link.Link{s.ingress, s.egress} {
			if l != nil {
				if err := l.Close(); err != nil {
					errs = append(errs, fmt.Errorf("detach: %w", err))
				}
			}
		}
		if s.rd != nil {
			if err := s.rd.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close ring reader: %w", err))
			}
		}
		s.readMu.Lock() // the blocked ReadBatch, if any, has returned
		s.recs = nil
		s.readMu.Unlock()
		s.statsMu.Lock()
		if s.objs.Counters != nil {
			if c, err := s.readCounters(); err == nil {
				s.final = c
			}
		}
		if s.final == nil {
			s.final = map[string]uint64{}
		}
		if err := s.objs.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close objects: %w", err))
		}
		s.statsMu.Unlock()
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close ebpf capture on %s: %w", s.iface, err)
		}
	})
	return s.closeErr
}
