package policy

import (
	"slices"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/tcpasm"
)

// IsDNSPort reports the ports pktvisor treats as DNS: 53, 5353 (mDNS),
// 5355 (LLMNR) and 53000 (used by its test captures).
func IsDNSPort(p uint16) bool { return p == 53 || p == 5353 || p == 5355 || p == 53000 }

// IsDHCPPort reports the DHCPv4 (67, 68) and DHCPv6 (546, 547) ports.
func IsDHCPPort(p uint16) bool { return p == 67 || p == 68 || p == 546 || p == 547 }

// PipelineConfig configures a [Pipeline].
type PipelineConfig struct {
	Hosts decode.HostSpec
	// TCPFlows bounds the TCP reassembly table (0: pktvisor's 300,000).
	TCPFlows int
	// Filter, when set, drops frames it returns false for before decoding
	// (a compiled BPF program).
	Filter func(frame []byte) bool
}

// Stats counts what the pipeline did besides what handlers count.
type Stats struct {
	Frames       uint64 // frames given to Frame
	Filtered     uint64 // dropped by the BPF filter
	DecodeErrors uint64 // frames the decoder rejected (still given to packet handlers when L3 parsed)
	DNSMessages  uint64 // DNS messages given to DNS handlers
	DNSMalformed uint64 // payloads on a DNS port that are not DNS (shorter than a header)
}

// Pipeline decodes frames of one input and feeds handlers.
type Pipeline struct {
	dec  *decode.Decoder
	asm  *tcpasm.Assembler
	pkt  decode.Packet
	msg  dnsmsg.Message
	ev   handler.DNSEvent // reused: a local would escape through the interface call
	opts dnsmsg.ParseOptions

	all     []handler.Handler
	packets []handler.PacketHandler
	dns     []handler.DNSHandler
	dhcp    []handler.PacketHandler
	stats   []handler.StatsHandler
	filter  func([]byte) bool

	started  bool
	lastTS   int64
	lastTick int64
	st       Stats

	tcpFlows         int
	osDrops, ifDrops uint64
}

// NewPipeline builds a pipeline feeding hs. Handlers are sorted by the
// interfaces they implement.
func NewPipeline(cfg PipelineConfig, hs []handler.Handler) *Pipeline {
	p := &Pipeline{
		dec:      decode.NewDecoder(decode.Config{Hosts: cfg.Hosts}),
		filter:   cfg.Filter,
		tcpFlows: cfg.TCPFlows,
	}
	p.Add(hs)
	return p
}

// Add starts feeding hs (a policy's handler shards). On a live input it is
// called between batches by the goroutine that owns the pipeline; handlers
// added to a started pipeline start at the last event time seen.
func (p *Pipeline) Add(hs []handler.Handler) {
	for _, h := range hs {
		if p.started {
			h.Start(p.lastTS)
		}
		p.all = append(p.all, h)
	}
	p.sortHandlers()
}

// Remove stops feeding the handlers for which drop returns true.
func (p *Pipeline) Remove(drop func(handler.Handler) bool) {
	p.all = slices.DeleteFunc(p.all, drop)
	p.sortHandlers()
}

func (p *Pipeline) sortHandlers() {
	p.packets, p.dns, p.dhcp, p.stats = p.packets[:0], p.dns[:0], p.dhcp[:0], p.stats[:0]
	p.opts.Records = false
	for _, h := range p.all {
		switch x := h.(type) {
		case handler.PacketHandler:
			if h.Schema() == "dhcp" {
				// DHCP handlers take only datagrams on DHCP ports.
				p.dhcp = append(p.dhcp, x)
				continue
			}
			p.packets = append(p.packets, x)
		case handler.DNSHandler:
			p.dns = append(p.dns, x)
			if w, ok := h.(handler.DNSRecordsWanter); ok && w.WantsDNSRecords() {
				p.opts.Records = true
			}
		case handler.StatsHandler:
			p.stats = append(p.stats, x)
		}
	}
	if len(p.dns) > 0 && p.asm == nil {
		p.asm = tcpasm.New(tcpasm.Config{MaxFlows: p.tcpFlows, StripPrefix: 2}, tcpasm.DNSFramer, p.tcpDNS)
	}
}

// Tick is the heartbeat of a live input: it moves event time to ts when no
// packet did, so idle periods close, and hands the capture statistics to
// stats handlers.
func (p *Pipeline) Tick(ts int64) {
	if !p.started {
		p.started = true
		for _, h := range p.all {
			h.Start(ts)
		}
	}
	if ts > p.lastTS {
		p.lastTS = ts
	}
	p.lastTick = ts / 1e9
	p.tick(ts)
}

// KernelFiltered gives n packets a kernel pre-filter kept from user space
// to the handlers that count them (net's filtered). Call it for one worker
// of an input only: the count is the input's, not the worker's.
func (p *Pipeline) KernelFiltered(ts int64, n uint64) {
	if n == 0 || !p.started {
		return
	}
	for _, h := range p.all {
		if k, ok := h.(handler.KernelFilterCounter); ok {
			k.KernelFiltered(ts, n)
		}
	}
}

