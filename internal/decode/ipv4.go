package decode

import (
	"encoding/binary"
	"net/netip"
)

// IPv4 header constants (RFC 791).
const (
	ipv4MinHeaderLen = 20
	ipv4FlagMF       = 0x2000 // more fragments
	ipv4OffsetMask   = 0x1FFF // fragment offset in 8-byte units
)

// ipv4 decodes an IPv4 header and what follows it.
//
// A total length below the captured length trims the trailing bytes
// (Ethernet padding, trailers); a total length above it marks p.Truncated
// (snaplen) without an error. A total length of 0 is taken as a
// segmentation-offload capture and the captured length is used.
//
// p.L3 is set only once the 20-byte fixed header is there: a frame cut
// before that is ErrTruncated with L3Unknown, as PcapPlusPlus (pktvisor's
// parser) does, while tshark would still label it "ip". No frame of the
// test captures is cut that short, so the counts still agree.
func (d *Decoder) ipv4(b []byte, ts int64, p *Packet) error {
	if len(b) < ipv4MinHeaderLen {
		return ErrTruncated
	}
	if b[0]>>4 != 4 {
		return ErrMalformed
	}
	hl := int(b[0]&0x0F) * 4
	if hl < ipv4MinHeaderLen {
		return ErrMalformed
	}
	p.L3 = L3IPv4
	p.SrcIP = netip.AddrFrom4([4]byte(b[12:16]))
	p.DstIP = netip.AddrFrom4([4]byte(b[16:20]))
	d.src4, d.dst4 = binary.BigEndian.Uint32(b[12:]), binary.BigEndian.Uint32(b[16:])
	p.IPProto = b[9]
	if len(b) < hl {
		return ErrTruncated
	}
	total := int(binary.BigEndian.Uint16(b[2:4]))
	switch {
	case total == 0:
		// Segmentation offload: the length was left for the NIC to fill.
	case total < hl:
		return ErrMalformed
	case total < len(b):
		b = b[:total]
	case total > len(b):
		p.Truncated = true
	}
	ff := binary.BigEndian.Uint16(b[6:8])
	off := int(ff&ipv4OffsetMask) * 8
	more := ff&ipv4FlagMF != 0
	payload := b[hl:]
	if !more && off == 0 {
		return transport(p.IPProto, payload, p)
	}
	k := fragKey{
		src:   p.SrcIP,
		dst:   p.DstIP,
		id:    uint32(binary.BigEndian.Uint16(b[4:6])),
		proto: p.IPProto,
	}
	dgram, done := d.fragment(p, k, off, more, payload, ts)
	if !done {
		return nil
	}
	return transport(p.IPProto, dgram, p)
}
