package decode

import "encoding/binary"

// Ethertypes (IEEE 802 numbers, https://standards-oui.ieee.org/ethertype/).
const (
	etherTypeIPv4     = 0x0800
	etherTypeIPv6     = 0x86DD
	etherTypeVLAN     = 0x8100 // IEEE 802.1Q customer tag
	etherTypeQinQ     = 0x88A8 // IEEE 802.1ad service tag
	etherTypeQinQOld  = 0x9100 // pre-standard QinQ tag
	etherTypeMPLS     = 0x8847 // RFC 3032 MPLS unicast
	etherTypeMinValue = 0x0600 // smaller values are IEEE 802.3 lengths
)

// Header sizes of the link layers.
const (
	ethHeaderLen  = 14
	vlanTagLen    = 4
	maxVLANTags   = 8
	sllHeaderLen  = 16 // Linux cooked capture v1
	sll2HeaderLen = 20 // Linux cooked capture v2
	nullHeaderLen = 4  // BSD loopback / OpenBSD loop
	mplsLabelLen  = 4
	maxMPLSLabels = 16
)

// BSD address families seen in DLT_NULL/DLT_LOOP headers: AF_INET is 2
// everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS).
const (
	afInet        = 2
	afInet6BSD    = 24
	afInet6FreeBS = 28
	afInet6Darwin = 30
)

// netProto is the network protocol found after the link header.
type netProto uint8

const (
	netOther netProto = iota // not IP: counted as unsupported
	netIPv4
	netIPv6
	netByVersion // raw IP: decide from the version nibble
)

// link strips the link-layer header of data, filling the Ethernet fields of
// p, and returns what follows it and its protocol. err is nil, ErrTruncated,
// ErrMalformed or ErrUnsupportedLink.
func link(lt LinkType, data []byte, p *Packet) ([]byte, netProto, error) {
	switch lt {
	case LinkEthernet:
		return ethernet(data, p)
	case LinkLinuxSLL:
		return sll(data, p)
	case LinkLinuxSLL2:
		return sll2(data, p)
	case LinkNull:
		return null(data, false)
	case LinkLoop:
		return null(data, true)
	case LinkRaw, 12, 14:
		return data, netByVersion, nil
	case LinkIPv4:
		return data, netIPv4, nil
	case LinkIPv6:
		return data, netIPv6, nil
	}
	return nil, netOther, ErrUnsupportedLink
}

// ethernet parses an Ethernet II header and any 802.1Q/802.1ad tags.
func ethernet(b []byte, p *Packet) ([]byte, netProto, error) {
	if len(b) < ethHeaderLen {
		return nil, netOther, ErrTruncated
	}
	copy(p.EthDst[:], b[0:6])
	copy(p.EthSrc[:], b[6:12])
	p.HasEth = true
	et := binary.BigEndian.Uint16(b[12:14])
	b = b[ethHeaderLen:]
	for et == etherTypeVLAN || et == etherTypeQinQ || et == etherTypeQinQOld {
		if p.VLANs == maxVLANTags {
			return nil, netOther, ErrMalformed
		}
		if len(b) < vlanTagLen {
			return nil, netOther, ErrTruncated
		}
		p.VLANs++
		et = binary.BigEndian.Uint16(b[2:4])
		b = b[vlanTagLen:]
	}
	return etherType(et, b)
}

// etherType maps an ethertype to the network protocol that follows.
func etherType(et uint16, b []byte) ([]byte, netProto, error) {
	switch et {
	case etherTypeIPv4:
		return b, netIPv4, nil
	case etherTypeIPv6:
		return b, netIPv6, nil
	case etherTypeMPLS:
		return mpls(b)
	}
	return b, netOther, nil
}

// mpls skips an MPLS label stack (RFC 3032) up to the entry with the
// bottom-of-stack bit and guesses the payload from its first nibble, as
// Wireshark does: 4 is IPv4, 6 is IPv6, anything else (pseudowire control
// word, Ethernet over MPLS) is left unsupported.
func mpls(b []byte) ([]byte, netProto, error) {
	for i := 0; ; i++ {
		if i == maxMPLSLabels {
			return nil, netOther, ErrMalformed
		}
		if len(b) < mplsLabelLen {
			return nil, netOther, ErrTruncated
		}
		bottom := b[2]&0x01 != 0
		b = b[mplsLabelLen:]
		if bottom {
			break
		}
	}
	if len(b) == 0 {
		return nil, netOther, ErrTruncated
	}
	switch b[0] >> 4 {
	case 4:
		return b, netIPv4, nil
	case 6:
		return b, netIPv6, nil
	}
	return b, netOther, nil
}

// sll parses a Linux cooked v1 header: packet type (2), ARPHRD type (2),
// address length (2), address (8), protocol (2).
func sll(b []byte, p *Packet) ([]byte, netProto, error) {
	if len(b) < sllHeaderLen {
		return nil, netOther, ErrTruncated
	}
	if binary.BigEndian.Uint16(b[4:6]) == 6 {
		copy(p.EthSrc[:], b[6:12])
		p.HasEth = true
	}
	return sllProto(binary.BigEndian.Uint16(b[14:16]), b[sllHeaderLen:])
}

// sll2 parses a Linux cooked v2 header: protocol (2), reserved (2),
// interface index (4), ARPHRD type (2), packet type (1), address length
// (1), address (8).
func sll2(b []byte, p *Packet) ([]byte, netProto, error) {
	if len(b) < sll2HeaderLen {
		return nil, netOther, ErrTruncated
	}
	if b[11] == 6 {
		copy(p.EthSrc[:], b[12:18])
		p.HasEth = true
	}
	return sllProto(binary.BigEndian.Uint16(b[0:2]), b[sll2HeaderLen:])
}

// sllProto maps the SLL protocol field. Values below 0x0600 are Linux
// pseudo protocols (802.2 LLC, CAN, ...) and not IP.
func sllProto(proto uint16, b []byte) ([]byte, netProto, error) {
	if proto < etherTypeMinValue {
		return b, netOther, nil
	}
	return etherType(proto, b)
}

// null parses the 4-byte address family of DLT_NULL (host byte order of
// the capturing machine, so both orders are tried) or DLT_LOOP (network
// byte order).
func null(b []byte, networkOrder bool) ([]byte, netProto, error) {
	if len(b) < nullHeaderLen {
		return nil, netOther, ErrTruncated
	}
	fam := binary.BigEndian.Uint32(b[0:4])
	if !networkOrder && fam > 0xFFFF {
		fam = binary.LittleEndian.Uint32(b[0:4])
	}
	b = b[nullHeaderLen:]
	switch fam {
	case afInet:
		return b, netIPv4, nil
	case afInet6BSD, afInet6FreeBS, afInet6Darwin:
		return b, netIPv6, nil
	}
	return b, netOther, nil
}
