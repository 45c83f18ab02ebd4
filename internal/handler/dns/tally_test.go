package dns

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/sketch"
)

// TestTallyMatchesDirect feeds the same keys to a TopN through a tally and
// to another TopN one Update at a time, and checks that both report the
// same: with few keys (exact counts), with flushes in the middle (as a
// render of the live bucket does), and with more distinct keys than a TopN
// holds, where the tally must stop batching before the first purge (after
// which results depend on the order of updates).
func TestTallyMatchesDirect(t *testing.T) {
	tests := []struct {
		name       string
		size       int
		distinct   int // keys drawn from [0, distinct)
		n          int
		flushEvery int // 0: only at the end
	}{
		{name: "rcodes", size: 16, distinct: 16, n: 5000},
		{name: "qtypes skewed", size: 1 << 16, distinct: 300, n: 50000, flushEvery: 7001},
		{name: "ports over the limit", size: 1 << 16, distinct: 1 << 16, n: 200000},
		{name: "spread counts over the limit", size: 1 << 16, distinct: 8000, n: 300000},
		{name: "ports over the limit, flushed", size: 1 << 16, distinct: 1 << 16, n: 200000, flushEvery: 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tt.distinct)))
			direct, batched := sketch.NewTopN(0), sketch.NewTopN(0)
			ta := newTally(batched, tt.size)
			var key [2]byte
			for i := range tt.n {
				// Squaring skews the draw so some keys are heavy.
				r := rng.Float64()
				k := uint16(r * r * float64(tt.distinct))
				binary.BigEndian.PutUint16(key[:], k)
				direct.Update(key[:], 1)
				ta.add(k)
				if tt.flushEvery > 0 && i%tt.flushEvery == 0 {
					ta.flush()
					compareTopN(t, i, direct, batched)
				}
			}
			ta.flush()
			compareTopN(t, tt.n, direct, batched)
			if tt.distinct > topNLimit && direct.MaxError() == 0 {
				t.Error("no purge happened: the test does not cover the limit")
			}
		})
	}
}

func compareTopN(t *testing.T, at int, want, got *sketch.TopN) { // at: a position or sink, for messages
	t.Helper()
	if got.Total() != want.Total() || got.MaxError() != want.MaxError() || got.Len() != want.Len() {
		t.Fatalf("after %d: total/maxError/len = %d/%d/%d, want %d/%d/%d", at,
			got.Total(), got.MaxError(), got.Len(), want.Total(), want.MaxError(), want.Len())
	}
	gi, wi := got.Items(nil), want.Items(nil)
	if !slices.EqualFunc(gi, wi, func(a, b sketch.Item) bool {
		return string(a.Key) == string(b.Key) && a.Estimate == b.Estimate
	}) {
		t.Fatalf("after %d: items differ", at)
	}
}

func TestTallyReset(t *testing.T) {
	top := sketch.NewTopN(0)
	ta := newTally(top, 16)
	ta.add(3)
	ta.add(3)
	ta.reset()
	top.Reset()
	ta.add(5)
	ta.flush()
	items := top.Items(nil)
	if len(items) != 1 || string(items[0].Key) != "\x00\x05" || items[0].Estimate != 1 {
		t.Errorf("items after reset = %v, want only key 5 once", items)
	}
}
