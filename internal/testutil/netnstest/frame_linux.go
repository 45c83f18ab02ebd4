//go:build linux

package netnstest

import (
	"encoding/binary"
	"net"

	"golang.org/x/sys/unix"
)

// UDPHeaderLen is the length of the Ethernet, IPv4 (no options) and UDP
// headers PutUDP writes; the payload starts there.
const UDPHeaderLen = 14 + 20 + 8

// UDPHeader describes the headers of an Ethernet/IPv4/UDP test frame.
type UDPHeader struct {
	DstMAC, SrcMAC   net.HardwareAddr
	SrcIP, DstIP     net.IP // IPv4
	SrcPort, DstPort uint16
	ID               uint16 // IPv4 identification
}

// PutUDP writes h into buf for a frame with payload bytes of UDP payload
// and returns the frame, buf[:UDPHeaderLen+payload]. The IPv4 header has
// TTL 64, no fragmentation and a valid checksum; the UDP checksum is zero
// (none, RFC 768). The payload bytes are left for the caller to fill.
func PutUDP(buf []byte, h UDPHeader, payload int) []byte {
	f := buf[:UDPHeaderLen+payload]
	copy(f[0:6], h.DstMAC)
	copy(f[6:12], h.SrcMAC)
	binary.BigEndian.PutUint16(f[12:14], unix.ETH_P_IP)
	ip := f[14:34]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:4], uint16(20+8+payload))
	binary.BigEndian.PutUint16(ip[4:6], h.ID)
	binary.BigEndian.PutUint16(ip[6:8], 0)
	ip[8], ip[9] = 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(ip[10:12], 0)
	copy(ip[12:16], h.SrcIP.To4())
	copy(ip[16:20], h.DstIP.To4())
	binary.BigEndian.PutUint16(ip[10:12], IPv4Checksum(ip))
	udp := f[34:42]
	binary.BigEndian.PutUint16(udp[0:2], h.SrcPort)
	binary.BigEndian.PutUint16(udp[2:4], h.DstPort)
	binary.BigEndian.PutUint16(udp[4:6], uint16(8+payload))
	binary.BigEndian.PutUint16(udp[6:8], 0)
	return f
}

// IPv4Checksum is the RFC 1071 checksum of an IPv4 header whose checksum
// field is zero.
func IPv4Checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
