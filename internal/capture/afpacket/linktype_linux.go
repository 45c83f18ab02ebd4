//go:build linux

package afpacket

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// pcap link types (https://www.tcpdump.org/linktypes.html).
const (
	linkTypeEthernet = 1   // LINKTYPE_ETHERNET
	linkTypeRaw      = 101 // LINKTYPE_RAW: IPv4 or IPv6, no link header
	linkTypeRadiotap = 127 // LINKTYPE_IEEE802_11_RADIOTAP
)

// linkType maps an ARPHRD_ hardware type (sll_hatype of the bound socket)
// to the pcap link type of the frames a SOCK_RAW packet socket returns.
// Types whose raw frames have no pcap equivalent wrap
// [capture.ErrNotSupported] (libpcap reads those in cooked mode).
func linkType(hatype uint16) (uint32, error) {
	switch hatype {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		// Linux loopback frames carry a (zero-address) Ethernet header.
		return linkTypeEthernet, nil
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP:
		// tun devices and raw-IP modems: the frame starts at the IP header.
		return linkTypeRaw, nil
	case unix.ARPHRD_IEEE80211_RADIOTAP:
		return linkTypeRadiotap, nil
	}
	return 0, fmt.Errorf("%w: link layer ARPHRD %d has no pcap link type for raw packet sockets", capture.ErrNotSupported, hatype)
}
