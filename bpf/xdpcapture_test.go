//go:build (386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm) && linux

package bpf

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// XDP verdicts from <linux/bpf.h>.
const (
	xdpPass     = 2
	xdpRedirect = 4
)

// loadObjects loads the program into the kernel, or skips tb when that
// is not allowed here.
func loadObjects(tb testing.TB) *Objects {
	tb.Helper()
	var objs Objects
	if err := LoadObjects(&objs, nil); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, ebpf.ErrNotSupported) || os.Geteuid() != 0 {
			tb.Skipf("cannot load BPF here (needs root/CAP_BPF): %v", err)
		}
		tb.Fatalf("load: %v", err)
	}
	tb.Cleanup(func() { objs.Close() })
	return &objs
}

// sumCounters sums the per-CPU counters.
func sumCounters(tb testing.TB, m *ebpf.Map) [NumCounters]Counter {
	tb.Helper()
	var out [NumCounters]Counter
	for i := range uint32(NumCounters) {
		var per []Counter
		if err := m.Lookup(i, &per); err != nil {
			tb.Fatalf("lookup counter %d: %v", i, err)
		}
		for _, c := range per {
			out[i].Packets += c.Packets
			out[i].Bytes += c.Bytes
		}
	}
	return out
}

// frame is a crafted Ethernet frame under construction.
type frame []byte

func eth(typ uint16) frame {
	f := make(frame, 14)
	copy(f[0:6], []byte{0x02, 0, 0, 0, 0, 1})
	copy(f[6:12], []byte{0x02, 0, 0, 0, 0, 2})
	binary.BigEndian.PutUint16(f[12:], typ)
	return f
}

func (f frame) vlan(tpid, inner uint16) frame {
	// The frame's current EtherType becomes tpid; the tag carries inner.
	binary.BigEndian.PutUint16(f[len(f)-2:], tpid)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(f, 100), inner)
}

// ipv4 appends an IPv4 header with ihl 32-bit words (options zeroed).
func (f frame) ipv4(proto byte, ihl int, fragOff uint16) frame {
	h := make([]byte, max(ihl*4, 20))
	h[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(h[6:], fragOff)
	h[8], h[9] = 64, proto
	copy(h[12:16], []byte{10, 0, 0, 2})
	copy(h[16:20], []byte{10, 0, 0, 1})
	return append(f, h...)
}

func (f frame) ipv6(next byte) frame {
	h := make([]byte, 40)
	h[0] = 0x60
	h[6], h[7] = next, 64
	h[23], h[39] = 2, 1
	return append(f, h...)
}

func (f frame) udp(sport, dport uint16) frame {
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], 8)
	return append(f, h...)
}

func (f frame) tcp(sport, dport uint16) frame {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	h[12] = 5 << 4
	return append(f, h...)
}

// ihl15 sets the IPv4 header length of f to 60 bytes, past f's end.
func ihl15(f frame) frame {
	f[14] = 0x4f
	return f
}

func (f frame) bytes(n int) frame { return append(f, make([]byte, n)...) }

// pad brings f to the 60-byte Ethernet minimum, as a NIC would.
func (f frame) pad() frame {
	if len(f) < 60 {
		return f.bytes(60 - len(f))
	}
	return f
}

const (
	ethIPv4   = 0x0800
	ethIPv6   = 0x86dd
	ethARP    = 0x0806
	eth8021Q  = 0x8100
	eth8021AD = 0x88a8
)

