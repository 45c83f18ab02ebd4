package dnsmsg

import (
	"encoding/binary"
	"net/netip"
)

// Wire-format limits (RFC 1035 §2.3.4, §4.1.4).
const (
	headerLen   = 12
	maxLabelLen = 63
	maxWireName = 255
	// maxJumps bounds the compression pointers followed in one name. Each
	// pointer must also point below the previous one, so loops end sooner.
	maxJumps = 64
)

// EDNS option codes (IANA EDNS0 option codes registry).
const (
	optionECS = 8 // RFC 7871 §6
)

// ECS address families (RFC 7871 §6, IANA address family numbers).
const (
	ecsFamilyIPv4 = 1
	ecsFamilyIPv6 = 2
)

// Parse decodes b into m: the header, the first question and, when
// opt.Records is set, the remaining questions and all resource records (see
// [ParseOptions]). It resets m first and keeps no reference to b.
//
// Errors, all returned unwrapped so that Parse does not allocate:
//   - [ErrShort]: b is shorter than the 12-byte header; m stays reset.
//   - [ErrNoQuestion]: QDCount is 0. The header is set, and with
//     opt.Records the sections after the (empty) question section are still
//     walked, so HasOPT and ECS may be set.
//   - [ErrName]: the first question's name is malformed: a label longer than
//     63 bytes, a reserved label type, a compression pointer that does not
//     point below the previous one, too many pointers, a wire name longer
//     than 255 bytes, or a name running past the end of b.
//   - [ErrQuestion]: the name parsed but QType/QClass are missing.
//   - [ErrRecord]: with opt.Records, a later question or a resource record
//     is malformed or truncated. Everything read before the bad record
//     (header, question, AnswerRRSIG, OPT fields) stays set.
//
// On every error the header fields stay set once b holds 12 bytes.
// Trailing bytes after the last counted record are ignored.
func (m *Message) Parse(b []byte, opt ParseOptions) error {
	m.reset()
	if len(b) < headerLen {
		return ErrShort
	}
	m.ID = binary.BigEndian.Uint16(b[0:])
	m.Flags = binary.BigEndian.Uint16(b[2:])
	m.QDCount = binary.BigEndian.Uint16(b[4:])
	m.ANCount = binary.BigEndian.Uint16(b[6:])
	m.NSCount = binary.BigEndian.Uint16(b[8:])
	m.ARCount = binary.BigEndian.Uint16(b[10:])

	off := headerLen
	if m.QDCount == 0 {
		if opt.Records {
			// Errors in the records are secondary to the missing question.
			_ = m.parseRecords(b, off, 0)
		}
		return ErrNoQuestion
	}

	end, n, ok := m.readName(b, off)
	if !ok {
		return ErrName
	}
	m.nameLen = n
	if end+4 > len(b) {
		return ErrQuestion
	}
	m.QType = binary.BigEndian.Uint16(b[end:])
	m.QClass = binary.BigEndian.Uint16(b[end+2:])
	m.HasQuestion = true
	if !opt.Records {
		return nil
	}
	return m.parseRecords(b, end+4, int(m.QDCount)-1)
}

// reset clears every field without touching the name buffer's contents.
func (m *Message) reset() {
	m.ID, m.Flags = 0, 0
	m.QDCount, m.ANCount, m.NSCount, m.ARCount = 0, 0, 0, 0
	m.HasQuestion, m.QType, m.QClass = false, 0, 0
	m.AnswerRRSIG, m.HasOPT, m.ExtRcode, m.UDPSize = false, false, 0, 0
	m.HasECS, m.ECS, m.ECSSourcePrefix = false, netip.Addr{}, 0
	m.nameLen = 0
}

// parseRecords walks questions more questions starting at off, then the
// answer, authority and additional sections.
func (m *Message) parseRecords(b []byte, off, questions int) error {
	for range questions {
		end, ok := skipName(b, off)
		if !ok || end+4 > len(b) {
			return ErrRecord
		}
		off = end + 4
	}
	an, ns, ar := int(m.ANCount), int(m.NSCount), int(m.ARCount)
	total := an + ns + ar
	for i := range total {
		end, ok := skipName(b, off)
		if !ok || end+10 > len(b) {
			return ErrRecord
		}
		typ := binary.BigEndian.Uint16(b[end:])
		class := binary.BigEndian.Uint16(b[end+2:])
		ttl := binary.BigEndian.Uint32(b[end+4:])
		rdlen := int(binary.BigEndian.Uint16(b[end+8:]))
		rdata := end + 10
		if rdata+rdlen > len(b) {
			return ErrRecord
		}
		switch {
		case i < an:
			if typ == TypeRRSIG {
				m.AnswerRRSIG = true
			}
		case i >= an+ns:
			if typ == TypeOPT && !m.HasOPT {
				m.HasOPT = true
				m.UDPSize = class
				m.ExtRcode = uint8(ttl >> 24)
				if !m.parseOptions(b[rdata : rdata+rdlen]) {
					return ErrRecord
				}
			}
		}
		off = rdata + rdlen
	}
	return nil
}

