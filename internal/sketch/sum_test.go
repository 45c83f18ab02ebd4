package sketch

import (
	"math"
	"testing"
)

// TestSum checks that every quantile sketch keeps the exact sum of the
// integer values it was given, through compactions, merges (also with
// itself), clones and resets.
func TestSum(t *testing.T) {
	const sec = int64(1e9)
	tests := []struct {
		name string
		run  func() (sum float64, n uint64)
		want float64
		n    uint64 // 0: not checked
	}{
		{"quantile, empty", func() (float64, uint64) {
			q := NewQuantile()
			return q.Sum(), q.N()
		}, 0, 0},
		{"quantile, insert buffer only", func() (float64, uint64) {
			q := NewQuantile()
			for v := 1; v <= 10; v++ {
				q.Update(float64(v))
			}
			return q.Sum(), q.N()
		}, 55, 10},
		{"quantile, compacted, NaN ignored", func() (float64, uint64) {
			q := NewQuantile()
			for v := 1; v <= 1e6; v++ {
				q.Update(float64(v))
			}
			q.Update(math.NaN())
			return q.Sum(), q.N()
		}, 1e6 * (1e6 + 1) / 2, 1e6},
		{"quantile, merge of shards and with itself", func() (float64, uint64) {
			a, b := NewQuantile(), NewQuantile()
			for v := 1; v <= 5000; v++ {
				if v%7 == 0 {
					b.Update(float64(v))
				} else {
					a.Update(float64(v))
				}
			}
			a.Merge(b)
			a.Merge(a) // every value twice
			return a.Sum(), a.N()
		}, 2 * 5000 * 5001 / 2, 10000},
		{"quantile, clone and reset", func() (float64, uint64) {
			q := NewQuantile()
			for v := 1; v <= 1000; v++ {
				q.Update(float64(v))
			}
			c := q.Clone()
			q.Reset()
			q.Update(3)
			c.Merge(q)
			return c.Sum(), c.N()
		}, 1000*1001/2 + 3, 1001},
		{"int quantile", func() (float64, uint64) {
			a, b := NewIntQuantile(), NewIntQuantile()
			for v := uint64(0); v < 5000; v++ {
				a.Update(v)
			}
			b.Update(1 << 40)
			b.Update(7)
			a.Merge(b)
			return a.Sum(), a.N()
		}, 5000*4999/2 + 1<<40 + 7, 5002},
		{"int quantile, reset", func() (float64, uint64) {
			q := NewIntQuantile()
			q.Update(10)
			q.Update(100000)
			q.Reset()
			q.Update(4)
			return q.Sum(), q.N()
		}, 4, 1},
		{"rate: sum of the recorded seconds", func() (float64, uint64) {
			// Seconds 10, 11, 12 (empty), 13 carry 4, 6, 0, 1.
			r := NewRate()
			r.Add(10*sec, 4)
			r.Add(11*sec, 6)
			r.Add(13*sec, 1)
			r.Close(14 * sec)
			q := r.Quantile()
			return q.Sum(), q.N()
		}, 11, 4},
		{"rate: folded seconds and merged shards", func() (float64, uint64) {
			a, b := NewRate(), NewRate()
			for s := int64(0); s < rateMaxSeries+100; s++ {
				a.Add(s*sec, 2)
				b.Add(s*sec, 1)
			}
			// Over rateMaxSeries seconds: the oldest are folded into
			// the KLL part, where merging keeps the shards' seconds apart.
			a.Close((rateMaxSeries + 100) * sec)
			b.Close((rateMaxSeries + 100) * sec)
			a.Merge(b)
			q := a.Quantile()
			return q.Sum(), q.N()
		}, 3 * (rateMaxSeries + 100), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sum, n := tc.run()
			if sum != tc.want || (tc.n != 0 && n != tc.n) {
				t.Errorf("sum %v n %d, want sum %v n %d", sum, n, tc.want, tc.n)
			}
		})
	}
}
