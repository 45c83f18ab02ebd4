package tcpasm

import "math/bits"

// Buffer size classes are powers of two from 1<<minClassShift up to
// 1<<maxClassShift bytes. Requests above the largest class are served by
// exact-size buffers that are never retained.
const (
	minClassShift = 9  // 512 B
	maxClassShift = 18 // 256 KiB, enough for the default MaxBuffered
	numClasses    = maxClassShift - minClassShift + 1

	// retainBytesPerClass bounds the memory kept idle in each class's free
	// list; a class keeps at least minRetain buffers.
	retainBytesPerClass = 1 << 20
	minRetain           = 4
)

// bufPool is a single-goroutine free list of byte buffers by size class.
// Idle memory is bounded by numClasses × max(retainBytesPerClass,
// minRetain × class size) = 10 MiB.
type bufPool struct {
	free [numClasses][][]byte
}

// class returns the size class index for n bytes, or -1 when n is larger
// than the largest class.
func class(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minClassShift
	if c >= numClasses {
		return -1
	}
	return c
}

// bufCap returns the capacity of the buffer [bufPool.get] returns for n
// bytes: its class size, or n itself above the largest class.
func bufCap(n int) int {
	c := class(n)
	if c < 0 {
		return n
	}
	return 1 << (c + minClassShift)
}

// get returns an empty buffer with capacity of at least n.
func (p *bufPool) get(n int) []byte {
	c := class(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	l := p.free[c]
	if k := len(l); k > 0 {
		b := l[k-1]
		l[k-1] = nil
		p.free[c] = l[:k-1]
		return b
	}
	return make([]byte, 0, 1<<(c+minClassShift))
}

// put returns b to its free list (or lets the garbage collector have it
// when the list is full or b has no class).
func (p *bufPool) put(b []byte) {
	if b == nil {
		return
	}
	cp := cap(b)
	if cp < 1<<minClassShift || cp&(cp-1) != 0 {
		return
	}
	c := class(cp)
	if c < 0 {
		return
	}
	limit := max(retainBytesPerClass>>(c+minClassShift), minRetain)
	if len(p.free[c]) >= limit {
		return
	}
	p.free[c] = append(p.free[c], b[:0])
}
