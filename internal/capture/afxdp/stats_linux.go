//go:build linux

package afxdp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// XDPStats are a socket's XDP_STATISTICS (struct xdp_statistics), cumulative
// since Open.
type XDPStats struct {
	// RxDropped: frames the socket dropped, for example because no fill
	// ring buffer was there in copy mode, or because a frame was larger
	// than the frame size minus 256 bytes of headroom.
	RxDropped uint64
	// RxInvalidDescs: fill ring entries the kernel rejected (a bug here).
	RxInvalidDescs uint64
	// RxRingFull: frames dropped because the RX ring was full (the reader
	// fell behind).
	RxRingFull uint64
	// RxFillRingEmptyDescs: times the kernel found the fill ring empty
	// (Linux ≥ 5.9). In copy mode those frames are also in RxDropped.
	RxFillRingEmptyDescs uint64
}

// Stats returns the cumulative counters since Open: Packets are the frames
// ReadBatch returned, Drops the frames the socket lost
// (RxDropped + RxRingFull of [XDPStats]). IfDrops stays 0: frames the
// driver dropped are the interface's counters. After Close, Stats returns
// the final counters. Safe to call from any goroutine. It satisfies
// [capture.Source].
func (s *Socket) Stats() (capture.Stats, error) {
	x, err := s.XDPStats()
	return capture.Stats{Packets: s.packets.Load(), Drops: x.RxDropped + x.RxRingFull}, err
}

// XDPStats returns the kernel's counters of the socket. Safe to call from
// any goroutine; after Close it returns the final values.
func (s *Socket) XDPStats() (XDPStats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	var err error
	if !s.torn {
		err = s.pullLocked()
	}
	return s.last, err
}

// pullLocked reads XDP_STATISTICS; statsMu is held and the socket is open.
func (s *Socket) pullLocked() error {
	var st unix.XDPStatistics
	// Kernels < 5.9 fill only the first three fields (24 bytes); the rest
	// stay zero.
	if _, err := getsockopt(s.fd, unix.SOL_XDP, unix.XDP_STATISTICS, unsafe.Pointer(&st), unsafe.Sizeof(st)); err != nil {
		return fmt.Errorf("read af_xdp statistics on %s queue %d: %w", s.iface, s.queue, err)
	}
	s.last = XDPStats{
		RxDropped:            st.Rx_dropped,
		RxInvalidDescs:       st.Rx_invalid_descs,
		RxRingFull:           st.Rx_ring_full,
		RxFillRingEmptyDescs: st.Rx_fill_ring_empty_descs,
	}
	return nil
}
