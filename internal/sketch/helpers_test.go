package sketch

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
)

// zipfStream returns n draws of a Zipf(s) distribution over distinct keys
// (indices 0..distinct-1, index 0 the most frequent) and the keys.
func zipfStream(seed uint64, s float64, distinct, n int) (idx []int32, keys [][]byte) {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	z := rand.NewZipf(r, s, 1, uint64(distinct-1))
	idx = make([]int32, n)
	for i := range idx {
		idx[i] = int32(z.Uint64())
	}
	keys = make([][]byte, distinct)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "host-%d.example.com", i)
	}
	return idx, keys
}

// counterKey writes the 8-byte little-endian key of i into buf.
func counterKey(buf []byte, i uint64) []byte {
	binary.LittleEndian.PutUint64(buf, i*0x9e3779b97f4a7c15+12345)
	return buf[:8]
}
