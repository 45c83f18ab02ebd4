package sketch

import (
	"encoding/binary"
	"math/bits"
)

// Odd 64-bit mixing constants: the golden ratio and the multipliers of the
// SplitMix64 finalizer, plus one more arbitrary odd word.
const (
	hashK0 = 0x9e3779b97f4a7c15
	hashK1 = 0xbf58476d1ce4e5b9
	hashK2 = 0x94d049bb133111eb
	hashK3 = 0xd1b54a32d192ed03
)

// Hash is the 64-bit hash the sketches use for byte keys. It reads the key
// eight bytes at a time (overlapping loads for the tail), folds each
// 128-bit product of two words into 64 bits, and ends with one more folded
// multiplication by a constant, so every input bit flips every output bit
// with probability close to one half (both the low bits, which [TopN] uses
// for its table, and the high bits, which [Cardinality] uses for its
// registers; TestHashAvalanche checks it). It is not a cryptographic hash and
// is not seeded: do not use it where keys may be chosen by an adversary to
// collide. It allocates nothing and is safe for concurrent use.
func Hash(b []byte) uint64 {
	n := len(b)
	h := uint64(n)*hashK0 ^ hashK3
	for len(b) > 16 {
		h = mul128Fold(binary.LittleEndian.Uint64(b)^hashK1, binary.LittleEndian.Uint64(b[8:])^h)
		b = b[16:]
	}
	var x, y uint64
	switch m := len(b); {
	case m > 8:
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[m-8:])
	case m >= 4:
		x = uint64(binary.LittleEndian.Uint32(b))
		y = uint64(binary.LittleEndian.Uint32(b[m-4:]))
	case m > 0:
		x = uint64(b[0])<<16 | uint64(b[m>>1])<<8 | uint64(b[m-1])
	}
	return mul128Fold(mul128Fold(x^hashK1, y^h^hashK2), hashK0)
}

// HashUint64 hashes a 64-bit value (for example an IPv4 address or a port
// widened to 64 bits) as cheaply as possible with full avalanche. It is a
// bijection, so distinct values never collide; it is not equal to Hash of
// the value's bytes.
func HashUint64(v uint64) uint64 {
	return fmix64(v*hashK0 ^ hashK3)
}

// mul128Fold multiplies a and b to 128 bits and xors the halves together.
func mul128Fold(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// fmix64 is the 64-bit finalizer of MurmurHash3 (public domain): it makes
// each input bit flip each output bit with probability near 1/2.
func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}
