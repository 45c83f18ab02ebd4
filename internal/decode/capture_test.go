package decode

import (
	"encoding/binary"
	"os"
	"testing"
)

// frame is one captured frame read by [readCapture].
type frame struct {
	link    LinkType
	data    []byte
	ts      int64
	wireLen int
}

// readCapture reads every frame of a pcap or pcapng file. It is a minimal
// reader for tests only (the real one lives in the capture package, which
// this package must not import): it understands both pcap byte orders and
// resolutions and the pcapng section, interface and packet blocks.
func readCapture(tb testing.TB, path string) []frame {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read capture: %v", err)
	}
	if len(b) >= 4 && binary.BigEndian.Uint32(b) == 0x0A0D0D0A {
		return readPcapng(tb, b)
	}
	return readPcap(tb, b)
}

// readPcap parses a classic pcap file.
func readPcap(tb testing.TB, b []byte) []frame {
	tb.Helper()
	if len(b) < 24 {
		tb.Fatalf("pcap: short header")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	unit := int64(1000) // microseconds
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		unit = 1
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, unit = binary.BigEndian, 1
	default:
		tb.Fatalf("pcap: bad magic % x", b[:4])
	}
	lt := LinkType(bo.Uint32(b[20:24]) & 0xFFFF)
	var out []frame
	for off := 24; off+16 <= len(b); {
		sec, frac := int64(bo.Uint32(b[off:])), int64(bo.Uint32(b[off+4:]))
		incl, orig := int(bo.Uint32(b[off+8:])), int(bo.Uint32(b[off+12:]))
		off += 16
		if incl > len(b)-off {
			tb.Fatalf("pcap: record past end of file")
		}
		out = append(out, frame{link: lt, data: b[off : off+incl], ts: sec*1e9 + frac*unit, wireLen: orig})
		off += incl
	}
	return out
}

// readPcapng parses a pcapng file (enhanced and simple packet blocks).
func readPcapng(tb testing.TB, b []byte) []frame {
	tb.Helper()
	type iface struct {
		link LinkType
		snap int
		// ts divides raw timestamps into nanoseconds: units per second.
		perSec int64
	}
	var (
		bo     binary.ByteOrder = binary.LittleEndian
		ifaces []iface
		out    []frame
	)
	for off := 0; off+12 <= len(b); {
		if binary.BigEndian.Uint32(b[off:]) == 0x0A0D0D0A {
			if binary.LittleEndian.Uint32(b[off+8:]) == 0x1A2B3C4D {
				bo = binary.LittleEndian
			} else {
				bo = binary.BigEndian
			}
			ifaces = ifaces[:0]
		}
		typ, n := bo.Uint32(b[off:]), int(bo.Uint32(b[off+4:]))
		if n < 12 || n > len(b)-off {
			tb.Fatalf("pcapng: bad block length %d at %d", n, off)
		}
		body := b[off+8 : off+n-4]
		switch typ {
		case 1: // interface description
			ifc := iface{link: LinkType(bo.Uint16(body)), snap: int(bo.Uint32(body[4:])), perSec: 1e6}
			for o := 8; o+4 <= len(body); {
				code, l := bo.Uint16(body[o:]), int(bo.Uint16(body[o+2:]))
				if code == 0 || o+4+l > len(body) {
					break
				}
				if code == 9 && l >= 1 { // if_tsresol
					v := body[o+4]
					ifc.perSec = 1
					for i := 0; i < int(v&0x7F); i++ {
						if v&0x80 != 0 {
							ifc.perSec *= 2
						} else {
							ifc.perSec *= 10
						}
					}
				}
				o += 4 + (l+3)&^3
			}
			ifaces = append(ifaces, ifc)
		case 6: // enhanced packet
			id := int(bo.Uint32(body))
			raw := int64(bo.Uint32(body[4:]))<<32 | int64(bo.Uint32(body[8:]))
			incl, orig := int(bo.Uint32(body[12:])), int(bo.Uint32(body[16:]))
			if id >= len(ifaces) || 20+incl > len(body) {
				tb.Fatalf("pcapng: bad enhanced packet block at %d", off)
			}
			ifc := ifaces[id]
			ts := raw / ifc.perSec * 1e9
			ts += raw % ifc.perSec * 1e9 / ifc.perSec
			out = append(out, frame{link: ifc.link, data: body[20 : 20+incl], ts: ts, wireLen: orig})
		case 3: // simple packet
			if len(ifaces) == 0 {
				tb.Fatalf("pcapng: simple packet before interface")
			}
			orig := int(bo.Uint32(body))
			incl := min(orig, len(body)-4)
			if s := ifaces[0].snap; s > 0 {
				incl = min(incl, s)
			}
			out = append(out, frame{link: ifaces[0].link, data: body[4 : 4+incl], wireLen: orig})
		}
		off += n
	}
	return out
}
