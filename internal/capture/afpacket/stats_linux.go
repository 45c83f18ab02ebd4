//go:build linux

package afpacket

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// Stats returns the cumulative counters since Open:
//
//   - Packets: frames the kernel put into the ring (some may not have been
//     read yet);
//   - Drops: frames that passed the filter but found no room in the ring;
//   - IfDrops: growth of the interface's rx_dropped counter since Open
//     (frames the kernel dropped before any socket saw them: driver, no
//     buffer, backlog full). It is interface-wide, so every member of a
//     fanout group reports the same value; count it once.
//
// The kernel resets PACKET_STATISTICS on every read; Stats adds them up.
// The interface counter is read over netlink in the socket's namespace
// (sysfs shows the namespace that mounted it); if the interface is gone,
// IfDrops keeps its last value. After Close, Stats returns the final
// counters. Safe to call from any goroutine. It satisfies [capture.Source].
func (s *Source) Stats() (capture.Stats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	var err error
	if !s.torn {
		err = s.pullLocked()
	}
	return capture.Stats{Packets: s.packets, Drops: s.drops, IfDrops: s.ifDrops}, err
}

// QueueFreezes returns how many times the ring was full and the kernel
// froze it (tp_freeze_q_cnt, cumulative), as of the last Stats call.
func (s *Source) QueueFreezes() uint64 {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.freezes
}

// pullLocked reads and accumulates the kernel counters; statsMu is held
// and the socket is open.
func (s *Source) pullLocked() error {
	st, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return fmt.Errorf("read af_packet statistics on %s: %w", s.iface, err)
	}
	// For TPACKET_V3 the kernel reports tp_packets including tp_drops.
	delivered := st.Packets
	if st.Drops <= delivered {
		delivered -= st.Drops
	}
	s.packets += uint64(delivered)
	s.drops += uint64(st.Drops)
	s.freezes += uint64(st.Freeze_q_cnt)
	if link, err := s.nl.LinkByIndex(s.ifindex); err == nil {
		if ls := link.Attrs().Statistics; ls != nil && ls.RxDropped >= s.ifDropsBase {
			s.ifDrops = ls.RxDropped - s.ifDropsBase
		}
	}
	return nil
}

// NetDown returns how many times the interface went down while the socket
// was open; capture resumes by itself when it comes back up.
func (s *Source) NetDown() uint64 { return s.netDown.Load() }
