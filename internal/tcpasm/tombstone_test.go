package tcpasm

import (
	"math/rand/v2"
	"testing"
)

// TestTombstones checks the tombstone set against a reference model under
// random puts (which overwrite the oldest once the ring is full) and takes,
// with real key hashes and with hashes confined to a few slots (long
// probe chains that wrap around the end).
func TestTombstones(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		homes uint64 // when non-zero, hashes are forced into the last homes slots of the index
	}{
		{"key hashes", 300, 0},
		{"colliding hashes wrapping around", 40, 3},
		{"one tombstone", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			var seeds table
			seeds.init()
			ts := tombstones{max: tt.max}
			keys := 3 * tt.max
			// The model: the ring's content, oldest first, as put ids
			// (step*keys + key), and the id of each key's live tombstone.
			var ring []int
			live := map[int]int{}
			keyOf := func(i int) (flowKey, uint64) {
				k := flowKey{a0lo: uint64(i), a1lo: uint64(i) * 7, ports: uint32(i)}
				h := seeds.hash(&k)
				if tt.homes != 0 {
					h = 1<<40 | uint64(minTombSlots-1) - h%tt.homes
				}
				return k, h
			}
			for step := range 20000 {
				i := rng.IntN(keys)
				k, h := keyOf(i)
				if _, isLive := live[i]; isLive || rng.IntN(3) == 0 {
					var got tomb
					ok := ts.take(&k, h, &got)
					if ok != isLive {
						t.Fatalf("step %d: take(%d) = %t, want %t", step, i, ok, isLive)
					}
					if ok && (got.key != k || got.half[0].next != uint32(i)) {
						t.Fatalf("step %d: take(%d) returned %+v", step, i, got)
					}
					delete(live, i)
					continue
				}
				f := flow{key: k, hash: h}
				f.half[0].next = uint32(i)
				ts.put(&f)
				if len(ring) == tt.max {
					if old := ring[0]; live[old%keys] == old {
						delete(live, old%keys)
					}
					ring = ring[1:]
				}
				id := step*keys + i
				ring = append(ring, id)
				live[i] = id
				if ts.n != len(live) || len(ts.ring) > tt.max {
					t.Fatalf("step %d: %d live (ring %d), want %d (max %d)", step, ts.n, len(ts.ring), len(live), tt.max)
				}
			}
			for i := range keys {
				k, h := keyOf(i)
				_, want := live[i]
				if got := ts.find(&k, h) >= 0; got != want {
					t.Fatalf("find(%d) = %t, want %t", i, got, want)
				}
			}
		})
	}
}
