package dhcp

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dhcpmsg"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

// frame is one pcap record.
type frame struct {
	ts   int64
	data []byte
	orig int
}

// readPcap reads a classic pcap file (micro- or nanosecond timestamps).
func readPcap(tb testing.TB, name string) (decode.LinkType, []frame) {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "captures", name))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	if len(raw) < 24 {
		tb.Fatalf("%s: short pcap header", name)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	magic := bo.Uint32(raw)
	if magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1 {
		bo = binary.BigEndian
		magic = bo.Uint32(raw)
	}
	var frac int64
	switch magic {
	case 0xa1b2c3d4:
		frac = 1e3
	case 0xa1b23c4d:
		frac = 1
	default:
		tb.Fatalf("%s: not a classic pcap file", name)
	}
	lt := decode.LinkType(bo.Uint32(raw[20:]) & 0x0fffffff)
	var out []frame
	for off := 24; off+16 <= len(raw); {
		incl := int(bo.Uint32(raw[off+8:]))
		if off+16+incl > len(raw) {
			tb.Fatalf("%s: record at %d runs past the end", name, off)
		}
		out = append(out, frame{
			ts:   int64(bo.Uint32(raw[off:]))*1e9 + int64(bo.Uint32(raw[off+4:]))*frac,
			data: raw[off+16 : off+16+incl],
			orig: int(bo.Uint32(raw[off+12:])),
		})
		off += 16 + incl
	}
	return lt, out
}

// replay feeds a capture through h as the pipeline does: Start at the first
// frame, Packet for every UDP datagram on a DHCP port, End at the last.
func replay(tb testing.TB, h *V1, name string) {
	tb.Helper()
	lt, frames := readPcap(tb, name)
	dec := decode.NewDecoder(decode.Config{})
	var p decode.Packet
	h.Start(frames[0].ts)
	for _, f := range frames {
		if dec.Decode(lt, f.data, f.ts, f.orig, &p) != nil || p.L4 != decode.L4UDP {
			continue
		}
		h.Packet(&p) // drops what is not on a DHCP port
	}
	h.End(frames[len(frames)-1].ts)
}

// newHandler builds a handler or fails the test.
func newHandler(tb testing.TB, o handler.Options) *V1 {
	tb.Helper()
	h, err := NewV1(o)
	if err != nil {
		tb.Fatalf("new handler: %v", err)
	}
	return h
}

// named is one top-N entry as rendered.
type named struct {
	Name     string `json:"name"`
	Estimate uint64 `json:"estimate"`
}

// result is the rendered JSON object, read back through encoding/json so
// the test sees what a client sees.
type result struct {
	Period struct {
		StartTS int64 `json:"start_ts"`
		Length  int64 `json:"length"`
	} `json:"period"`
	Rates       map[string]map[string]float64 `json:"rates"`
	WirePackets map[string]uint64             `json:"wire_packets"`
	TopClients  []named                       `json:"top_clients"`
	TopServers  []named                       `json:"top_servers"`
}

// decodeJSON round-trips a rendered object through JSON.
func decodeJSON(tb testing.TB, m map[string]any) result {
	tb.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		tb.Fatalf("marshal: %v", err)
	}
	var r result
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatalf("unmarshal %s: %v", raw, err)
	}
	return r
}

// wire returns a wire_packets object with every counter 0 except those in
// set.
func wire(set map[string]uint64) map[string]uint64 {
	w := map[string]uint64{}
	for _, k := range []string{"events", "deep_samples", "discover", "offer", "request", "ack",
		"solicit", "advertise", "request_v6", "reply", "total", "filtered"} {
		w[k] = set[k]
	}
	return w
}

// Hand-built packets for unit tests.

var (
	clientMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	serverMAC = [6]byte{0x02, 0, 0, 0, 0, 0x99}
)

