package sketch

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// truthCounts sums the weights per key index.
func truthCounts(idx []int32, distinct int) []uint64 {
	c := make([]uint64, distinct)
	for _, i := range idx {
		c[i]++
	}
	return c
}

// topTruth returns the key indices sorted by true count descending.
func topTruth(counts []uint64) []int {
	order := make([]int, len(counts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(counts[b], counts[a]) })
	return order
}

// checkBounds asserts that every tracked item's estimate lies in [true,
// true+MaxError].
func checkBounds(tb testing.TB, t *TopN, truth map[string]uint64) {
	tb.Helper()
	for _, it := range t.Items(nil) {
		tr := truth[string(it.Key)]
		if it.Estimate < tr || it.Estimate > tr+t.MaxError() {
			tb.Fatalf("%q: estimate %d outside [%d, %d]", it.Key, it.Estimate, tr, tr+t.MaxError())
		}
	}
}

func TestTopNZipf(t *testing.T) {
	const distinct, n = 100_000, 1_000_000
	idx, keys := zipfStream(1, 1.1, distinct, n)
	counts := truthCounts(idx, distinct)
	truth := make(map[string]uint64, distinct)
	for i, c := range counts {
		truth[string(keys[i])] = c
	}
	s := NewTopN(0)
	for _, i := range idx {
		s.Update(keys[i], 1)
	}
	if s.Total() != n {
		t.Fatalf("total %d, want %d", s.Total(), n)
	}
	if s.MaxError() == 0 {
		t.Fatalf("no purge happened with %d distinct keys", distinct)
	}
	checkBounds(t, s, truth)
	want := topTruth(counts)[:10]
	got := s.Top(10, 0, nil)
	if len(got) != 10 {
		t.Fatalf("got %d items", len(got))
	}
	for r, w := range want {
		if got[r].Name != string(keys[w]) {
			t.Errorf("rank %d: got %s (%d), want %s (%d)", r, got[r].Name, got[r].Estimate, keys[w], counts[w])
		}
	}
	t.Logf("maxError %d (%.4f%% of N), tracked %d, top1 true %d est %d",
		s.MaxError(), 100*float64(s.MaxError())/n, s.Len(), counts[want[0]], got[0].Estimate)
}

func TestTopNExactBelowCapacity(t *testing.T) {
	tests := []struct {
		name     string
		distinct int
		weight   func(i int) uint64
	}{
		{"unit", 1000, func(int) uint64 { return 1 }},
		{"weighted", 6000, func(i int) uint64 { return uint64(i%97) + 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewTopN(0)
			truth := map[string]uint64{}
			for round := range 3 {
				for i := range tc.distinct {
					k := []byte("k" + strconv.Itoa((i*7+round)%tc.distinct))
					w := tc.weight(i)
					s.Update(k, w)
					truth[string(k)] += w
				}
			}
			if s.MaxError() != 0 || s.Len() != tc.distinct {
				t.Fatalf("maxError %d len %d", s.MaxError(), s.Len())
			}
			for k, w := range truth {
				if got := s.Estimate([]byte(k)); got != w {
					t.Fatalf("%s: %d, want %d", k, got, w)
				}
			}
		})
	}
}

func TestTopNMerge(t *testing.T) {
	t.Run("small exact", func(t *testing.T) {
		a, b, all := NewTopN(0), NewTopN(0), NewTopN(0)
		for i := range 3000 {
			k := []byte(strconv.Itoa(i % 500))
			w := uint64(i%5 + 1)
			if i%3 == 0 {
				a.Update(k, w)
			} else {
				b.Update(k, w)
			}
			all.Update(k, w)
		}
		a.Merge(b)
		if !slices.EqualFunc(a.Items(nil), all.Items(nil), func(x, y Item) bool {
			return bytes.Equal(x.Key, y.Key) && x.Estimate == y.Estimate
		}) {
			t.Fatal("merged items differ from the single sketch")
		}
		if a.Total() != all.Total() {
			t.Fatalf("total %d, want %d", a.Total(), all.Total())
		}
	})
	t.Run("large within bounds", func(t *testing.T) {
		const distinct = 50_000
		idx, keys := zipfStream(2, 1.1, distinct, 400_000)
		counts := truthCounts(idx, distinct)
		truth := map[string]uint64{}
		for i, c := range counts {
			truth[string(keys[i])] = c
		}
		a, b := NewTopN(10), NewTopN(10)
		for j, i := range idx {
			if j%2 == 0 {
				a.Update(keys[i], 1)
			} else {
				b.Update(keys[i], 1)
			}
		}
		a.Merge(b)
		checkBounds(t, a, truth)
		want := topTruth(counts)[:5]
		for r, it := range a.Top(5, 0, nil) {
			if it.Name != string(keys[want[r]]) {
				t.Errorf("rank %d: got %s want %s", r, it.Name, keys[want[r]])
			}
		}
	})
	t.Run("self", func(t *testing.T) {
		a := NewTopN(0)
		a.Update([]byte("x"), 3)
		a.Merge(a)
		if got := a.Estimate([]byte("x")); got != 6 {
			t.Fatalf("self merge: %d, want 6", got)
		}
	})
}