func TestClassify(t *testing.T) {
	objs := loadObjects(t)
	tests := []struct {
		name  string
		frame frame
		want  []int // classes counted once, besides the verdict class
	}{
		{"ipv4 udp", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1000, 53).pad(), []int{CounterIPv4, CounterUDP}},
		{"ipv4 tcp", eth(ethIPv4).ipv4(unix.IPPROTO_TCP, 5, 0).tcp(1000, 443).pad(), []int{CounterIPv4, CounterTCP}},
		{"ipv4 options udp", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 7, 0).udp(1000, 53), []int{CounterIPv4, CounterUDP}},
		{"ipv4 icmp", eth(ethIPv4).ipv4(unix.IPPROTO_ICMP, 5, 0).bytes(8).pad(), []int{CounterIPv4, CounterOtherL4}},
		{"ipv4 first fragment", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0x2000).udp(1000, 53).pad(), []int{CounterIPv4, CounterUDP}},
		{"ipv4 later fragment", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 185).bytes(26), []int{CounterIPv4, CounterOtherL4}},
		{"ipv4 truncated header", eth(ethIPv4).bytes(10), []int{CounterIPv4, CounterParseErrors}},
		{"ipv4 ihl 4", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 4, 0).bytes(30), []int{CounterIPv4, CounterParseErrors}},
		{"ipv4 ihl beyond frame", ihl15(eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).pad()), []int{CounterIPv4, CounterParseErrors}},
		{"ipv4 truncated udp", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).bytes(4), []int{CounterIPv4, CounterParseErrors}},
		{"ipv4 truncated tcp", eth(ethIPv4).ipv4(unix.IPPROTO_TCP, 5, 0).bytes(12), []int{CounterIPv4, CounterParseErrors}},
		{"ipv6 udp", eth(ethIPv6).ipv6(unix.IPPROTO_UDP).udp(1000, 53), []int{CounterIPv6, CounterUDP}},
		{"ipv6 tcp", eth(ethIPv6).ipv6(unix.IPPROTO_TCP).tcp(1000, 443), []int{CounterIPv6, CounterTCP}},
		{"ipv6 hop-by-hop", eth(ethIPv6).ipv6(0).bytes(8).udp(1000, 53), []int{CounterIPv6, CounterOtherL4}},
		{"ipv6 icmpv6", eth(ethIPv6).ipv6(unix.IPPROTO_ICMPV6).bytes(8), []int{CounterIPv6, CounterOtherL4}},
		{"ipv6 truncated header", eth(ethIPv6).bytes(30), []int{CounterIPv6, CounterParseErrors}},
		{"ipv6 truncated udp", eth(ethIPv6).ipv6(unix.IPPROTO_UDP).bytes(6), []int{CounterIPv6, CounterParseErrors}},
		{"arp", eth(ethARP).bytes(28).pad(), []int{CounterOtherL3}},
		{"vlan ipv4 udp", eth(eth8021Q).vlan(eth8021Q, ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1000, 53).pad(), []int{CounterIPv4, CounterUDP}},
		{"qinq ipv6 tcp", eth(0).vlan(eth8021AD, eth8021Q).vlan(eth8021Q, ethIPv6).ipv6(unix.IPPROTO_TCP).tcp(1000, 443), []int{CounterIPv6, CounterTCP}},
		{"three vlan tags", eth(0).vlan(eth8021AD, eth8021Q).vlan(eth8021Q, eth8021Q).vlan(eth8021Q, ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1, 2), []int{CounterOtherL3}},
		{"vlan truncated tag", eth(eth8021Q).bytes(2), []int{CounterParseErrors}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := sumCounters(t, objs.Counters)
			ret, err := objs.XdpCapture.Run(&ebpf.RunOptions{Data: tt.frame})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if ret != xdpPass {
				t.Errorf("verdict %d, want XDP_PASS (%d): no socket in xsks", ret, xdpPass)
			}
			after := sumCounters(t, objs.Counters)
			want := [NumCounters]uint64{CounterRedirectFailed: 1}
			for _, c := range tt.want {
				want[c]++
			}
			for i := range NumCounters {
				dp := after[i].Packets - before[i].Packets
				db := after[i].Bytes - before[i].Bytes
				if dp != want[i] || db != want[i]*uint64(len(tt.frame)) {
					t.Errorf("%s: +%d packets +%d bytes, want +%d packets +%d bytes",
						CounterNames[i], dp, db, want[i], want[i]*uint64(len(tt.frame)))
				}
			}
		})
	}
}