// v4Packet builds a UDP packet carrying a DHCPv4 message of type t.
func v4Packet(ts int64, t dhcpmsg.MessageType, xid uint32, yiaddr, host string) *decode.Packet {
	b := make([]byte, 240, 300)
	b[0], b[1], b[2] = dhcpmsg.BootRequest, 1, 6
	if t == dhcpmsg.Offer || t == dhcpmsg.Ack || t == dhcpmsg.Nak {
		b[0] = dhcpmsg.BootReply
	}
	binary.BigEndian.PutUint32(b[4:], xid)
	if yiaddr != "" {
		a := netip.MustParseAddr(yiaddr).As4()
		copy(b[16:], a[:])
	}
	copy(b[28:], clientMAC[:])
	copy(b[236:], []byte{99, 130, 83, 99})
	b = append(b, dhcpmsg.OptMessageType, 1, byte(t))
	if host != "" {
		b = append(b, dhcpmsg.OptHostname, byte(len(host)))
		b = append(b, host...)
	}
	if t == dhcpmsg.Offer || t == dhcpmsg.Ack {
		b = append(b, dhcpmsg.OptServerID, 4, 10, 0, 0, 1)
	}
	b = append(b, dhcpmsg.OptEnd)
	p := &decode.Packet{TS: ts, L3: decode.L3IPv4, L4: decode.L4UDP, HasEth: true, EthSrc: clientMAC,
		SrcIP: netip.MustParseAddr("0.0.0.0"), DstIP: netip.MustParseAddr("255.255.255.255"),
		SrcPort: 68, DstPort: 67, Payload: b}
	if b[0] == dhcpmsg.BootReply {
		p.EthSrc, p.SrcIP, p.SrcPort, p.DstPort = serverMAC, netip.MustParseAddr("10.0.0.1"), 67, 68
	}
	return p
}

// v6Packet builds a UDP packet carrying a DHCPv6 message of type t with a
// ClientID and, when server is set, a ServerID.
func v6Packet(ts int64, t dhcpmsg.MessageTypeV6, server bool) *decode.Packet {
	b := []byte{byte(t), 0, 0, 42, 0, 1, 0, 4, 0, 3, 0, 1}
	if server {
		b = append(b, 0, 2, 0, 4, 0, 3, 0, 2)
	}
	p := &decode.Packet{TS: ts, L3: decode.L3IPv6, L4: decode.L4UDP, HasEth: true, EthSrc: clientMAC,
		SrcIP: netip.MustParseAddr("fe80::1"), DstIP: netip.MustParseAddr("ff02::1:2"),
		SrcPort: 546, DstPort: 547, Payload: b}
	if server {
		p.EthSrc, p.SrcIP, p.SrcPort, p.DstPort = serverMAC, netip.MustParseAddr("fe80::99"), 547, 546
	}
	return p
}

// sec converts seconds to Unix nanoseconds.
func sec(s float64) int64 { return int64(s * 1e9) }

// Packet plays the pcap input's part for tests: a UDP datagram on a DHCP
// port becomes a DHCP event, parsed as the input parses it; other packets
// are not DHCP and are dropped.
func (h *V1) Packet(p *decode.Packet) {
	if p.L4 != decode.L4UDP {
		return
	}
	isPort := func(a, b uint16) bool {
		return p.SrcPort == a || p.SrcPort == b || p.DstPort == a || p.DstPort == b
	}
	v4 := isPort(dhcpmsg.ServerPortV4, dhcpmsg.ClientPortV4)
	if !v4 && !isPort(dhcpmsg.ServerPortV6, dhcpmsg.ClientPortV6) {
		return
	}
	ev := event.DHCP{TS: p.TS, Endpoints: event.Endpoints{Src: p.SrcIP, Dst: p.DstIP, SrcPort: p.SrcPort, DstPort: p.DstPort},
		Dir: p.Dir, HasEth: p.HasEth, EthSrc: p.EthSrc, V6: !v4, Packet: p}
	if v4 {
		ev.Valid = dhcpmsg.ParseV4(p.Payload, &testV4) == nil
		ev.V4 = &testV4
	} else {
		ev.Valid = dhcpmsg.ParseV6Inner(p.Payload, &testV6) == nil
		ev.V6Msg = &testV6
	}
	testEv = ev
	h.DHCP(&testEv)
}

// Scratch of Packet, so that the benchmark's allocation count is the
// handler's (tests run Packet from one goroutine).
var (
	testV4 dhcpmsg.V4
	testV6 dhcpmsg.V6
	testEv event.DHCP
)