func TestTopNTop(t *testing.T) {
	// Estimates: a=5 b=5 c=4 d=3 e=3 f=2 g=1 h=1 i=1 j=1 k=1.
	fill := func() *TopN {
		s := NewTopN(0)
		for _, kw := range []struct {
			k string
			w uint64
		}{{"b", 5}, {"a", 5}, {"c", 4}, {"e", 3}, {"d", 3}, {"f", 2}, {"k", 1}, {"j", 1}, {"i", 1}, {"h", 1}, {"g", 1}} {
			s.Update([]byte(kw.k), kw.w)
		}
		return s
	}
	tests := []struct {
		name       string
		n          int
		percentile float64
		want       string
	}{
		{"none", 0, 0, ""},
		{"tie break", 5, 0, "a5 b5 c4 d3 e3"},
		{"tie at cut", 7, 0, "a5 b5 c4 d3 e3 f2 g1"},
		{"all", 20, 0, "a5 b5 c4 d3 e3 f2 g1 h1 i1 j1 k1"},
		// Top 10 estimates ascending: 1 1 1 1 2 3 3 4 5 5; P50 -> 5th = 2.
		{"p50", 10, 50, "a5 b5 c4 d3 e3 f2"},
		// P100 -> the largest, 5.
		{"p100", 10, 100, "a5 b5"},
		// P90 -> 9th of 10 = 5.
		{"p90", 10, 90, "a5 b5"},
		// P10 -> 1st = 1: everything.
		{"p10", 10, 10, "a5 b5 c4 d3 e3 f2 g1 h1 i1 j1"},
		// Top 4: 3 4 5 5; P50 -> 2nd = 4.
		{"p50 of 4", 4, 50, "a5 b5 c4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, it := range fill().Top(tc.n, tc.percentile, nil) {
				got = append(got, it.Name+strconv.FormatUint(it.Estimate, 10))
			}
			if g := fmt.Sprint(got); g != "["+tc.want+"]" {
				t.Fatalf("got %s, want [%s]", g, tc.want)
			}
		})
	}
	t.Run("format", func(t *testing.T) {
		s := NewTopN(0)
		s.Update([]byte{10, 0, 0, 1}, 2)
		s.Update([]byte{9, 0, 0, 1}, 2)
		got := s.Top(2, 0, func(k []byte) string { return fmt.Sprintf("%d.%d.%d.%d", k[0], k[1], k[2], k[3]) })
		if got[0].Name != "10.0.0.1" || got[1].Name != "9.0.0.1" {
			t.Fatalf("got %v (tie-break must use the formatted name)", got)
		}
	})
}

func TestTopNResetAndLongKeys(t *testing.T) {
	s := NewTopN(8) // 256 slots, 192 items
	long := bytes.Repeat([]byte("abcdefgh"), 100)
	for round := range 3 {
		for i := range 2000 {
			k := append(slices.Clip(long), strconv.Itoa(i%400)...)
			s.Update(k, 1)
			if i%4 == 0 {
				s.Update(long, 1)
			}
		}
		top := s.Top(1, 0, nil)
		if len(top) != 1 || top[0].Name != string(long) {
			t.Fatalf("round %d: top %v", round, len(top))
		}
		if got, lo := top[0].Estimate, uint64(500); got < lo || got > lo+s.MaxError() {
			t.Fatalf("round %d: estimate %d outside [%d,%d]", round, got, lo, lo+s.MaxError())
		}
		s.Reset()
		if s.Len() != 0 || s.Total() != 0 || s.MaxError() != 0 || s.Top(5, 0, nil) != nil {
			t.Fatal("reset left state")
		}
	}
}

func TestTopNCollidingHashes(t *testing.T) {
	// Different keys with equal hashes must stay apart: drive add directly.
	s := NewTopN(0)
	s.impl.add(42, []byte("one"), 1)
	s.impl.add(42, []byte("two"), 2)
	s.impl.add(42, []byte("one"), 3)
	got := s.Items(nil)
	if len(got) != 2 || string(got[0].Key) != "one" || got[0].Estimate != 4 || got[1].Estimate != 2 {
		t.Fatalf("got %+v", got)
	}
}

