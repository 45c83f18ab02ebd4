package decode

import "encoding/binary"

// FlowHash returns a direction-independent hash of a frame's flow, for
// spreading frames over workers so that both directions of a TCP stream or
// a DNS exchange meet on one: the IP addresses, protocol and (for an
// unfragmented TCP/UDP packet) ports, combined symmetrically. Every
// fragment of a datagram hashes on addresses and protocol only, so the
// fragments meet too; all DHCP (ports 67, 68, 546, 547) hashes alike, as
// an exchange changes addresses. Frames that are not IP hash to 0. It reads only
// headers and does not allocate.
func FlowHash(lt LinkType, data []byte) uint64 {
	var b []byte
	np := netByVersion
	if lt == LinkEthernet && len(data) >= ethHeaderLen+20 {
		// The common case without the general link parser (no VLAN tag).
		switch binary.BigEndian.Uint16(data[12:14]) {
		case etherTypeIPv4:
			b, np = data[ethHeaderLen:], netIPv4
		case etherTypeIPv6:
			b, np = data[ethHeaderLen:], netIPv6
		}
	}
	if b == nil {
		var p Packet
		var err error
		b, np, err = link(lt, data, &p)
		if err != nil {
			return 0
		}
	}
	if np == netByVersion && len(b) > 0 {
		switch b[0] >> 4 {
		case 4:
			np = netIPv4
		case 6:
			np = netIPv6
		}
	}
	// Each endpoint (address folded to 64 bits, port) becomes one word;
	// ordering the two words makes the hash direction-independent.
	var e1, e2 uint64
	var proto uint8
	var l4 []byte
	switch np {
	case netIPv4:
		if len(b) < 20 {
			return 0
		}
		ihl := int(b[0]&0xf) * 4
		proto = b[9]
		e1 = uint64(binary.BigEndian.Uint32(b[12:])) << 16
		e2 = uint64(binary.BigEndian.Uint32(b[16:])) << 16
		frag := binary.BigEndian.Uint16(b[6:])&0x3fff != 0 // MF or offset
		if !frag && ihl >= 20 && len(b) >= ihl+4 {
			l4 = b[ihl:]
		}
	case netIPv6:
		if len(b) < 40 {
			return 0
		}
		proto = b[6]
		e1 = (binary.BigEndian.Uint64(b[8:])*hashK ^ binary.BigEndian.Uint64(b[16:])) << 16
		e2 = (binary.BigEndian.Uint64(b[24:])*hashK ^ binary.BigEndian.Uint64(b[32:])) << 16
		if (proto == 6 || proto == 17) && len(b) >= 44 {
			l4 = b[40:] // extension headers (and fragments) hash on addresses
		}
	default:
		return 0
	}
	if (proto == 6 || proto == 17) && l4 != nil {
		sp, dp := binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
		if proto == 17 && (isDHCP(sp) || isDHCP(dp)) {
			// A DHCP exchange changes addresses (0.0.0.0, broadcast, the
			// leased address): keep all of DHCP together.
			return mix(67)
		}
		e1 |= uint64(sp)
		e2 |= uint64(dp)
	}
	lo, hi := min(e1, e2), max(e1, e2)
	return mix(lo*hashK ^ hi ^ uint64(proto)<<56)
}

// hashK is an odd 64-bit constant (the golden ratio) for multiplicative mixing.
const hashK = 0x9e3779b97f4a7c15

func isDHCP(port uint16) bool { return port == 67 || port == 68 || port == 546 || port == 547 }

// mix is a 64-bit finalizer (splitmix64).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