func TestPortFilter(t *testing.T) {
	objs := loadObjects(t)
	if err := objs.Ports.Put(uint16(9999), uint8(1)); err != nil {
		t.Fatal(err)
	}
	if err := objs.Config.Put(uint32(0), Config{Flags: ConfigFilterPorts}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		frame   frame
		verdict int // class of the verdict
	}{
		{"udp dst 9999", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 9999).pad(), CounterRedirectFailed},
		{"udp src 9999", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(9999, 40000).pad(), CounterRedirectFailed},
		{"tcp dst 9999", eth(ethIPv4).ipv4(unix.IPPROTO_TCP, 5, 0).tcp(40000, 9999).pad(), CounterRedirectFailed},
		{"ipv6 udp dst 9999", eth(ethIPv6).ipv6(unix.IPPROTO_UDP).udp(40000, 9999), CounterRedirectFailed},
		{"udp 9998", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 9998).pad(), CounterFilteredOut},
		{"byte-swapped 9999", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 0x0f27).pad(), CounterFilteredOut},
		{"icmp", eth(ethIPv4).ipv4(unix.IPPROTO_ICMP, 5, 0).bytes(8).pad(), CounterFilteredOut},
		{"arp", eth(ethARP).bytes(28).pad(), CounterFilteredOut},
		{"later fragment", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 185).udp(40000, 9999).pad(), CounterFilteredOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := sumCounters(t, objs.Counters)
			ret, err := objs.XdpCapture.Run(&ebpf.RunOptions{Data: tt.frame})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if ret != xdpPass {
				t.Errorf("verdict %d, want XDP_PASS (%d)", ret, xdpPass)
			}
			after := sumCounters(t, objs.Counters)
			for _, c := range []int{CounterRedirected, CounterRedirectFailed, CounterFilteredOut} {
				want := uint64(0)
				if c == tt.verdict {
					want = 1
				}
				if got := after[c].Packets - before[c].Packets; got != want {
					t.Errorf("%s: +%d, want +%d", CounterNames[c], got, want)
				}
			}
		})
	}

	// Off again: everything goes to the (missing) socket.
	if err := objs.Config.Put(uint32(0), Config{}); err != nil {
		t.Fatal(err)
	}
	before := sumCounters(t, objs.Counters)
	if _, err := objs.XdpCapture.Run(&ebpf.RunOptions{Data: tests[4].frame}); err != nil {
		t.Fatal(err)
	}
	after := sumCounters(t, objs.Counters)
	if got := after[CounterRedirectFailed].Packets - before[CounterRedirectFailed].Packets; got != 1 {
		t.Errorf("filter off: redirect_failed +%d, want +1", got)
	}
}

// TestRepeat runs one frame many times: per-CPU counters add up exactly.
func TestRepeat(t *testing.T) {
	objs := loadObjects(t)
	f := eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 53).pad()
	const n = 1000
	// One run per call: the library restarts an interrupted (EINTR) run
	// of Repeat > 1 from the beginning, which would count some twice.
	for range n {
		ret, err := objs.XdpCapture.Run(&ebpf.RunOptions{Data: f, Repeat: 1})
		if err != nil {
			t.Fatal(err)
		}
		if ret != xdpPass {
			t.Fatalf("verdict %d, want XDP_PASS", ret)
		}
	}
	got := sumCounters(t, objs.Counters)
	for _, c := range []int{CounterIPv4, CounterUDP, CounterRedirectFailed} {
		if got[c].Packets != n || got[c].Bytes != n*uint64(len(f)) {
			t.Errorf("%s: %d packets %d bytes, want %d and %d", CounterNames[c], got[c].Packets, got[c].Bytes, n, n*len(f))
		}
	}
}

// TestPortFilterDrop: with ConfigDropFiltered the frames the filter leaves
// are dropped (XDP_DROP) and counted; the wanted ones still go to the
// socket map (XDP_PASS here: no socket is registered).
func TestPortFilterDrop(t *testing.T) {
	objs := loadObjects(t)
	if err := objs.Ports.Put(uint16(53), uint8(1)); err != nil {
		t.Fatal(err)
	}
	if err := objs.Config.Put(uint32(0), Config{Flags: ConfigFilterPorts | ConfigDropFiltered}); err != nil {
		t.Fatal(err)
	}
	const xdpDrop = 1
	for _, tc := range []struct {
		name    string
		frame   frame
		verdict uint32
		counter int
	}{
		{"udp 53", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 53).pad(), xdpPass, CounterRedirectFailed},
		{"udp 9999", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 9999).pad(), xdpDrop, CounterFilteredOut},
		{"arp", eth(ethARP).bytes(28).pad(), xdpDrop, CounterFilteredOut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := sumCounters(t, objs.Counters)
			ret, err := objs.XdpCapture.Run(&ebpf.RunOptions{Data: tc.frame})
			if err != nil {
				t.Fatal(err)
			}
			if ret != tc.verdict {
				t.Errorf("verdict %d, want %d", ret, tc.verdict)
			}
			after := sumCounters(t, objs.Counters)
			if got := after[tc.counter].Packets - before[tc.counter].Packets; got != 1 {
				t.Errorf("%s +%d, want +1", CounterNames[tc.counter], got)
			}
		})
	}
}
