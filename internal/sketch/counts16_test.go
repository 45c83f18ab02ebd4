package sketch

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCounts16MatchesTopN: while a TopN holds every key (no purge), a
// Counts16 fed the same updates reports the same Top lists, with and
// without a percentile cut, and the same total.
func TestCounts16MatchesTopN(t *testing.T) {
	for _, tc := range []struct {
		name     string
		distinct int
		n        int
	}{
		{"rcodes", 16, 5000},
		{"qtypes", 300, 50000},
		{"ports at the TopN limit", 6000, 100000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(tc.distinct)))
			top, cnt := NewTopN(0), NewCounts16(1<<16)
			var key [2]byte
			for range tc.n {
				r := rng.Float64()
				k := uint16(r * r * float64(tc.distinct)) // skewed: some keys heavy
				w := uint64(rng.IntN(3))                  // zero weights included
				binary.BigEndian.PutUint16(key[:], k)
				top.Update(key[:], w)
				cnt.Add(k, w)
			}
			if top.MaxError() != 0 {
				t.Fatal("the TopN purged: the case is not exact")
			}
			if cnt.Total() != top.Total() || cnt.Len() != top.Len() {
				t.Fatalf("total/len %d/%d, TopN's %d/%d", cnt.Total(), cnt.Len(), top.Total(), top.Len())
			}
			format := func(b []byte) string { return fmt.Sprint(binary.BigEndian.Uint16(b)) }
			for _, n := range []int{1, 10, 50, 100000} {
				for _, p := range []float64{0, 50, 99} {
					if got, want := cnt.Top(n, p, format), top.Top(n, p, format); !slices.Equal(got, want) {
						t.Fatalf("Top(%d, %v) = %v, TopN's %v", n, p, got, want)
					}
				}
			}
		})
	}
}

// TestCounts16Exact: with all 65,536 keys (past what a TopN holds) the
// counts and the Top list stay exact; merge, reset and size limits.
func TestCounts16Exact(t *testing.T) {
	c := NewCounts16(1 << 16)
	truth := make([]uint64, 1<<16)
	rng := rand.New(rand.NewPCG(9, 9))
	for range 500000 {
		k := uint16(rng.Uint32())
		if rng.IntN(10) == 0 {
			k = 53 // one heavy key
		}
		c.Add(k, 1)
		truth[k]++
	}
	for k := range truth {
		if c.Count(uint16(k)) != truth[k] {
			t.Fatalf("Count(%d) = %d, want %d", k, c.Count(uint16(k)), truth[k])
		}
	}
	top := c.Top(3, 0, nil)
	if len(top) != 3 || top[0].Name != "\x00\x35" || top[0].Estimate != truth[53] {
		t.Fatalf("Top(3) = %v, want key 53 first with %d", top, truth[53])
	}
	// The other two are the heaviest of the rest, by weight then name.
	rest := slices.Clone(truth)
	rest[53] = 0
	for i, it := range top[1:] {
		k := binary.BigEndian.Uint16([]byte(it.Name))
		if it.Estimate != truth[k] || it.Estimate != slices.Max(rest) {
			t.Fatalf("Top[%d] = %v (true %d), want the maximum %d", i+1, it, truth[k], slices.Max(rest))
		}
		rest[k] = 0
	}

	// Merge doubles with itself and adds another.
	d := NewCounts16(1 << 16)
	d.Merge(c)
	d.Merge(d)
	if d.Count(53) != 2*truth[53] || d.Total() != 2*c.Total() || d.Len() != c.Len() {
		t.Fatalf("merged: count(53) %d, total %d, len %d", d.Count(53), d.Total(), d.Len())
	}
	d.Reset()
	if d.Len() != 0 || d.Total() != 0 || d.Count(53) != 0 || d.Top(10, 0, nil) != nil {
		t.Fatal("Reset left weight behind")
	}
	d.Add(7, 2)
	if got := d.Top(10, 0, nil); len(got) != 1 || got[0].Estimate != 2 {
		t.Fatalf("after Reset and Add: %v", got)
	}

	// Keys at or above size are ignored.
	r := NewCounts16(16)
	r.Add(15, 1)
	r.Add(16, 1)
	r.Add(0xffff, 1)
	if r.Len() != 1 || r.Total() != 1 || r.Count(16) != 0 {
		t.Fatalf("size 16: len %d total %d", r.Len(), r.Total())
	}
}

// TestCounts16Overflow: weights past the low byte, and past 32 bits, are
// kept, one at a time and in large steps.
func TestCounts16Overflow(t *testing.T) {
	c := NewCounts16(1 << 16)
	for range 1000 {
		c.Add(3, 1)
	}
	if c.Count(3) != 1000 || c.Len() != 1 {
		t.Fatalf("count %d, len %d after 1000 single adds", c.Count(3), c.Len())
	}
	c.Reset()
	c.Add(1, 1<<32-1)
	c.Add(1, 1)
	c.Add(1, 5)
	c.Add(2, 1<<40)
	if c.Count(1) != 1<<32+5 || c.Count(2) != 1<<40 || c.Len() != 2 {
		t.Fatalf("counts %d, %d, len %d", c.Count(1), c.Count(2), c.Len())
	}
	c.Add(1, 1<<32-5) // low bits wrap to exactly 0: still one key
	if c.Count(1) != 2<<32 || c.Len() != 2 {
		t.Fatalf("count %d, len %d", c.Count(1), c.Len())
	}
	m := NewCounts16(1 << 16)
	m.Merge(c)
	m.Merge(c)
	if m.Count(1) != 4<<32 || m.Count(2) != 2<<40 {
		t.Fatalf("merged counts %d, %d", m.Count(1), m.Count(2))
	}
	if top := m.Top(1, 0, nil); top[0].Estimate != 2<<40 {
		t.Fatalf("Top = %v", top)
	}
}

func BenchmarkCounts16Add(b *testing.B) {
	c := NewCounts16(1 << 16)
	b.ReportAllocs()
	for i := uint32(0); b.Loop(); i++ {
		c.Add(uint16(i*40503), 1)
	}
}

// TestCounts16Grows: the array covers the largest key added, no more.
func TestCounts16Grows(t *testing.T) {
	c := NewCounts16(1 << 16)
	c.Add(1, 1)
	c.Add(28, 2)
	if len(c.lo) != 256 || len(c.seen) != 4 {
		t.Errorf("arrays of %d and %d words for keys 1 and 28, want 256 and 4", len(c.lo), len(c.seen))
	}
	c.Add(257, 3)
	c.Add(65535, 4)
	if len(c.lo) != 1<<16 || c.Count(1) != 1 || c.Count(28) != 2 || c.Count(257) != 3 || c.Count(65535) != 4 {
		t.Errorf("after growing: len %d, counts %d %d %d %d", len(c.lo), c.Count(1), c.Count(28), c.Count(257), c.Count(65535))
	}
	r := NewCounts16(16)
	r.Add(3, 1)
	if len(r.lo) != 16 || len(r.seen) != 1 {
		t.Errorf("size 16: arrays of %d and %d words", len(r.lo), len(r.seen))
	}
}