func TestNthSmallest(t *testing.T) {
	tests := []struct {
		name string
		in   []uint64
	}{
		{"one", []uint64{7}},
		{"equal", []uint64{3, 3, 3, 3, 3}},
		{"sorted", []uint64{1, 2, 3, 4, 5, 6, 7, 8}},
		{"reverse", []uint64{9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"mixed", []uint64{5, 1, 9, 1, 5, 7, 2, 2, 8, 0, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sorted := slices.Sorted(slices.Values(tc.in))
			for n := range tc.in {
				if got := nthSmallest(slices.Clone(tc.in), n); got != sorted[n] {
					t.Fatalf("n=%d: %d, want %d", n, got, sorted[n])
				}
			}
		})
	}
}

func BenchmarkTopNUpdate(b *testing.B) {
	b.Run("hit", func(b *testing.B) {
		s := NewTopN(0)
		keys := make([][]byte, 64)
		for i := range keys {
			keys[i] = fmt.Appendf(nil, "www.example-%d.com", i)
			s.Update(keys[i], 1)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			s.Update(keys[i&63], 1)
		}
	})
	b.Run("zipf", func(b *testing.B) {
		idx, keys := zipfStream(3, 1.1, 100_000, 1<<20)
		s := NewTopN(0)
		for _, i := range idx {
			s.Update(keys[i], 1)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			s.Update(keys[idx[i&(1<<20-1)]], 1)
		}
	})
	b.Run("zipf-8B", func(b *testing.B) {
		// The same stream with 8-byte keys built in a register, as a
		// decoder hands over a key that is already in cache.
		idx, _ := zipfStream(3, 1.1, 100_000, 1<<20)
		var buf [8]byte
		s := NewTopN(0)
		for _, i := range idx {
			s.Update(counterKey(buf[:], uint64(i)), 1)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			s.Update(counterKey(buf[:], uint64(idx[i&(1<<20-1)])), 1)
		}
	})
	b.Run("uniform-misses", func(b *testing.B) {
		var buf [8]byte
		s := NewTopN(0)
		for i := range uint64(1 << 16) {
			s.Update(counterKey(buf[:], i), 1)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := uint64(0); b.Loop(); i++ {
			s.Update(counterKey(buf[:], i), 1)
		}
	})
}

func TestTopNUpdateHash(t *testing.T) {
	a, b := NewTopN(8), NewTopN(8)
	idx, keys := zipfStream(6, 1.1, 5000, 50_000)
	for j, i := range idx {
		w := uint64(j%3) + 1
		a.Update(keys[i], w)
		b.UpdateHash(keys[i], Hash(keys[i]), w)
	}
	b.UpdateHash(keys[0], Hash(keys[0]), 0)
	if !slices.EqualFunc(a.Items(nil), b.Items(nil), func(x, y Item) bool {
		return bytes.Equal(x.Key, y.Key) && x.Estimate == y.Estimate
	}) || a.Total() != b.Total() || a.MaxError() != b.MaxError() {
		t.Fatal("UpdateHash differs from Update")
	}
}

func BenchmarkTopNUpdateShort(b *testing.B) {
	// Hits on keys of the sizes the handlers use: ports, IPv4, IPv6.
	for _, n := range []int{2, 4, 8, 16} {
		b.Run(fmt.Sprint(n, "B"), func(b *testing.B) {
			s := NewTopN(0)
			keys := make([][]byte, 64)
			for i := range keys {
				keys[i] = make([]byte, n)
				binary.LittleEndian.PutUint16(keys[i], uint16(i*7919))
				keys[i][n-1] ^= byte(i)
				s.Update(keys[i], 1)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s.Update(keys[i&63], 1)
			}
		})
	}
	b.Run("16B-hash", func(b *testing.B) {
		s := NewTopN(0)
		keys := make([][]byte, 64)
		hs := make([]uint64, 64)
		for i := range keys {
			keys[i] = make([]byte, 16)
			binary.LittleEndian.PutUint64(keys[i], uint64(i)*0x9e3779b97f4a7c15)
			hs[i] = Hash(keys[i])
			s.Update(keys[i], 1)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			s.UpdateHash(keys[i&63], hs[i&63], 1)
		}
	})
}

func BenchmarkMergeTopN(b *testing.B) {
	idx, keys := zipfStream(4, 1.1, 100_000, 200_000)
	src := NewTopN(0)
	for _, i := range idx {
		src.Update(keys[i], 1)
	}
	dst := NewTopN(0)
	dst.Merge(src)
	dst.Merge(src)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dst.Merge(src)
	}
}

func BenchmarkTopNTop(b *testing.B) {
	idx, keys := zipfStream(5, 1.1, 100_000, 200_000)
	s := NewTopN(0)
	for _, i := range idx {
		s.Update(keys[i], 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Top(10, 0, nil)
	}
}
