package tcpasm

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// checkTable verifies that every flow in t is stored under its flow's hash,
// is reachable from its home slot without crossing an empty slot, and that
// the count and load factor are right.
func checkTable(tb testing.TB, t *table) {
	tb.Helper()
	n := 0
	for i, s := range t.slots {
		if s.f == nil {
			continue
		}
		n++
		if s.hash != s.f.hash {
			tb.Fatalf("slot %d: hash %#x, flow hash %#x", i, s.hash, s.f.hash)
		}
		for j := s.hash & t.mask; j != uint64(i); j = (j + 1) & t.mask {
			if t.slots[j].f == nil {
				tb.Fatalf("slot %d: empty slot %d on its probe path", i, j)
			}
		}
	}
	if n != t.n {
		tb.Fatalf("table holds %d flows, counts %d", n, t.n)
	}
	if n*4 > len(t.slots)*3 {
		tb.Fatalf("load %d/%d above 3/4", n, len(t.slots))
	}
}

// TestTable checks the table against a Go map under random inserts and
// removals, with hashes confined to a few home slots (long chains that
// wrap around the end) and with real key hashes.
func TestTable(t *testing.T) {
	tests := []struct {
		name  string
		homes uint64 // hashes are forced into [mask-homes+1, mask] when non-zero
	}{
		{"key hashes", 0},
		{"colliding hashes wrapping around", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			var tab table
			tab.init()
			ref := map[flowKey]*flow{}
			var live []*flow
			newFlow := func(i int) *flow {
				f := &flow{key: flowKey{a0lo: uint64(i), a1lo: uint64(i) * 7, ports: uint32(i)}}
				f.hash = tab.hash(&f.key)
				if tt.homes != 0 {
					// Stays in the last homes slots of any table size
					// up to 2^16, since only the top bits vary.
					f.hash = tab.hash(&f.key)&^0xffff | (0xffff - f.hash%tt.homes)
				}
				return f
			}
			lookup := func(f *flow) *flow { return tab.get(&f.key, f.hash) }
			for i := range 3000 {
				if len(live) > 0 && rng.IntN(3) == 0 {
					k := rng.IntN(len(live))
					f := live[k]
					live[k] = live[len(live)-1]
					live = live[:len(live)-1]
					tab.remove(f)
					delete(ref, f.key)
					if lookup(f) != nil {
						t.Fatalf("removed flow %d still found", f.key.a0lo)
					}
				} else {
					f := newFlow(i)
					if lookup(f) != nil {
						t.Fatalf("new flow %d found before insert", i)
					}
					tab.insert(f)
					ref[f.key] = f
					live = append(live, f)
				}
				if i%97 == 0 {
					checkTable(t, &tab)
				}
			}
			checkTable(t, &tab)
			if tt.homes != 0 && len(tab.slots) > 1<<16 {
				t.Fatalf("table grew to %d slots, test assumes at most 2^16", len(tab.slots))
			}
			for _, f := range ref {
				if lookup(f) != f {
					t.Fatalf("flow %d not found", f.key.a0lo)
				}
			}
		})
	}
}

// TestKeyOf checks that both directions of a flow share a key, that side 0
// follows netip.Addr.Compare order, and that IPv4 and IPv4-mapped IPv6 stay
// apart.
func TestKeyOf(t *testing.T) {
	pkt := func(src, dst string, sp, dp uint16) *decode.Packet {
		return &decode.Packet{
			L4: decode.L4TCP, SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst),
			SrcPort: sp, DstPort: dp,
		}
	}
	tests := []struct {
		name  string
		p     *decode.Packet
		wantD int
	}{
		{"v4 smaller source", pkt("10.0.0.1", "10.0.0.2", 40000, 53), 0},
		{"v4 larger source", pkt("10.0.0.2", "10.0.0.1", 53, 40000), 1},
		{"v4 same address, port order", pkt("127.0.0.1", "127.0.0.1", 40000, 53), 1},
		{"v4 same address, smaller port", pkt("127.0.0.1", "127.0.0.1", 53, 40000), 0},
		{"v6 high half decides", pkt("2001:db8:1::1", "2001:db8::2", 1, 2), 1},
		{"v6 low half decides", pkt("2001:db8::1", "2001:db8::2", 9, 2), 0},
		{"v4 before v6", pkt("::1", "10.0.0.1", 1, 2), 1},
		{"same address and port", pkt("10.0.0.1", "10.0.0.1", 7, 7), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k, rk flowKey
			var seed [3]uint64
			h, d := keyOf(tt.p, &k, &seed)
			if want := hashWords(&seed, k.a0hi, k.a0lo, k.a1hi, k.a1lo, uint64(k.ports)<<1|uint64(k.v6)); h != want {
				t.Errorf("hash %#x, want %#x", h, want)
			}
			if d != tt.wantD {
				t.Errorf("direction %d, want %d", d, tt.wantD)
			}
			// The reply shares the key and has the other direction
			// (unless both endpoints are equal).
			r := *tt.p
			r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = r.DstIP, r.SrcIP, r.DstPort, r.SrcPort
			rh, rd := keyOf(&r, &rk, &seed)
			if rh != h {
				t.Errorf("reply hash %#x, want %#x", rh, h)
			}
			if rk != k {
				t.Errorf("reply key %+v, want %+v", rk, k)
			}
			if r.SrcIP != r.DstIP || r.SrcPort != r.DstPort {
				if rd != 1-d {
					t.Errorf("reply direction %d, want %d", rd, 1-d)
				}
			}
			// Side 0 is the smaller endpoint in Compare order.
			lo := tt.p.SrcIP
			if d == 1 {
				lo = tt.p.DstIP
			}
			if c := tt.p.SrcIP.Compare(tt.p.DstIP); c != 0 && (lo.Compare(tt.p.SrcIP) > 0 || lo.Compare(tt.p.DstIP) > 0) {
				t.Errorf("side 0 is %v, not the smaller address", lo)
			}
		})
	}
	var v4, mapped flowKey
	var seed [3]uint64
	keyOf(pkt("10.0.0.1", "10.0.0.2", 1, 2), &v4, &seed)
	keyOf(pkt("::ffff:10.0.0.1", "::ffff:10.0.0.2", 1, 2), &mapped, &seed)
	if v4 == mapped {
		t.Errorf("IPv4 and IPv4-mapped IPv6 flows share key %+v", v4)
	}
}