// SetCaptureStats records the input's cumulative drop counters, delivered
// to stats handlers with the next tick.
func (p *Pipeline) SetCaptureStats(drops, ifDrops uint64) {
	p.osDrops, p.ifDrops = drops, ifDrops
}

// Stats returns the pipeline's counters.
func (p *Pipeline) Stats() Stats { return p.st }

// DecoderStats returns the decoder's counters.
func (p *Pipeline) DecoderStats() decode.Stats { return p.dec.Stats() }

// TCPStats returns the TCP reassembly counters (zero without DNS handlers).
func (p *Pipeline) TCPStats() tcpasm.Stats {
	if p.asm == nil {
		return tcpasm.Stats{}
	}
	return p.asm.Stats()
}

// Frame processes one captured frame of link type link, captured at ts
// (Unix nanoseconds) with wire length wireLen. data is not kept.
func (p *Pipeline) Frame(link decode.LinkType, data []byte, ts int64, wireLen int) {
	p.st.Frames++
	if p.filter != nil && !p.filter(data) {
		p.st.Filtered++
		return
	}
	if !p.started {
		p.started = true
		for _, h := range p.all {
			h.Start(ts)
		}
		p.lastTick = ts / 1e9
	}
	if ts > p.lastTS {
		p.lastTS = ts
	}
	if sec := ts / 1e9; sec != p.lastTick {
		p.lastTick = sec
		p.tick(ts)
	}
	pkt := &p.pkt
	if err := p.dec.Decode(link, data, ts, wireLen, pkt); err != nil {
		p.st.DecodeErrors++
		if pkt.L3 == decode.L3Unknown {
			return
		}
	}
	if pkt.L3 == decode.L3Unknown {
		// Not IP (ARP, LLDP, ...): pktvisor's net handler sees only IP.
		return
	}
	for _, h := range p.packets {
		h.Packet(pkt)
	}
	if pkt.Fragment && !pkt.Reassembled {
		return
	}
	switch pkt.L4 {
	case decode.L4UDP:
		if len(p.dns) > 0 && (IsDNSPort(pkt.SrcPort) || IsDNSPort(pkt.DstPort)) {
			p.dnsMessage(pkt, pkt.Payload, false)
		}
		if len(p.dhcp) > 0 && (IsDHCPPort(pkt.SrcPort) || IsDHCPPort(pkt.DstPort)) {
			for _, h := range p.dhcp {
				h.Packet(pkt)
			}
		}
	case decode.L4TCP:
		if p.asm != nil && (IsDNSPort(pkt.SrcPort) || IsDNSPort(pkt.DstPort)) {
			p.asm.Packet(pkt)
		}
	}
}

func (p *Pipeline) tcpDNS(pkt *decode.Packet, _ bool, msg []byte) {
	p.dnsMessage(pkt, msg, true)
}

func (p *Pipeline) dnsMessage(pkt *decode.Packet, b []byte, tcp bool) {
	if len(b) < 12 {
		p.st.DNSMalformed++
		return
	}
	// A parse error past the header still leaves a usable message (header,
	// and the question when HasQuestion): the handlers decide what counts.
	_ = p.msg.Parse(b, p.opts)
	p.st.DNSMessages++
	p.ev = handler.DNSEvent{P: pkt, Msg: &p.msg, Size: len(b), TCP: tcp}
	for _, h := range p.dns {
		h.DNS(&p.ev)
	}
}

func (p *Pipeline) tick(ts int64) {
	cs := p.captureStats()
	for _, h := range p.all {
		h.Tick(ts)
	}
	for _, h := range p.stats {
		h.CaptureStats(ts, cs)
	}
}

func (p *Pipeline) captureStats() handler.CaptureStats {
	cs := handler.CaptureStats{OSDrops: p.osDrops, IfDrops: p.ifDrops}
	if p.asm != nil {
		cs.TCPReassemblyErrors = p.asm.Stats().Errors
	}
	return cs
}

// Begin starts the handlers' first period at ts unless a frame already did
// (workers sharing one file all start at its first packet).
func (p *Pipeline) Begin(ts int64) {
	if p.started {
		return
	}
	p.started = true
	p.lastTS = ts
	p.lastTick = ts / 1e9
	for _, h := range p.all {
		h.Start(ts)
	}
}

// EndAt is End with the stream's last time given (a worker that saw only
// part of a file ends at the file's last packet).
func (p *Pipeline) EndAt(ts int64) {
	if ts > p.lastTS {
		p.lastTS = ts
	}
	p.End()
}

// End closes a recorded stream: TCP flows are closed (their partial
// messages counted), capture statistics delivered, and every handler's live
// period ends at the last frame's time. Nothing is fed after End.
func (p *Pipeline) End() {
	if p.asm != nil {
		p.asm.CloseAll()
	}
	ts := p.lastTS
	if !p.started {
		return
	}
	cs := p.captureStats()
	for _, h := range p.stats {
		h.CaptureStats(ts, cs)
	}
	for _, h := range p.all {
		h.End(ts)
	}
}
