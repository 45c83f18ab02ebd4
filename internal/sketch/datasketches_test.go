//go:build datasketches

// This file compares the sketches with github.com/apache/datasketches-go
// v0.2.0 on the same streams: go test -tags datasketches -run DataSketches
// -bench DataSketches ./internal/sketch/

package sketch

import (
	"math"
	"slices"
	"testing"

	"github.com/apache/datasketches-go/common"
	"github.com/apache/datasketches-go/cpc"
	"github.com/apache/datasketches-go/frequencies"
	dshll "github.com/apache/datasketches-go/hll"
	dskll "github.com/apache/datasketches-go/kll"
)

func newDSFrequent(tb testing.TB) *frequencies.ItemsSketch[string] {
	tb.Helper()
	fi, err := frequencies.NewFrequencyItemsSketch[string](DefaultLgMaxMapSize, topNLgStart,
		common.ItemSketchStringHasher{}, common.ItemSketchStringSerDe{})
	if err != nil {
		tb.Fatal(err)
	}
	return fi
}

func newDSKLL(tb testing.TB) *dskll.ItemsSketch[float64] {
	tb.Helper()
	s, err := dskll.NewKllItemsSketch[float64](kllK, kllM, common.ItemSketchDoubleComparator(false), common.ItemSketchDoubleSerDe{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestDataSketchesTopN(t *testing.T) {
	const distinct, n = 100_000, 1_000_000
	idx, keys := zipfStream(1, 1.1, distinct, n)
	counts := truthCounts(idx, distinct)
	ours, ds := NewTopN(0), newDSFrequent(t)
	strs := make([]string, len(keys))
	for i, k := range keys {
		strs[i] = string(k)
	}
	for _, i := range idx {
		ours.Update(keys[i], 1)
		if err := ds.Update(strs[i]); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := ds.GetFrequentItems(frequencies.ErrorTypeEnum.NoFalseNegatives)
	if err != nil {
		t.Fatal(err)
	}
	top := ours.Top(10, 0, nil)
	byName := map[string]uint64{}
	for i, k := range strs {
		byName[k] = counts[i]
	}
	t.Logf("maxError ours %d datasketches %d; tracked ours %d datasketches %d",
		ours.MaxError(), ds.GetMaximumError(), ours.Len(), ds.GetNumActiveItems())
	for r := range 10 {
		t.Logf("rank %d: ours %s %d, datasketches %s %d, true %d", r, top[r].Name, top[r].Estimate,
			rows[r].GetItem(), rows[r].GetEstimate(), byName[top[r].Name])
		if top[r].Name != rows[r].GetItem() {
			t.Errorf("rank %d: ours %s, datasketches %s", r, top[r].Name, rows[r].GetItem())
		}
	}
}

func TestDataSketchesQuantile(t *testing.T) {
	for _, kind := range []string{"uniform", "normal", "sorted"} {
		t.Run(kind, func(t *testing.T) {
			data := kllStream(kind, 1_000_000)
			ours, ds := NewQuantile(), newDSKLL(t)
			for _, v := range data {
				ours.Update(v)
				ds.Update(v)
			}
			sorted := slices.Sorted(slices.Values(data))
			for _, r := range testRanks {
				want, err := ds.GetQuantile(r, true)
				if err != nil {
					t.Fatal(err)
				}
				got := ours.Quantile(r)
				eo, ed := rankError(sorted, got, r), rankError(sorted, want, r)
				t.Logf("p%v: ours %.4f (rank err %.3f%%), datasketches %.4f (rank err %.3f%%)", r*100, got, 100*eo, want, 100*ed)
				if eo > 0.015 {
					t.Errorf("rank error %.4f", eo)
				}
			}
			t.Logf("retained ours %d datasketches %d", ours.impl.levels[ours.impl.numLevels]-ours.impl.levels[0], ds.GetNumRetained())
		})
	}
}

func TestDataSketchesCardinality(t *testing.T) {
	for _, n := range []uint64{10, 1000, 100_000, 1_000_000} {
		ours := NewCardinality()
		h, err := dshll.NewHllSketch(hllP, dshll.TgtHllTypeHll8)
		if err != nil {
			t.Fatal(err)
		}
		c, err := cpc.NewCpcSketchWithDefault(11)
		if err != nil {
			t.Fatal(err)
		}
		var buf [8]byte
		for i := range n {
			k := counterKey(buf[:], i)
			ours.Insert(k)
			_ = h.UpdateSlice(k)
			_ = c.UpdateByteSlice(k)
		}
		he, _ := h.GetEstimate()
		t.Logf("n=%d: ours %d (%.3f%%), datasketches hll lgK=14 %.0f (%.3f%%), cpc lgK=11 %.0f (%.3f%%)", n,
			ours.Estimate(), 100*relErr(ours.Estimate(), n), he, 100*math.Abs(he-float64(n))/float64(n),
			c.GetEstimate(), 100*math.Abs(c.GetEstimate()-float64(n))/float64(n))
	}
}

func BenchmarkDataSketchesTopN(b *testing.B) {
	idx, keys := zipfStream(3, 1.1, 100_000, 1<<20)
	strs := make([]string, len(keys))
	for i, k := range keys {
		strs[i] = string(k)
	}
	b.Run("ours", func(b *testing.B) {
		s := NewTopN(0)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s.Update(keys[idx[i&(1<<20-1)]], 1)
		}
	})
	b.Run("datasketches", func(b *testing.B) {
		s := newDSFrequent(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			_ = s.Update(strs[idx[i&(1<<20-1)]])
		}
	})
}

func BenchmarkDataSketchesQuantile(b *testing.B) {
	data := kllStream("normal", 1<<16)
	b.Run("ours", func(b *testing.B) {
		q := NewQuantile()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			q.Update(data[i&(1<<16-1)])
		}
	})
	b.Run("datasketches", func(b *testing.B) {
		q := newDSKLL(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			q.Update(data[i&(1<<16-1)])
		}
	})
}

func BenchmarkDataSketchesCardinality(b *testing.B) {
	var buf [8]byte
	b.Run("ours", func(b *testing.B) {
		c := NewCardinality()
		b.ReportAllocs()
		for i := uint64(0); b.Loop(); i++ {
			c.Insert(counterKey(buf[:], i))
		}
	})
	b.Run("datasketches-hll8", func(b *testing.B) {
		h, _ := dshll.NewHllSketch(hllP, dshll.TgtHllTypeHll8)
		b.ReportAllocs()
		for i := uint64(0); b.Loop(); i++ {
			_ = h.UpdateSlice(counterKey(buf[:], i))
		}
	})
	b.Run("datasketches-cpc11", func(b *testing.B) {
		c, _ := cpc.NewCpcSketchWithDefault(11)
		b.ReportAllocs()
		for i := uint64(0); b.Loop(); i++ {
			_ = c.UpdateByteSlice(counterKey(buf[:], i))
		}
	})
}