// parseOptions walks the EDNS options of an OPT record (RFC 6891 §6.1.2)
// and reports false when they are malformed.
func (m *Message) parseOptions(rd []byte) bool {
	for len(rd) > 0 {
		if len(rd) < 4 {
			return false
		}
		code := binary.BigEndian.Uint16(rd)
		n := int(binary.BigEndian.Uint16(rd[2:]))
		if 4+n > len(rd) {
			return false
		}
		if code == optionECS && !m.HasECS {
			if !m.parseECS(rd[4 : 4+n]) {
				return false
			}
		}
		rd = rd[4+n:]
	}
	return true
}

// parseECS decodes an EDNS Client Subnet option body (RFC 7871 §6):
// FAMILY (2), SOURCE PREFIX-LENGTH (1), SCOPE PREFIX-LENGTH (1), ADDRESS
// (the significant bytes only). An unknown family is skipped, not an error.
func (m *Message) parseECS(o []byte) bool {
	if len(o) < 4 {
		return false
	}
	family := binary.BigEndian.Uint16(o)
	source := int(o[2])
	addr := o[4:]
	var a netip.Addr
	switch family {
	case ecsFamilyIPv4:
		if source > 32 || len(addr) > 4 {
			return false
		}
		var v4 [4]byte
		copy(v4[:], addr)
		a = netip.AddrFrom4(v4)
	case ecsFamilyIPv6:
		if source > 128 || len(addr) > 16 {
			return false
		}
		var v6 [16]byte
		copy(v6[:], addr)
		a = netip.AddrFrom16(v6)
	default:
		return true
	}
	p, err := a.Prefix(source)
	if err != nil {
		return false
	}
	m.HasECS = true
	m.ECS = p.Addr()
	m.ECSSourcePrefix = uint8(source)
	return true
}

// readName decodes the name at off into m.name in presentation form and
// returns the offset just past the name in the original (uncompressed)
// position, the presentation length, and whether the name is well formed.
func (m *Message) readName(b []byte, off int) (end, n int, ok bool) {
	end = -1
	limit := off // every pointer must point below this
	wire := 0
	jumps := 0
	for {
		if off >= len(b) {
			return 0, 0, false
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0x00:
			wire += l + 1
			if wire > maxWireName {
				return 0, 0, false
			}
			if l == 0 {
				if end < 0 {
					end = off + 1
				}
				return end, n, true
			}
			if off+1+l > len(b) {
				return 0, 0, false
			}
			if n > 0 {
				m.name[n] = '.'
				n++
			}
			n = m.appendLabel(n, b[off+1:off+1+l])
			off += 1 + l
		case 0xc0:
			if off+2 > len(b) {
				return 0, 0, false
			}
			target := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if target >= limit || jumps >= maxJumps {
				return 0, 0, false
			}
			jumps++
			if end < 0 {
				end = off + 2
			}
			limit = target
			off = target
		default: // 0x40 extended (RFC 6891 §5) and 0x80 reserved label types
			return 0, 0, false
		}
	}
}

// appendLabel writes one label at m.name[n:] in lower-case presentation form
// and returns the new length. The caller bounds the wire name to 255 bytes,
// so the result never exceeds MaxNameLen.
func (m *Message) appendLabel(n int, label []byte) int {
	// Fast path: printable bytes that need no escape, lower-cased in one
	// pass over a slice whose bounds are checked once.
	if dst := m.name[n:]; len(dst) >= len(label) {
		dst = dst[:len(label)]
		for i, c := range label {
			d := labelByte[c]
			if d == 0 {
				return m.appendLabelEscaped(n, label)
			}
			dst[i] = d
		}
		return n + len(label)
	}
	return m.appendLabelEscaped(n, label)
}

// labelByte (read-only) maps a label byte to its lower-case presentation
// byte, or to 0 when it needs a \DDD escape: outside 0x21-0x7E, '.' and
// '\\'.
var labelByte = func() (t [256]byte) {
	for c := 0x21; c <= 0x7e; c++ {
		switch {
		case c == '.' || c == '\\':
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		default:
			t[c] = byte(c)
		}
	}
	return t
}()

// appendLabelEscaped is appendLabel for labels with bytes that need a
// \DDD escape (RFC 4343 §2.1).
func (m *Message) appendLabelEscaped(n int, label []byte) int {
	for _, c := range label {
		switch {
		case c >= 'A' && c <= 'Z':
			m.name[n] = c + ('a' - 'A')
			n++
		case c > ' ' && c < 0x7f && c != '.' && c != '\\':
			m.name[n] = c
			n++
		default:
			m.name[n] = '\\'
			m.name[n+1] = '0' + c/100
			m.name[n+2] = '0' + c/10%10
			m.name[n+3] = '0' + c%10
			n += 4
		}
	}
	return n
}

// skipName returns the offset just past the name at off, applying the same
// checks as readName without rendering it.
func skipName(b []byte, off int) (end int, ok bool) {
	end = -1
	limit := off
	wire := 0
	jumps := 0
	for {
		if off >= len(b) {
			return 0, false
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0x00:
			wire += l + 1
			if wire > maxWireName {
				return 0, false
			}
			if l == 0 {
				if end < 0 {
					end = off + 1
				}
				return end, true
			}
			off += 1 + l
		case 0xc0:
			if off+2 > len(b) {
				return 0, false
			}
			target := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if target >= limit || jumps >= maxJumps {
				return 0, false
			}
			jumps++
			if end < 0 {
				end = off + 2
			}
			limit = target
			off = target
		default:
			return 0, false
		}
	}
}
