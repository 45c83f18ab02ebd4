//go:build linux

// Package netnstest builds throw-away network namespaces and veth pairs
// for tests that capture real traffic. It is imported by tests only.
//
// Every constructor takes a testing.TB, skips it when the kernel or the
// privileges are missing, fails it on unexpected errors, and registers
// tb.Cleanup to tear down what it made, so callers never close anything.
package netnstest

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// RequireRoot skips tb unless the test runs as root. caps names the
// capabilities the test needs, for the skip message.
func RequireRoot(tb testing.TB, caps ...string) {
	tb.Helper()
	if os.Geteuid() == 0 {
		return
	}
	need := "needs root"
	if len(caps) > 0 {
		need += " (" + strings.Join(caps, ", ") + ")"
	}
	tb.Skip(need + ": run with go test -exec sudo")
}

// Do runs fn on an OS thread switched into ns and switches the thread back
// to its original namespace; the calling goroutine's thread is untouched.
// A thread that cannot be switched back stays locked, so the runtime
// retires it when its goroutine ends instead of reusing it in the wrong
// namespace. fn must not call runtime.UnlockOSThread.
//
// Do takes no testing.TB: callers decide whether fn's error is a failure.
func Do(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter netns: %w", err) // thread stays locked
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("return to netns: %w", err))
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// New creates an unnamed network namespace with IPv6 disabled and lo up,
// or skips tb when that is not possible here. The namespace lives until
// tb's cleanup closes the handle (and every socket opened in it).
func New(tb testing.TB) netns.NsHandle {
	tb.Helper()
	ns, err := create(netns.New)
	if err != nil {
		tb.Skipf("netns: %v", err)
	}
	tb.Cleanup(func() { ns.Close() })
	return ns
}

// NewNamed is New for a namespace bind-mounted at /run/netns/name, so
// that tools such as `ip -n name` see it. tb's cleanup closes the handle
// and deletes the name.
func NewNamed(tb testing.TB, name string) netns.NsHandle {
	tb.Helper()
	made := false
	ns, err := create(func() (netns.NsHandle, error) {
		ns, err := netns.NewNamed(name)
		made = err == nil
		return ns, err
	})
	if err != nil {
		if made { // created but not set up; never delete a name we did not make
			_ = netns.DeleteNamed(name)
		}
		tb.Skipf("netns %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ns.Close()
		if err := netns.DeleteNamed(name); err != nil {
			tb.Errorf("delete netns %s: %v", name, err)
		}
	})
	return ns
}

// create makes a namespace with newNS, which must move the calling thread
// into it, and sets it up from inside.
func create(newNS func() (netns.NsHandle, error)) (netns.NsHandle, error) {
	type result struct {
		ns  netns.NsHandle
		err error
	}
	rc := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			rc <- result{err: fmt.Errorf("get current netns: %w", err)}
			return
		}
		defer orig.Close()
		ns, err := newNS() // moves this thread into ns
		if err != nil {
			_ = netns.Set(orig)
			rc <- result{err: fmt.Errorf("create netns: %w", err)} // thread stays locked
			return
		}
		err = setup()
		if serr := netns.Set(orig); serr != nil {
			ns.Close()
			rc <- result{err: fmt.Errorf("return to netns: %w", serr)}
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		if err != nil {
			ns.Close()
			ns = netns.None()
		}
		rc <- result{ns, err}
	}()
	r := <-rc
	return r.ns, r.err
}

// setup runs inside a new namespace: IPv6 off, lo up.
func setup() error {
	if err := disableIPv6(); err != nil {
		return err
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// DisableIPv6 turns IPv6 off for all present and future interfaces in ns,
// so no router or neighbour solicitation disturbs exact packet counts.
// New and NewNamed already do this.
func DisableIPv6(tb testing.TB, ns netns.NsHandle) {
	tb.Helper()
	if err := Do(ns, disableIPv6); err != nil {
		tb.Fatal(err)
	}
}

// disableIPv6 is DisableIPv6 for the calling thread's namespace. A kernel
// without IPv6 has nothing to disable.
func disableIPv6() error {
	for _, p := range []string{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"} {
		if err := os.WriteFile(p, []byte("1"), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("disable ipv6: %w", err)
		}
	}
	return nil
}

// Link is one end of a veth pair.
type Link struct {
	NS    netns.NsHandle // namespace the link is in
	Name  string
	Index int
	MAC   net.HardwareAddr
}

// VethConfig describes a veth pair.
type VethConfig struct {
	Name, PeerName string           // interface names of the two ends
	MAC, PeerMAC   net.HardwareAddr // nil lets the kernel choose
	Queues         int              // TX and RX queues of each end; 0 means 1
	// TxQLen is the txqueuelen of both ends; -1 keeps the kernel default.
	// A veth has no qdisc, so it rarely matters.
	TxQLen int
}

// NewVeth creates a veth pair with cfg.Name in ns and cfg.PeerName in
// peerNS, both down and without addresses, or skips tb when veth is not
// available. tb's cleanup deletes the pair.
func NewVeth(tb testing.TB, ns, peerNS netns.NsHandle, cfg VethConfig) (link, peer Link) {
	tb.Helper()
	q := max(cfg.Queues, 1)
	h := handle(tb, ns)
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{
			Name: cfg.Name, HardwareAddr: cfg.MAC, TxQLen: cfg.TxQLen,
			NumTxQueues: q, NumRxQueues: q,
		},
		PeerName:         cfg.PeerName,
		PeerHardwareAddr: cfg.PeerMAC,
		PeerNamespace:    netlink.NsFd(peerNS),
		PeerTxQLen:       cfg.TxQLen,
		PeerNumTxQueues:  uint32(q),
		PeerNumRxQueues:  uint32(q),
	}
	if err := h.LinkAdd(veth); err != nil {
		tb.Skipf("create veth: %v", err)
	}
	// Deleting one end deletes both; closing the namespaces would too.
	tb.Cleanup(func() {
		if l, err := h.LinkByName(cfg.Name); err == nil {
			_ = h.LinkDel(l)
		}
	})
	return lookup(tb, h, ns, cfg.Name), lookup(tb, handle(tb, peerNS), peerNS, cfg.PeerName)
}

// handle opens a netlink handle in ns, closed by tb's cleanup.
func handle(tb testing.TB, ns netns.NsHandle) *netlink.Handle {
	tb.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		tb.Fatalf("netlink handle: %v", err)
	}
	tb.Cleanup(h.Close)
	return h
}

