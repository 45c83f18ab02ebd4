package tcpasm

import (
	"encoding/binary"
	"net/netip"
	"os"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// Crafted-segment helpers.

var (
	cliAddr = netip.MustParseAddr("10.0.0.1")
	srvAddr = netip.MustParseAddr("10.0.0.2")
)

const (
	cliISN  = 1000
	srvISN  = 5000
	cliPort = 40000
	srvPort = 53
	synFl   = decode.TCPSyn
	synAck  = decode.TCPSyn | decode.TCPAck
	ack     = decode.TCPAck
	psh     = decode.TCPPsh | decode.TCPAck
	finAck  = decode.TCPFin | decode.TCPAck
	rstFl   = decode.TCPRst
)

// seg describes one crafted segment.
type seg struct {
	client bool   // sent by the client endpoint
	seq    uint32 // sequence number
	flags  uint8
	data   string
	ts     int64  // event time; 0 means (index+1) µs
	port   uint16 // client port; 0 means cliPort
}

func c(seq uint32, flags uint8, data string) seg {
	return seg{client: true, seq: seq, flags: flags, data: data}
}

func s(seq uint32, flags uint8, data string) seg {
	return seg{client: false, seq: seq, flags: flags, data: data}
}

// handshake returns SYN, SYN+ACK, ACK for the default client port.
func handshake() []seg {
	return []seg{c(cliISN, synFl, ""), s(srvISN, synAck, ""), c(cliISN+1, ack, "")}
}

// dns frames body with a DNS over TCP length prefix.
func dns(body string) string {
	return string([]byte{byte(len(body) >> 8), byte(len(body))}) + body
}

// packets turns segs into decode.Packets.
func packets(tb testing.TB, segs []seg) []decode.Packet {
	tb.Helper()
	out := make([]decode.Packet, len(segs))
	for i, sg := range segs {
		port := sg.port
		if port == 0 {
			port = cliPort
		}
		p := &out[i]
		p.L3, p.L4, p.IPProto = decode.L3IPv4, decode.L4TCP, 6
		p.TS = sg.ts
		if p.TS == 0 {
			p.TS = int64(i+1) * 1000
		}
		if sg.client {
			p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = cliAddr, srvAddr, port, srvPort
		} else {
			p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = srvAddr, cliAddr, srvPort, port
		}
		p.TCPSeq, p.TCPFlags = sg.seq, sg.flags
		if sg.data != "" {
			p.Payload = []byte(sg.data)
		}
	}
	return out
}

// emitted is one recorded EmitFunc call.
type emitted struct {
	client bool
	msg    string
	ts     int64
	sport  uint16
}

// recorder collects emitted messages.
type recorder struct{ got []emitted }

func (r *recorder) emit(p *decode.Packet, fromClient bool, msg []byte) {
	r.got = append(r.got, emitted{client: fromClient, msg: string(msg), ts: p.TS, sport: p.SrcPort})
}

// Capture helpers: a minimal pcap reader and frame walker, enough for the
// test captures (the real reader and decoder live in other packages).

// readCapture reads every TCP segment of a classic pcap file into packets
// whose Payload slices point into one copy of the file.
func readCapture(tb testing.TB, path string) []decode.Packet {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read capture: %v", err)
	}
	pkts, err := parsePcap(raw)
	if err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
	return pkts
}

type pcapError string

func (e pcapError) Error() string { return string(e) }

// parsePcap walks a classic pcap file (either byte order, µs or ns) and
// returns its TCP segments.
func parsePcap(raw []byte) ([]decode.Packet, error) {
	if len(raw) < 24 {
		return nil, pcapError("short pcap header")
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(raw) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nano = binary.BigEndian, true
	default:
		return nil, pcapError("not a classic pcap file")
	}
	link := bo.Uint32(raw[20:]) & 0x0fffffff
	var out []decode.Packet
	for off := 24; off+16 <= len(raw); {
		sec, frac := int64(bo.Uint32(raw[off:])), int64(bo.Uint32(raw[off+4:]))
		incl := int(bo.Uint32(raw[off+8:]))
		off += 16
		if incl < 0 || off+incl > len(raw) {
			return out, pcapError("truncated record")
		}
		frame := raw[off : off+incl]
		off += incl
		if !nano {
			frac *= 1000
		}
		var p decode.Packet
		if walkFrame(link, frame, &p) {
			p.TS = sec*1e9 + frac
			out = append(out, p)
		}
	}
	return out, nil
}

// walkFrame decodes link, IP and TCP headers into p and reports whether the
// frame is a TCP segment.
func walkFrame(link uint32, b []byte, p *decode.Packet) bool {
	var etype uint16
	switch link {
	case 1: // Ethernet
		if len(b) < 14 {
			return false
		}
		etype, b = binary.BigEndian.Uint16(b[12:]), b[14:]
		for (etype == 0x8100 || etype == 0x88a8) && len(b) >= 4 {
			etype, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		}
	case 113: // Linux SLL
		if len(b) < 16 {
			return false
		}
		etype, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case 0: // BSD NULL, host-order family
		if len(b) < 4 {
			return false
		}
		fam := binary.LittleEndian.Uint32(b)
		if fam > 0xffff {
			fam = binary.BigEndian.Uint32(b)
		}
		b = b[4:]
		etype = 0x86dd
		if fam == 2 {
			etype = 0x0800
		}
	case 101, 228, 229: // raw IP
		if len(b) < 1 {
			return false
		}
		etype = 0x86dd
		if b[0]>>4 == 4 {
			etype = 0x0800
		}
	default:
		return false
	}
	var proto uint8
	switch etype {
	case 0x0800:
		if len(b) < 20 || b[0]>>4 != 4 {
			return false
		}
		ihl := int(b[0]&0x0f) * 4
		tot := int(binary.BigEndian.Uint16(b[2:]))
		if ihl < 20 || tot < ihl || len(b) < ihl {
			return false
		}
		if binary.BigEndian.Uint16(b[6:])&0x3fff != 0 {
			return false // fragment
		}
		proto = b[9]
		p.L3 = decode.L3IPv4
		p.SrcIP = netip.AddrFrom4([4]byte(b[12:16]))
		p.DstIP = netip.AddrFrom4([4]byte(b[16:20]))
		b = b[ihl:min(tot, len(b))]
	case 0x86dd:
		if len(b) < 40 || b[0]>>4 != 6 {
			return false
		}
		plen := int(binary.BigEndian.Uint16(b[4:]))
		proto = b[6]
		p.L3 = decode.L3IPv6
		p.SrcIP = netip.AddrFrom16([16]byte(b[8:24]))
		p.DstIP = netip.AddrFrom16([16]byte(b[24:40]))
		b = b[40:min(40+plen, len(b))]
		for proto == 0 || proto == 43 || proto == 60 {
			if len(b) < 8 {
				return false
			}
			n := (int(b[1]) + 1) * 8
			if len(b) < n {
				return false
			}
			proto, b = b[0], b[n:]
		}
	default:
		return false
	}
	if proto != 6 || len(b) < 20 {
		return false
	}
	doff := int(b[12]>>4) * 4
	if doff < 20 || len(b) < doff {
		return false
	}
	p.L4, p.IPProto = decode.L4TCP, 6
	p.SrcPort = binary.BigEndian.Uint16(b[0:])
	p.DstPort = binary.BigEndian.Uint16(b[2:])
	p.TCPSeq = binary.BigEndian.Uint32(b[4:])
	p.TCPAck = binary.BigEndian.Uint32(b[8:])
	p.TCPFlags = b[13]
	p.Payload = b[doff:]
	return true
}
