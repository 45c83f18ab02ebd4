package decode

import (
	"encoding/binary"
	"net/netip"
)

// IPv6 header constants (RFC 8200) and extension header numbers
// (IANA "Assigned Internet Protocol Numbers").
const (
	ipv6HeaderLen     = 40
	ipv6FragHeaderLen = 8
	protoHopByHop     = 0
	protoRouting      = 43
	protoFragment     = 44
	protoESP          = 50
	protoAH           = 51
	protoNoNext       = 59
	protoDestOpts     = 60
)

// frag6 is what a non-atomic IPv6 Fragment header says.
type frag6 struct {
	found bool
	more  bool
	off   int
	id    uint32
}

// ipv6 decodes an IPv6 header, its extension headers and what follows.
// Payload length handling mirrors [Decoder.ipv4]; a payload length of 0
// (jumbogram or segmentation offload) uses the captured length.
func (d *Decoder) ipv6(b []byte, ts int64, p *Packet) error {
	if len(b) < ipv6HeaderLen {
		return ErrTruncated
	}
	if b[0]>>4 != 6 {
		return ErrMalformed
	}
	p.L3 = L3IPv6
	p.SrcIP = netip.AddrFrom16([16]byte(b[8:24]))
	p.DstIP = netip.AddrFrom16([16]byte(b[24:40]))
	nh := b[6]
	p.IPProto = nh
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	b = b[ipv6HeaderLen:]
	switch {
	case plen == 0:
	case plen < len(b):
		b = b[:plen]
	case plen > len(b):
		p.Truncated = true
	}
	nh, b, f, err := ext6(nh, b)
	p.IPProto = nh
	if err != nil {
		return err
	}
	if !f.found {
		return transport(nh, b, p)
	}
	k := fragKey{src: p.SrcIP, dst: p.DstIP, id: f.id, proto: nh}
	dgram, done := d.fragment(p, k, f.off, f.more, b, ts)
	if !done {
		return nil
	}
	// The fragmentable part may start with more extension headers.
	nh, b, f, err = ext6(nh, dgram)
	p.IPProto = nh
	if err != nil {
		return err
	}
	if f.found {
		// A fragment inside a reassembled fragment: not worth following.
		p.L4 = L4Other
		return nil
	}
	return transport(nh, b, p)
}

// ext6 walks the IPv6 extension headers starting with next header nh at
// the front of b. It stops at the first upper-layer header (returning its
// number and bytes) or at a Fragment header that is not atomic (RFC 6946),
// whose fields it returns in f with the fragment data as b. ESP and "no
// next header" end the walk: their number is returned.
func ext6(nh uint8, b []byte) (uint8, []byte, frag6, error) {
	for {
		var n int
		switch nh {
		case protoHopByHop, protoRouting, protoDestOpts:
			if len(b) < 2 {
				return nh, nil, frag6{}, ErrTruncated
			}
			n = (int(b[1]) + 1) * 8
		case protoAH:
			if len(b) < 2 {
				return nh, nil, frag6{}, ErrTruncated
			}
			n = (int(b[1]) + 2) * 4
		case protoFragment:
			if len(b) < ipv6FragHeaderLen {
				return nh, nil, frag6{}, ErrTruncated
			}
			fo := binary.BigEndian.Uint16(b[2:4])
			f := frag6{
				off:  int(fo &^ 7),
				more: fo&1 != 0,
				id:   binary.BigEndian.Uint32(b[4:8]),
			}
			nh, b = b[0], b[ipv6FragHeaderLen:]
			if f.off == 0 && !f.more {
				continue // atomic fragment: the datagram is whole
			}
			f.found = true
			return nh, b, f, nil
		default:
			return nh, b, frag6{}, nil
		}
		if len(b) < n {
			return nh, nil, frag6{}, ErrTruncated
		}
		nh, b = b[0], b[n:]
	}
}
