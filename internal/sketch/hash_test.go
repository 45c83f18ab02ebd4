package sketch

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestHashAvalanche(t *testing.T) {
	// Flipping one input bit must flip each output bit with probability
	// near 1/2, for every key length the sketches see.
	r := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 2, 3, 4, 6, 8, 12, 16, 17, 33, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			const trials = 1000
			var flips [64]int
			total := 0
			key := make([]byte, n)
			for range trials {
				for i := range key {
					key[i] = byte(r.Uint32())
				}
				h0 := Hash(key)
				for bit := range 8 * n {
					key[bit/8] ^= 1 << (bit % 8)
					d := h0 ^ Hash(key)
					key[bit/8] ^= 1 << (bit % 8)
					for o := range 64 {
						flips[o] += int(d >> o & 1)
					}
					total++
				}
			}
			for o, f := range flips {
				if p := float64(f) / float64(total); p < 0.45 || p > 0.55 {
					t.Fatalf("output bit %d flips with p=%.3f", o, p)
				}
			}
		})
	}
}

func TestHashDistinct(t *testing.T) {
	// Sequential and short keys must not collide.
	seen := make(map[uint64]string, 1<<18)
	add := func(k []byte) {
		h := Hash(k)
		if prev, ok := seen[h]; ok && prev != string(k) {
			t.Fatalf("collision %q %q", prev, k)
		}
		seen[h] = string(k)
	}
	add(nil)
	for i := range 1 << 16 {
		add([]byte{byte(i)})
		add([]byte{byte(i), byte(i >> 8)})
		add([]byte{10, 0, byte(i >> 8), byte(i)})
		add(fmt.Appendf(nil, "name-%d.example.com", i))
	}
	if Hash([]byte("ab")) == Hash([]byte("ab\x00")) {
		t.Fatal("length not mixed in")
	}
	// HashUint64 spreads sequential values over the top bits.
	var top [16]int
	for i := range uint64(1 << 16) {
		top[HashUint64(i)>>60]++
	}
	for b, c := range top {
		if c < 3800 || c > 4400 {
			t.Fatalf("top nibble %d: %d of 65536", b, c)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for _, n := range []int{2, 4, 8, 9, 12, 16, 32, 64} {
		key := make([]byte, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			var x uint64
			for b.Loop() {
				x += Hash(key)
			}
			_ = x
		})
	}
}
