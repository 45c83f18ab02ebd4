//go:build linux

package afxdp

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A ring is one single-producer single-consumer ring shared with the
// kernel (Documentation/networking/af_xdp.rst): producer and consumer are
// free-running uint32 indexes, the descriptor array has a power-of-two
// size. User space produces into the fill ring and consumes the RX and
// completion rings.
type ring struct {
	mem      []byte // the mmap'd region
	producer *uint32
	consumer *uint32
	flags    *uint32
	mask     uint32
	size     uint32
	cached   uint32 // our own index: producer of a fill ring, consumer of an RX ring
}

// mapRing maps the ring at page offset pgoff with n descriptors of
// descSize bytes, as the offsets off from XDP_MMAP_OFFSETS describe it.
func mapRing(fd int, pgoff int64, off unix.XDPRingOffset, n uint32, descSize uintptr) (ring, error) {
	length := int(off.Desc) + int(n)*int(descSize)
	mem, err := unix.Mmap(fd, pgoff, length, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return ring{}, fmt.Errorf("map ring (%d bytes at %#x): %w", length, pgoff, err)
	}
	r := ring{
		mem:      mem,
		producer: (*uint32)(unsafe.Pointer(&mem[off.Producer])),
		consumer: (*uint32)(unsafe.Pointer(&mem[off.Consumer])),
		flags:    (*uint32)(unsafe.Pointer(&mem[off.Flags])),
		mask:     n - 1,
		size:     n,
	}
	return r, nil
}

func (r *ring) unmap() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	*r = ring{}
	return err
}

// needWakeup reports XDP_RING_NEED_WAKEUP: the kernel wants a syscall
// before it looks at the ring again.
func (r *ring) needWakeup() bool {
	return atomic.LoadUint32(r.flags)&unix.XDP_RING_NEED_WAKEUP != 0
}

// fillRing is the UMEM fill ring: frame addresses user space hands to the
// kernel to receive into.
type fillRing struct {
	ring
	descs []uint64
}

func mapFillRing(fd int, off unix.XDPRingOffset, n uint32) (fillRing, error) {
	r, err := mapRing(fd, unix.XDP_UMEM_PGOFF_FILL_RING, off, n, 8)
	if err != nil {
		return fillRing{}, err
	}
	descs := unsafe.Slice((*uint64)(unsafe.Pointer(&r.mem[off.Desc])), n)
	return fillRing{ring: r, descs: descs}, nil
}

// put produces as many of addrs as fit and returns how many.
func (f *fillRing) put(addrs []uint64) int {
	cons := atomic.LoadUint32(f.consumer)
	free := f.size - (f.cached - cons)
	n := min(uint32(len(addrs)), free)
	for i := range n {
		f.descs[(f.cached+i)&f.mask] = addrs[i]
	}
	// The store publishes the descriptors written above (release).
	f.cached += n
	atomic.StoreUint32(f.producer, f.cached)
	return int(n)
}

// rxRing is the RX ring: descriptors of received frames.
type rxRing struct {
	ring
	descs []unix.XDPDesc
}

func mapRxRing(fd int, off unix.XDPRingOffset, n uint32) (rxRing, error) {
	r, err := mapRing(fd, unix.XDP_PGOFF_RX_RING, off, n, unsafe.Sizeof(unix.XDPDesc{}))
	if err != nil {
		return rxRing{}, err
	}
	descs := unsafe.Slice((*unix.XDPDesc)(unsafe.Pointer(&r.mem[off.Desc])), n)
	return rxRing{ring: r, descs: descs}, nil
}

// available returns how many descriptors the kernel has produced that
// user space has not consumed. The load acquires the descriptors.
func (r *rxRing) available() uint32 {
	return atomic.LoadUint32(r.producer) - r.cached
}

// release consumes n descriptors, giving their slots back to the kernel.
func (r *rxRing) release(n uint32) {
	r.cached += n
	atomic.StoreUint32(r.consumer, r.cached)
}
