package sketch

import (
	"encoding/binary"
	"math"
	"testing"
)

// insertN inserts the keys first..first+n-1 of a deterministic stream.
func insertN(c *Cardinality, first, n uint64) {
	var buf [8]byte
	for i := first; i < first+n; i++ {
		c.Insert(counterKey(buf[:], i))
	}
}

func relErr(got, want uint64) float64 {
	return math.Abs(float64(got)-float64(want)) / float64(want)
}

func TestCardinalityAccuracy(t *testing.T) {
	tests := []struct {
		name string
		n    uint64
		ipv4 bool // 4-byte sequential keys, as source addresses are
	}{
		{"10", 10, false},
		{"1536 exact", 1536, false},
		{"1k", 1000, false},
		{"5k", 5000, false},
		{"100k", 100_000, false},
		{"100k ipv4", 100_000, true},
		{"1M", 1_000_000, false},
		{"10M", 10_000_000, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCardinality()
			for rep := range 2 { // duplicates must not count
				if tc.ipv4 {
					var b [4]byte
					for i := range uint32(tc.n) {
						binary.BigEndian.PutUint32(b[:], 0x0a000000+i)
						c.Insert(b[:])
					}
				} else {
					insertN(c, 0, tc.n)
				}
				if tc.n >= 1_000_000 && rep == 0 {
					break // keep the test fast
				}
			}
			got := c.Estimate()
			e := relErr(got, tc.n)
			if tc.n <= 1536 && got != tc.n {
				t.Fatalf("estimate %d, want exactly %d", got, tc.n)
			}
			if e > 0.02 {
				t.Fatalf("estimate %d for %d: relative error %.4f", got, tc.n, e)
			}
			t.Logf("estimate %d for %d: relative error %.3f%%", got, tc.n, 100*e)
		})
	}
}

func TestCardinalityStatistics(t *testing.T) {
	// Over 16 disjoint streams of 100k keys the error must look like the
	// estimator's: unbiased, with a standard error near 1.04/sqrt(2^14) =
	// 0.81 %. A weak hash or a wrong estimator is off by far more.
	const reps, n = 16, 100_000
	sum, sq := 0.0, 0.0
	for r := range uint64(reps) {
		c := NewCardinality()
		insertN(c, r<<36, n)
		e := (float64(c.Estimate()) - n) / n
		sum += e
		sq += e * e
	}
	mean, rms := sum/reps, math.Sqrt(sq/reps)
	t.Logf("mean %.3f%%, rms %.3f%%", 100*mean, 100*rms)
	if math.Abs(mean) > 0.006 || rms > 0.012 {
		t.Fatalf("mean %.4f rms %.4f", mean, rms)
	}
}

func TestCardinalityDenseSmall(t *testing.T) {
	// The register estimator alone (no exact set) across small counts.
	for _, n := range []uint64{1, 10, 100, 1000, 3000, 10_000, 40_000} {
		c := NewCardinality()
		c.impl.densify()
		insertN(c, 1<<40, n)
		got := c.Estimate()
		tol := max(0.02*float64(n), 1)
		if math.Abs(float64(got)-float64(n)) > tol {
			t.Errorf("dense %d: estimate %d", n, got)
		}
	}
}

func TestCardinalityMerge(t *testing.T) {
	tests := []struct {
		name         string
		a, b, common uint64 // distinct to a only, b only, both
	}{
		{"sparse+sparse exact", 100, 200, 50},
		{"sparse+sparse to dense", 800, 800, 100},
		{"dense+sparse", 50_000, 100, 10},
		{"sparse+dense", 10, 50_000, 10},
		{"dense+dense", 300_000, 200_000, 100_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := NewCardinality(), NewCardinality()
			insertN(a, 0, tc.a+tc.common)
			insertN(b, tc.a, tc.common+tc.b)
			want := tc.a + tc.b + tc.common
			a.Merge(b)
			a.Merge(a)
			got := a.Estimate()
			if want <= 1536 && got != want {
				t.Fatalf("estimate %d, want exactly %d", got, want)
			}
			if e := relErr(got, want); e > 0.02 {
				t.Fatalf("estimate %d, want %d (error %.4f)", got, want, e)
			}
		})
	}
}

func TestCardinalityZeroHashResetClone(t *testing.T) {
	c := NewCardinality()
	c.InsertHash(0)
	c.InsertHash(0)
	c.InsertHash(1)
	if got := c.Estimate(); got != 2 {
		t.Fatalf("estimate %d, want 2", got)
	}
	d := c.Clone()
	insertN(c, 0, 5000)
	if d.Estimate() != 2 {
		t.Fatal("clone shares state")
	}
	e := c.Clone()
	c.Reset()
	if c.Estimate() != 0 {
		t.Fatal("reset left state")
	}
	if relErr(e.Estimate(), 5002) > 0.02 {
		t.Fatalf("dense clone estimate %d", e.Estimate())
	}
	insertN(c, 0, 300)
	if c.Estimate() != 300 {
		t.Fatalf("after reset: %d", c.Estimate())
	}
	var zero Cardinality
	zero.Insert([]byte("x"))
	if zero.Estimate() != 1 {
		t.Fatal("zero value unusable")
	}
}

func BenchmarkCardinalityInsert(b *testing.B) {
	b.Run("dense", func(b *testing.B) {
		c := NewCardinality()
		insertN(c, 0, 100_000)
		var buf [8]byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := uint64(0); b.Loop(); i++ {
			c.Insert(counterKey(buf[:], i))
		}
	})
	b.Run("sparse-hit", func(b *testing.B) {
		c := NewCardinality()
		insertN(c, 0, 500)
		var buf [8]byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := uint64(0); b.Loop(); i++ {
			c.Insert(counterKey(buf[:], i%500))
		}
	})
	b.Run("hash-dense", func(b *testing.B) {
		c := NewCardinality()
		insertN(c, 0, 100_000)
		b.ReportAllocs()
		b.ResetTimer()
		for i := uint64(0); b.Loop(); i++ {
			c.InsertHash(HashUint64(i))
		}
	})
}

func BenchmarkMergeCardinality(b *testing.B) {
	src, dst := NewCardinality(), NewCardinality()
	insertN(src, 0, 100_000)
	insertN(dst, 50_000, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dst.Merge(src)
	}
}

func BenchmarkCardinalityEstimate(b *testing.B) {
	c := NewCardinality()
	insertN(c, 0, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		c.Estimate()
	}
}
