package dns

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/tcpasm"
)

// fixtureDir holds the pcap fixtures (see testdata/README.md).
var fixtureDir = filepath.Join("..", "..", "..", "testdata", "captures")

// frame is one captured frame.
type frame struct {
	link    decode.LinkType
	data    []byte
	ts      int64
	wireLen int
}

// readPcap reads a classic pcap file (either byte order, µs or ns
// timestamps). It is a minimal reader for tests only: the pipeline that
// feeds handlers from capture files lives elsewhere.
func readPcap(tb testing.TB, path string) []frame {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read pcap: %v", err)
	}
	if len(b) < 24 {
		tb.Fatalf("pcap %s: short header", path)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	unit := int64(1000)
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		unit = 1
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, unit = binary.BigEndian, 1
	default:
		tb.Fatalf("pcap %s: bad magic % x", path, b[:4])
	}
	lt := decode.LinkType(bo.Uint32(b[20:24]) & 0xffff)
	var out []frame
	for off := 24; off+16 <= len(b); {
		sec, frac := int64(bo.Uint32(b[off:])), int64(bo.Uint32(b[off+4:]))
		incl, orig := int(bo.Uint32(b[off+8:])), int(bo.Uint32(b[off+12:]))
		off += 16
		if incl > len(b)-off {
			tb.Fatalf("pcap %s: record past end of file", path)
		}
		out = append(out, frame{link: lt, data: b[off : off+incl], ts: sec*1e9 + frac*unit, wireLen: orig})
		off += incl
	}
	return out
}

// feeder plays the pipeline's part for tests: decode, pick DNS by port,
// reassemble TCP, parse, and hand each message to a DNS handler.
type feeder struct {
	tb    testing.TB
	hosts decode.HostSpec
	dec   *decode.Decoder
	asm   *tcpasm.Assembler
	h     dnsConsumer
	opt   dnsmsg.ParseOptions
	msg   dnsmsg.Message
	ev    event.DNS
	pkt   decode.Packet
	// noFrags drops UDP datagrams completed by IP reassembly, which
	// pktvisor never sees as DNS.
	noFrags bool
	// Counts of what was not given to the handler.
	notDNS, badDNS int
}

// dnsConsumer is a DNS handler as the tests drive it.
type dnsConsumer interface {
	handler.Handler
	event.DNSConsumer
}

// dnsEvent fills ev from the packet p that carried a message, as the pcap
// input does.
func dnsEvent(ev *event.DNS, p *decode.Packet, msg *dnsmsg.Message, size int, tcp bool) {
	tr := event.TransportUDP
	if tcp {
		tr = event.TransportTCP
	}
	*ev = event.DNS{TS: p.TS, Endpoints: event.Endpoints{Src: p.SrcIP, Dst: p.DstIP, SrcPort: p.SrcPort, DstPort: p.DstPort},
		Dir: p.Dir, Transport: tr, Size: size, Msg: msg, Packet: p}
}

func newFeeder(tb testing.TB, hostSpec string, h dnsConsumer) *feeder {
	tb.Helper()
	hosts, err := decode.ParseHostSpec(hostSpec)
	if err != nil {
		tb.Fatalf("host spec: %v", err)
	}
	f := &feeder{tb: tb, hosts: hosts, h: h, dec: decode.NewDecoder(decode.Config{Hosts: hosts})}
	if w, ok := h.(event.DNSRecordsWanter); ok && w.WantsDNSRecords() {
		f.opt.Records = true
	}
	f.asm = tcpasm.New(tcpasm.Config{StripPrefix: tcpasm.DNSPrefixLen}, tcpasm.DNSFramer, f.emitTCP)
	return f
}

// message parses b and gives it to the handler. A message counts once
// its header parses and, when it has one, its first question (pktvisor
// skips messages its DNS layer cannot read).
func (f *feeder) message(p *decode.Packet, b []byte, tcp bool) {
	err := f.msg.Parse(b, f.opt)
	switch {
	case err == nil, errors.Is(err, dnsmsg.ErrNoQuestion), errors.Is(err, dnsmsg.ErrRecord):
	default:
		f.badDNS++
		return
	}
	dnsEvent(&f.ev, p, &f.msg, len(b), tcp)
	f.h.DNS(&f.ev)
}

func (f *feeder) emitTCP(p *decode.Packet, _ bool, msg []byte) {
	if p.Dir == decode.DirUnknown {
		p.Dir = f.hosts.Direction(p.SrcIP, p.DstIP)
	}
	f.message(p, msg, true)
}

// run feeds every frame of the capture at path and ends the stream.
func (f *feeder) run(path string) {
	f.tb.Helper()
	frames := readPcap(f.tb, path)
	if len(frames) == 0 {
		f.tb.Fatalf("%s: no frames", path)
	}
	f.h.Start(frames[0].ts)
	for _, fr := range frames {
		f.frame(fr)
	}
	f.asm.CloseAll()
	f.h.End(frames[len(frames)-1].ts)
}

func (f *feeder) frame(fr frame) {
	p := &f.pkt
	if err := f.dec.Decode(fr.link, fr.data, fr.ts, fr.wireLen, p); err != nil && p.L4 != decode.L4UDP && p.L4 != decode.L4TCP {
		f.notDNS++
		return
	}
	if !IsDNSPort(p.SrcPort) && !IsDNSPort(p.DstPort) {
		f.notDNS++
		return
	}
	switch p.L4 {
	case decode.L4UDP:
		if p.Fragment && (!p.Reassembled || f.noFrags) {
			return
		}
		f.message(p, p.Payload, false)
	case decode.L4TCP:
		f.asm.Packet(p)
	default:
		f.notDNS++
	}
}

// fixturePath returns the path of a capture in testdata/captures.
func fixturePath(name string) string { return filepath.Join(fixtureDir, name) }
