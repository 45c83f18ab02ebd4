package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIntQuantileExact: with values below IntSmall the quantiles are exact
// (inclusive rank), and with a mix the rank error stays within KLL's bound.
func TestIntQuantileExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		gen  func() uint64
	}{
		{"small", func() uint64 { return uint64(40 + rng.IntN(1500)) }},
		{"mixed", func() uint64 {
			if rng.IntN(4) == 0 {
				return uint64(2048 + rng.IntN(100000))
			}
			return uint64(rng.IntN(2048))
		}},
		{"large", func() uint64 { return uint64(5000 + rng.IntN(1<<20)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewIntQuantile()
			const n = 300000
			vals := make([]uint64, n)
			for i := range vals {
				vals[i] = tc.gen()
				q.Update(vals[i])
			}
			slices.Sort(vals)
			if q.N() != n || q.Min() != float64(vals[0]) || q.Max() != float64(vals[n-1]) {
				t.Fatalf("n %d min %v max %v", q.N(), q.Min(), q.Max())
			}
			for _, r := range []float64{0.5, 0.9, 0.95, 0.99} {
				got := uint64(q.Quantile(r))
				// rank of got: fraction of values <= got
				hi, _ := slices.BinarySearch(vals, got+1)
				lo, _ := slices.BinarySearch(vals, got)
				if tc.name == "small" {
					want := vals[int(math.Ceil(r*n))-1]
					if got != want {
						t.Errorf("p%v = %d, want exactly %d", r*100, got, want)
					}
					continue
				}
				if float64(hi)/n < r-0.015 || float64(lo)/n > r+0.015 {
					t.Errorf("p%v = %d has rank [%.4f, %.4f]", r*100, got, float64(lo)/n, float64(hi)/n)
				}
			}
		})
	}
}

func TestIntQuantileMergeReset(t *testing.T) {
	a, b := NewIntQuantile(), NewIntQuantile()
	for v := uint64(1); v <= 100; v++ {
		a.Update(v)
		b.Update(v + 5000)
	}
	a.Merge(b)
	if a.N() != 200 || a.Quantile(0.5) != 100 || a.Quantile(0.99) != 5098 || a.Min() != 1 || a.Max() != 5100 {
		t.Fatalf("merged: n %d p50 %v p99 %v", a.N(), a.Quantile(0.5), a.Quantile(0.99))
	}
	a.Reset()
	if a.N() != 0 || a.Quantile(0.5) != 0 {
		t.Fatal("reset")
	}
	a.Update(7)
	if a.Quantile(0.5) != 7 || a.Min() != 7 {
		t.Fatalf("after reset: %v %v", a.Quantile(0.5), a.Min())
	}
	if allocs := testing.AllocsPerRun(1000, func() { a.Update(99) }); allocs != 0 {
		t.Errorf("update allocates %v", allocs)
	}
}

func BenchmarkIntQuantileUpdate(b *testing.B) {
	q := NewIntQuantile()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		q.Update(uint64(60 + i%1400))
	}
}
