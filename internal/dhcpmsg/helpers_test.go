package dhcpmsg

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// fixture returns the path of a capture in the repository's testdata.
func fixture(name string) string {
	return filepath.Join("..", "..", "testdata", "captures", name)
}

// udpPayloads reads a classic pcap file and returns copies of the UDP
// payloads of packets with one of ports on either side, in file order.
func udpPayloads(tb testing.TB, path string, ports ...uint16) [][]byte {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	if len(raw) < 24 {
		tb.Fatalf("%s: short pcap header", path)
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(raw) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		tb.Fatalf("%s: not a classic pcap file", path)
	}
	lt := decode.LinkType(bo.Uint32(raw[20:]) & 0x0fffffff)
	dec := decode.NewDecoder(decode.Config{})
	var p decode.Packet
	var out [][]byte
	for off := 24; off+16 <= len(raw); {
		incl := int(bo.Uint32(raw[off+8:]))
		orig := int(bo.Uint32(raw[off+12:]))
		if off+16+incl > len(raw) {
			tb.Fatalf("%s: record at %d runs past the end", path, off)
		}
		frame := raw[off+16 : off+16+incl]
		off += 16 + incl
		if err := dec.Decode(lt, frame, 0, orig, &p); err != nil || p.L4 != decode.L4UDP {
			continue
		}
		for _, port := range ports {
			if p.SrcPort == port || p.DstPort == port {
				out = append(out, append([]byte(nil), p.Payload...))
				break
			}
		}
	}
	return out
}