func lookup(tb testing.TB, h *netlink.Handle, ns netns.NsHandle, name string) Link {
	tb.Helper()
	l, err := h.LinkByName(name)
	if err != nil {
		tb.Fatalf("find %s: %v", name, err)
	}
	return Link{NS: ns, Name: name, Index: l.Attrs().Index, MAC: l.Attrs().HardwareAddr}
}

// AddrUp adds addr to l and sets l up.
func AddrUp(tb testing.TB, l Link, addr netip.Prefix) {
	tb.Helper()
	h := handle(tb, l.NS)
	nl, err := h.LinkByIndex(l.Index)
	if err != nil {
		tb.Fatalf("find %s: %v", l.Name, err)
	}
	ipnet := &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), addr.Addr().BitLen())}
	if err := h.AddrAdd(nl, &netlink.Addr{IPNet: ipnet}); err != nil {
		tb.Fatalf("address %s: %v", l.Name, err)
	}
	if err := h.LinkSetUp(nl); err != nil {
		tb.Fatalf("set %s up: %v", l.Name, err)
	}
}

// SetNeigh adds a permanent neighbour entry ip -> mac on l, so l never
// resolves ip and no ARP frame crosses the link.
func SetNeigh(tb testing.TB, l Link, ip netip.Addr, mac net.HardwareAddr) {
	tb.Helper()
	n := &netlink.Neigh{LinkIndex: l.Index, IP: ip.AsSlice(), HardwareAddr: mac, State: netlink.NUD_PERMANENT}
	if err := handle(tb, l.NS).NeighSet(n); err != nil {
		tb.Fatalf("static neighbour %v on %s: %v", ip, l.Name, err)
	}
}

// PairConfig describes a veth pair between two fresh namespaces.
type PairConfig struct {
	VethConfig
	Addr, PeerAddr netip.Prefix // addresses of the two ends
	// StaticNeigh adds permanent neighbour entries both ways.
	StaticNeigh bool
}

// Pair is a veth pair between two fresh namespaces, addressed and up.
type Pair struct {
	Link, Peer Link
}

// NewPair creates two namespaces with New and a veth pair between them
// with NewVeth, adds the addresses and sets both ends up. It skips tb
// when that is not possible here; tb's cleanup tears everything down.
func NewPair(tb testing.TB, cfg PairConfig) *Pair {
	tb.Helper()
	ns, peerNS := New(tb), New(tb)
	var p Pair
	p.Link, p.Peer = NewVeth(tb, ns, peerNS, cfg.VethConfig)
	AddrUp(tb, p.Link, cfg.Addr)
	AddrUp(tb, p.Peer, cfg.PeerAddr)
	if cfg.StaticNeigh {
		SetNeigh(tb, p.Peer, cfg.Addr.Addr(), p.Link.MAC)
		SetNeigh(tb, p.Link, cfg.PeerAddr.Addr(), p.Peer.MAC)
	}
	return &p
}

// Sender writes whole Ethernet frames out of one link through a send-only
// AF_PACKET socket, so each frame can carry any headers.
type Sender struct {
	fd int
	sa unix.SockaddrLinklayer
}

// NewSender opens a Sender on l, addressed to dst. tb's cleanup closes it.
func NewSender(tb testing.TB, l Link, dst net.HardwareAddr) *Sender {
	tb.Helper()
	s := &Sender{fd: -1, sa: unix.SockaddrLinklayer{Ifindex: l.Index, Halen: 6}}
	copy(s.sa.Addr[:], dst)
	if err := Do(l.NS, func() (err error) {
		s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0) // protocol 0: send only
		return err
	}); err != nil {
		tb.Fatalf("sender socket: %v", err)
	}
	tb.Cleanup(func() { unix.Close(s.fd) })
	return s
}

// Send transmits one frame. ENOBUFS means the veth dropped it (its queue
// was full), so retrying cannot duplicate it; EAGAIN and EINTR are
// retried too.
func (s *Sender) Send(frame []byte) error {
	for {
		err := unix.Sendto(s.fd, frame, 0, &s.sa)
		if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			runtime.Gosched()
			continue
		}
		return err
	}
}
