//go:build cgo && !nolibpcap

package libpcap

/*
#cgo LDFLAGS: -lpcap
#cgo noescape pv_read
#cgo nocallback pv_read
#cgo noescape pcap_stats
#cgo nocallback pcap_stats
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

// pv_hdr describes one packet copied into the arena.
typedef struct {
	int64_t  ts;      // Unix nanoseconds
	uint32_t off;     // offset of the bytes in the arena
	uint32_t caplen;  // bytes copied
	uint32_t wirelen; // length on the wire
	uint32_t pad;
} pv_hdr;

// pv_batch is the C-stack state of one pv_read call.
typedef struct {
	u_char  *arena;
	uint32_t cap;
	uint32_t used;
	pv_hdr  *hdrs;
	int      n;
	int      nano;
} pv_batch;

// Return codes of pv_read besides a count >= 0.
enum {
	PV_ERROR  = -1,  // pcap error: pcap_geterr
	PV_BREAK  = -2,  // pcap_breakloop was called
	PV_WOKEN  = -3,  // the wake pipe became readable: Close
	PV_FDERR  = -4,  // the capture descriptor reports POLLERR/POLLHUP/POLLNVAL
	PV_ERRNO  = -1000 // poll failed: PV_ERRNO - errno
};

static void pv_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
	pv_batch *b = (pv_batch *)user;
	uint32_t c = h->caplen;
	if (c > b->cap - b->used) {
		c = b->cap - b->used; // only if libpcap exceeds the snaplen
	}
	memcpy(b->arena + b->used, bytes, c);
	pv_hdr *o = &b->hdrs[b->n++];
	o->ts = (int64_t)h->ts.tv_sec * 1000000000LL +
		(int64_t)h->ts.tv_usec * (b->nano ? 1 : 1000);
	o->off = b->used;
	o->caplen = c;
	o->wirelen = h->len;
	b->used += c;
}

// pv_fill dispatches until max packets are gathered, the arena cannot hold
// another slot bytes, or nothing is pending (the handle is non-blocking).
static int pv_fill(pcap_t *p, pv_batch *b, int max, uint32_t slot) {
	while (b->n < max) {
		int want = max - b->n;
		uint32_t room = (b->cap - b->used) / slot;
		if (room == 0) {
			break;
		}
		if ((uint32_t)want > room) {
			want = (int)room;
		}
		int r = pcap_dispatch(p, want, pv_cb, (u_char *)b);
		if (r < 0) {
			return r == PCAP_ERROR_BREAK ? PV_BREAK : PV_ERROR;
		}
		if (r == 0) {
			break;
		}
	}
	return 0;
}

// pv_read copies up to max pending packets into arena and hdrs. When none
// is pending it waits up to timeout_ms for the capture descriptor pfd or
// the wake pipe wfd, then tries once more. It returns the number of
// packets in *n and a PV_ code (0 on success); packets gathered before an
// error are still reported in *n.
static int pv_read(pcap_t *p, int pfd, int wfd, int timeout_ms,
		u_char *arena, uint32_t cap, uint32_t slot,
		pv_hdr *hdrs, int max, int nano, int *n) {
	pv_batch b = { arena, cap, 0, hdrs, 0, nano };
	int rc = pv_fill(p, &b, max, slot);
	if (rc != 0 || b.n > 0 || timeout_ms <= 0) {
		*n = b.n;
		return rc;
	}
	struct pollfd fds[2] = { { pfd, POLLIN, 0 }, { wfd, POLLIN, 0 } };
	int pr = poll(fds, 2, timeout_ms);
	if (pr < 0) {
		*n = 0;
		return errno == EINTR ? 0 : PV_ERRNO - errno;
	}
	if (fds[1].revents != 0) {
		*n = 0;
		return PV_WOKEN;
	}
	if (pr == 0) {
		*n = 0;
		return 0;
	}
	rc = pv_fill(p, &b, max, slot);
	*n = b.n;
	if (rc == 0 && b.n == 0 && (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
		return PV_FDERR;
	}
	return rc;
}

// pv_pipe creates the non-blocking, close-on-exec wake pipe.
static int pv_pipe(int fds[2]) {
	if (pipe(fds) != 0) {
		return -errno;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	}
	return 0;
}

static void pv_wake(int wfd) {
	char c = 1;
	ssize_t r = write(wfd, &c, 1);
	(void)r;
}

static void pv_close(int fd) {
	close(fd);
}

// pv_addr decodes an AF_INET or AF_INET6 address and netmask into out and
// *bits; it returns 4, 6, or 0 for other families.
static int pv_addr(const struct sockaddr *a, const struct sockaddr *mask, uint8_t out[16], int *bits) {
	const uint8_t *m = NULL;
	int len = 0, fam = 0;
	if (a == NULL) {
		return 0;
	}
	if (a->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)a)->sin_addr, 4);
		if (mask != NULL && mask->sa_family == AF_INET) {
			m = (const uint8_t *)&((const struct sockaddr_in *)mask)->sin_addr;
		}
		len = 4;
		fam = 4;
	} else if (a->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
		if (mask != NULL && mask->sa_family == AF_INET6) {
			m = (const uint8_t *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		}
		len = 16;
		fam = 6;
	} else {
		return 0;
	}
	if (m == NULL) {
		*bits = len * 8;
		return fam;
	}
	int c = 0;
	for (int i = 0; i < len; i++) {
		c += __builtin_popcount(m[i]);
	}
	*bits = c;
	return fam;
}

// pv_linktype maps a DLT_ value to its LINKTYPE_ where the two differ.
static int pv_linktype(int dlt) {
	switch (dlt) {
#ifdef DLT_RAW
	case DLT_RAW: return 101;
#endif
#ifdef DLT_ATM_RFC1483
	case DLT_ATM_RFC1483: return 100;
#endif
#ifdef DLT_SLIP_BSDOS
	case DLT_SLIP_BSDOS: return 102;
#endif
#ifdef DLT_PPP_BSDOS
	case DLT_PPP_BSDOS: return 103;
#endif
	default: return dlt;
	}
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

var _ capture.Source = (*Source)(nil)

// Source is a live libpcap capture on one interface. ReadBatch is for one
// goroutine; Stats, LinkType and Close may be called from any goroutine,
// also while ReadBatch waits.
type Source struct {
	cfg      Config
	linkType uint32
	nano     C.int
	pfd      C.int // pcap_get_selectable_fd
	wakeR    C.int
	wakeW    C.int

	// life is held shared by every C call on p and exclusively by Close
	// while it frees p, so p is never closed under a running call.
	life    sync.RWMutex
	p       *C.pcap_t
	closing atomic.Bool
	once    sync.Once

	statsMu sync.Mutex // pcap_stats updates libpcap's counters in place

	delivered atomic.Uint64

	// Owned by the ReadBatch goroutine.
	arena   []byte
	hdrs    []C.pv_hdr
	pending error // error met after a batch was already gathered
}

// Open creates and activates a libpcap handle on cfg.Iface in the network
// namespace of the calling thread, attaches cfg.Filter, and switches the
// handle to non-blocking reads.
//
// It returns a [*NoSuchInterfaceError] when the interface does not exist,
// and an error wrapping [capture.ErrNotSupported] when the process lacks
// the privileges to capture (CAP_NET_RAW) or libpcap cannot poll the
// interface.
func Open(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open libpcap source: %w", err)
	}
	var errbuf [C.PCAP_ERRBUF_SIZE]C.char
	cdev := C.CString(cfg.Iface)
	defer C.free(unsafe.Pointer(cdev))
	p := C.pcap_create(cdev, &errbuf[0])
	if p == nil {
		return nil, fmt.Errorf("create libpcap handle on %s: %s", cfg.Iface, C.GoString(&errbuf[0]))
	}
	ok := false
	defer func() {
		if !ok {
			C.pcap_close(p)
		}
	}()
	if err := setOptions(p, cfg); err != nil {
		return nil, fmt.Errorf("configure libpcap handle on %s: %w", cfg.Iface, err)
	}
	if rc := C.pcap_activate(p); rc < 0 {
		return nil, activateError(p, cfg.Iface, rc)
	}
	if C.pcap_setnonblock(p, 1, &errbuf[0]) != 0 {
		return nil, fmt.Errorf("set libpcap handle on %s non-blocking: %s", cfg.Iface, C.GoString(&errbuf[0]))
	}
	if cfg.Filter != "" {
		if err := setFilter(p, cfg.Filter); err != nil {
			return nil, fmt.Errorf("attach filter on %s: %w", cfg.Iface, err)
		}
	}
	pfd := C.pcap_get_selectable_fd(p)
	if pfd < 0 {
		return nil, fmt.Errorf("libpcap on %s has no selectable descriptor: %w", cfg.Iface, capture.ErrNotSupported)
	}
	var wake [2]C.int
	if rc := C.pv_pipe(&wake[0]); rc != 0 {
		return nil, fmt.Errorf("create wake pipe: %w", syscall.Errno(-rc))
	}
	s := &Source{
		cfg:      cfg,
		linkType: uint32(C.pv_linktype(C.pcap_datalink(p))),
		pfd:      pfd,
		wakeR:    wake[0],
		wakeW:    wake[1],
		p:        p,
		arena:    make([]byte, arenaSize),
		hdrs:     make([]C.pv_hdr, batchLimit(cfg.Snaplen)),
	}
	if C.pcap_get_tstamp_precision(p) == C.PCAP_TSTAMP_PRECISION_NANO {
		s.nano = 1
	}
	ok = true
	return s, nil
}

// setOptions applies cfg to the not yet activated handle p.
func setOptions(p *C.pcap_t, cfg Config) error {
	if C.pcap_set_snaplen(p, C.int(cfg.Snaplen)) != 0 {
		return fmt.Errorf("set snaplen %d", cfg.Snaplen)
	}
	promisc := C.int(0)
	if cfg.Promisc {
		promisc = 1
	}
	if C.pcap_set_promisc(p, promisc) != 0 {
		return errors.New("set promiscuous mode")
	}
	immediate := C.int(1)
	if cfg.DisableImmediate {
		immediate = 0
	}
	if C.pcap_set_immediate_mode(p, immediate) != 0 {
		return errors.New("set immediate mode")
	}
	if C.pcap_set_buffer_size(p, C.int(cfg.BufferSize)) != 0 {
		return fmt.Errorf("set buffer size %d", cfg.BufferSize)
	}
	if C.pcap_set_timeout(p, C.int(cfg.Timeout.Milliseconds())) != 0 {
		return fmt.Errorf("set timeout %v", cfg.Timeout)
	}
	// Nanosecond time stamps where the platform has them; microseconds
	// otherwise (the precision is read back after activation).
	C.pcap_set_tstamp_precision(p, C.PCAP_TSTAMP_PRECISION_NANO)
	return nil
}

// activateError maps a negative pcap_activate result to an error.
func activateError(p *C.pcap_t, iface string, rc C.int) error {
	msg := C.GoString(C.pcap_geterr(p))
	if msg == "" {
		msg = C.GoString(C.pcap_statustostr(rc))
	}
	switch rc {
	case C.PCAP_ERROR_NO_SUCH_DEVICE:
		return fmt.Errorf("activate libpcap: %w", &NoSuchInterfaceError{Iface: iface})
	case C.PCAP_ERROR_PERM_DENIED:
		return fmt.Errorf("activate libpcap on %s: permission denied, capturing needs root or CAP_NET_RAW (%s): %w",
			iface, msg, capture.ErrNotSupported)
	case C.PCAP_ERROR_IFACE_NOT_UP:
		return fmt.Errorf("activate libpcap on %s: interface is down: %s", iface, msg)
	}
	return fmt.Errorf("activate libpcap on %s: %s", iface, msg)
}

// setFilter compiles expr for the activated handle p and attaches it.
func setFilter(p *C.pcap_t, expr string) error {
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var prog C.struct_bpf_program
	if C.pcap_compile(p, &prog, cexpr, 1, C.PCAP_NETMASK_UNKNOWN) != 0 {
		return fmt.Errorf("compile filter %q: %s", expr, C.GoString(C.pcap_geterr(p)))
	}
	defer C.pcap_freecode(&prog)
	if C.pcap_setfilter(p, &prog) != 0 {
		return fmt.Errorf("set filter %q: %s", expr, C.GoString(C.pcap_geterr(p)))
	}
	return nil
}

// ReadBatch implements [capture.Source]. It fills frames[:n] with at most
// min(len(frames), 4 MiB/Snaplen, 8192) packets, waiting up to the
// configured Timeout (then n == 0, nil error) when none is pending. The
// frames alias the source's arena until the next ReadBatch or Close.
// After Close it returns an error wrapping [net.ErrClosed]; when ctx is
// done, ctx.Err() within 100 ms.
func (s *Source) ReadBatch(ctx context.Context, frames []capture.Frame) (int, error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closing.Load() {
		return 0, s.closedErr()
	}
	if err := s.pending; err != nil {
		s.pending = nil
		return 0, err
	}
	if len(frames) == 0 {
		return 0, nil
	}
	limit := min(len(frames), len(s.hdrs))
	left := s.cfg.Timeout
	var start time.Time
	if left > maxWaitSlice {
		start = time.Now()
	}
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		wait := min(left, maxWaitSlice)
		var n C.int
		rc := C.pv_read(s.p, s.pfd, s.wakeR, C.int(wait.Milliseconds()),
			(*C.u_char)(unsafe.Pointer(&s.arena[0])), C.uint32_t(len(s.arena)), C.uint32_t(s.cfg.Snaplen),
			&s.hdrs[0], C.int(limit), s.nano, &n)
		var err error
		if rc != 0 {
			err = s.readErr(rc)
		}
		if n > 0 {
			s.pending = err
			return s.fill(frames, int(n)), nil
		}
		if err != nil {
			return 0, err
		}
		if start.IsZero() {
			return 0, nil
		}
		if left = s.cfg.Timeout - time.Since(start); left < time.Millisecond {
			return 0, nil
		}
	}
}

// fill turns the first n headers into frames.
func (s *Source) fill(frames []capture.Frame, n int) int {
	for i := range n {
		h := &s.hdrs[i]
		off, end := int(h.off), int(h.off)+int(h.caplen)
		frames[i] = capture.Frame{
			Data:    s.arena[off:end:end],
			TS:      int64(h.ts),
			WireLen: int(h.wirelen),
		}
	}
	s.delivered.Add(uint64(n))
	return n
}

// readErr maps a PV_ code of pv_read to an error.
func (s *Source) readErr(rc C.int) error {
	switch {
	case rc == C.PV_BREAK || rc == C.PV_WOKEN:
		return s.closedErr()
	case rc == C.PV_FDERR:
		return fmt.Errorf("read libpcap on %s: capture descriptor reports an error (interface gone or down?)", s.cfg.Iface)
	case rc <= C.PV_ERRNO:
		return fmt.Errorf("poll libpcap on %s: %w", s.cfg.Iface, syscall.Errno(C.PV_ERRNO-rc))
	}
	return fmt.Errorf("read libpcap on %s: %s", s.cfg.Iface, C.GoString(C.pcap_geterr(s.p)))
}

func (s *Source) closedErr() error {
	return fmt.Errorf("read libpcap on %s: %w", s.cfg.Iface, net.ErrClosed)
}

// LinkType implements [capture.Source]: the LINKTYPE_ of pcap_datalink.
func (s *Source) LinkType() uint32 { return s.linkType }

// Stats implements [capture.Source]. Packets counts frames delivered by
// ReadBatch; Drops is libpcap's ps_drop (packets the kernel dropped for
// lack of buffer space) and IfDrops its ps_ifdrop (on Linux only counted
// in promiscuous mode), both cumulative since Open.
func (s *Source) Stats() (capture.Stats, error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closing.Load() {
		return capture.Stats{}, fmt.Errorf("libpcap stats on %s: %w", s.cfg.Iface, net.ErrClosed)
	}
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	var ps C.struct_pcap_stat
	if C.pcap_stats(s.p, &ps) != 0 {
		return capture.Stats{}, fmt.Errorf("libpcap stats on %s: %s", s.cfg.Iface, C.GoString(C.pcap_geterr(s.p)))
	}
	return capture.Stats{
		Packets: s.delivered.Load(),
		Drops:   uint64(ps.ps_drop),
		IfDrops: uint64(ps.ps_ifdrop),
	}, nil
}

// Close implements [capture.Source]. It wakes a waiting ReadBatch (which
// then returns an error wrapping [net.ErrClosed]), waits for running calls
// into libpcap to finish, and closes the handle. Later calls do nothing.
func (s *Source) Close() error {
	s.once.Do(func() {
		s.closing.Store(true)
		C.pv_wake(s.wakeW)
		C.pcap_breakloop(s.p)
		s.life.Lock()
		defer s.life.Unlock()
		C.pcap_close(s.p)
		s.p = nil
		C.pv_close(s.wakeR)
		C.pv_close(s.wakeW)
	})
	return nil
}

// Version returns libpcap's version string (pcap_lib_version), such as
// "libpcap version 1.10.3 (with TPACKET_V3)".
func Version() string {
	return C.GoString(C.pcap_lib_version())
}

// InterfaceAddrs returns the IPv4 and IPv6 addresses libpcap lists for
// iface (pcap_findalldevs), as pktvisor uses them to detect host
// addresses. Each prefix holds the host address (not masked) with the
// length of its netmask; call Masked for the network. It returns a
// [*NoSuchInterfaceError] when libpcap does not list iface.
func InterfaceAddrs(iface string) ([]netip.Prefix, error) {
	var errbuf [C.PCAP_ERRBUF_SIZE]C.char
	var all *C.pcap_if_t
	if C.pcap_findalldevs(&all, &errbuf[0]) != 0 {
		return nil, fmt.Errorf("list interfaces: %s", C.GoString(&errbuf[0]))
	}
	defer C.pcap_freealldevs(all)
	for d := all; d != nil; d = d.next {
		if C.GoString(d.name) != iface {
			continue
		}
		var out []netip.Prefix
		for a := d.addresses; a != nil; a = a.next {
			var raw [16]byte
			var bits C.int
			switch C.pv_addr(a.addr, a.netmask, (*C.uint8_t)(unsafe.Pointer(&raw[0])), &bits) {
			case 4:
				out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte(raw[:4])), int(bits)))
			case 6:
				out = append(out, netip.PrefixFrom(netip.AddrFrom16(raw), int(bits)))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("list addresses: %w", &NoSuchInterfaceError{Iface: iface})
}
