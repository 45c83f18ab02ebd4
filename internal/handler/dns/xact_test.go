package dns

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func TestXactKeyDirectionIndependent(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name string
		x, y xactKey
		same bool
	}{
		{"reversed", makeXactKey(a, b, 1000, 53, 7, false), makeXactKey(b, a, 53, 1000, 7, false), true},
		{"same address, ports reversed", makeXactKey(a, a, 1000, 53, 7, false), makeXactKey(a, a, 53, 1000, 7, false), true},
		{"other id", makeXactKey(a, b, 1000, 53, 7, false), makeXactKey(b, a, 53, 1000, 8, false), false},
		{"tcp", makeXactKey(a, b, 1000, 53, 7, false), makeXactKey(a, b, 1000, 53, 7, true), false},
		{"other port", makeXactKey(a, b, 1000, 53, 7, false), makeXactKey(a, b, 1001, 53, 7, false), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.x == tt.y) != tt.same {
				t.Errorf("keys equal = %v, want %v", tt.x == tt.y, tt.same)
			}
			if tt.same && tt.x.hash() != tt.y.hash() {
				t.Error("equal keys hash differently")
			}
		})
	}
}

// model is the obvious implementation of the table's contract: open
// queries in arrival order.
type model struct {
	ttl     int64
	max     int
	open    []xactEntry
	evicted uint64
}

func (m *model) find(k xactKey) int {
	return slices.IndexFunc(m.open, func(e xactEntry) bool { return e.key == k })
}

func (m *model) start(k xactKey, ts int64, size int) {
	if i := m.find(k); i >= 0 {
		m.open = slices.Delete(m.open, i, i+1)
	}
	if len(m.open) >= m.max {
		m.open = m.open[1:]
		m.evicted++
	}
	m.open = append(m.open, xactEntry{key: k, ts: ts, size: uint32(size)})
}

func (m *model) end(k xactKey, ts int64) (xactResult, int64, int) {
	i := m.find(k)
	if i < 0 {
		return xactNone, 0, 0
	}
	e := m.open[i]
	m.open = slices.Delete(m.open, i, i+1)
	if ts-e.ts > m.ttl {
		return xactTimedOut, 0, 0
	}
	return xactValid, max(ts-e.ts, 0), int(e.size)
}

func (m *model) purge(ts int64) uint64 {
	n := 0
	for n < len(m.open) && ts-m.open[n].ts > m.ttl {
		n++
	}
	m.open = m.open[n:]
	return uint64(n)
}

// TestXactTableModel drives the table and the model with the same random
// operations over a small key space (many collisions, growth, compaction
// and eviction) and compares every answer.
func TestXactTableModel(t *testing.T) {
	tests := []struct {
		name         string
		max, keys    int
		ops          int
		startPercent int
	}{
		{name: "evicting", max: 8, keys: 40, ops: 20000, startPercent: 60},
		{name: "growing", max: 5000, keys: 4000, ops: 20000, startPercent: 80},
		{name: "compacting", max: 1024, keys: 3000, ops: 60000, startPercent: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.max)))
			const ttl = int64(1000)
			tab := newXactTable(ttl, tt.max)
			m := &model{ttl: ttl, max: tt.max}
			keys := make([]xactKey, tt.keys)
			for i := range keys {
				a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
				keys[i] = makeXactKey(a, netip.MustParseAddr("10.9.9.9"), uint16(1024+i%7), 53, uint16(i%5), i%3 == 0)
			}
			ts := int64(0)
			for op := range tt.ops {
				ts += int64(rng.IntN(3))
				k := keys[rng.IntN(len(keys))]
				switch r := rng.IntN(1000); {
				case r == 0:
					if got, want := tab.Purge(ts), m.purge(ts); got != want {
						t.Fatalf("op %d: Purge = %d, want %d", op, got, want)
					}
				case r < tt.startPercent*10:
					size := rng.IntN(512)
					tab.Start(&k, ts, size)
					m.start(k, ts, size)
				default:
					r1, d1, s1 := tab.End(&k, ts)
					r2, d2, s2 := m.end(k, ts)
					if r1 != r2 || d1 != d2 || s1 != s2 {
						t.Fatalf("op %d: End = %v %d %d, want %v %d %d", op, r1, d1, s1, r2, d2, s2)
					}
				}
				if tab.Open() != len(m.open) || tab.evicted != m.evicted {
					t.Fatalf("op %d: open %d evicted %d, want %d %d", op, tab.Open(), tab.evicted, len(m.open), m.evicted)
				}
			}
			if len(tab.ring) > 1<<13 {
				t.Errorf("ring grew to %d", len(tab.ring))
			}
		})
	}
}

func TestXactTableNoAllocs(t *testing.T) {
	tab := newXactTable(DefaultXactTTLNanos, 4096)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.53")
	// Warm up to the largest ring this traffic needs.
	for i := range 3000 {
		k := makeXactKey(a, b, uint16(i), 53, uint16(i), false)
		tab.Start(&k, int64(i), 40)
	}
	for i := range 3000 {
		k := makeXactKey(b, a, 53, uint16(i), uint16(i), false)
		tab.End(&k, int64(i+1))
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		k := makeXactKey(a, b, uint16(i), 53, uint16(i), false)
		tab.Start(&k, int64(i), 40)
		tab.End(&k, int64(i+5))
	})
	if allocs != 0 {
		t.Errorf("%v allocs per query/reply, want 0", allocs)
	}
}
