package pcap

import (
	"sync/atomic"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dhcpmsg"
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/tcpasm"
)

// IsDNSPort reports the ports pktvisor treats as DNS: 53, 5353 (mDNS),
// 5355 (LLMNR) and 53000 (used by its test captures).
func IsDNSPort(p uint16) bool { return p == 53 || p == 5353 || p == 5355 || p == 53000 }

// IsDHCPPort reports the DHCPv4 (67, 68) and DHCPv6 (546, 547) ports.
func IsDHCPPort(p uint16) bool { return p == 67 || p == 68 || p == 546 || p == 547 }

// DecoderConfig configures a [Decoder].
type DecoderConfig struct {
	Hosts decode.HostSpec
	// TCPFlows bounds the TCP reassembly table (0: pktvisor's 300,000).
	TCPFlows int
	// Filter, when set, drops frames it returns false for before decoding
	// (a compiled BPF program).
	Filter func(frame []byte) bool
}

// Decoder turns one worker's frames into events: it decodes L2-L4 once,
// reassembles IP fragments and TCP streams on DNS ports, parses each DNS
// message and DHCP datagram once, and feeds the sink. It also moves event
// time (a tick each second of packet time) and hands the input's counters
// to the sink with each tick. A Decoder is used by one goroutine.
type Decoder struct {
	// The fields every frame touches come first, together.
	started  bool
	lastTS   int64
	lastTick int64
	filter   func([]byte) bool
	// bus is sink when it is the engine's *event.Bus: its methods are then
	// called directly (no interface dispatch per event) and its wants read
	// inline.
	bus *event.Bus
	// The bus's packet list and wants, kept here for the per-frame path
	// and refreshed by the bus's OnChange.
	packets           []event.PacketConsumer
	wantDNS, wantDHCP bool
	sink              event.Sink
	dec               *decode.Decoder
	asm               *tcpasm.Assembler
	pkt               decode.Packet

	tcpFlows int

	osDrops, ifDrops uint64
	kernelFiltered   uint64 // growth not yet handed to the sink

	// pub holds the TCP reassembly counters published with each tick, for
	// the input's info JSON (read by other goroutines).
	pub tcpPub

	// Reused events and messages: a local would escape through the
	// interface call.
	dns   event.DNS
	msg   dnsmsg.Message
	stats event.InputStats
	dhcp  event.DHCP
	m4    dhcpmsg.V4
	m6    dhcpmsg.V6
}

// NewDecoder returns a decoder feeding sink. A stream calls it with the
// worker's lock held: the decoder reads the bus and hooks its OnChange.
func NewDecoder(cfg DecoderConfig, sink event.Sink) *Decoder {
	bus, _ := sink.(*event.Bus)
	d := &Decoder{
		sink:     sink,
		bus:      bus,
		dec:      decode.NewDecoder(decode.Config{Hosts: cfg.Hosts}),
		filter:   cfg.Filter,
		tcpFlows: cfg.TCPFlows,
	}
	if bus != nil {
		bus.OnChange = d.refresh
		d.refresh()
	}
	return d
}

// refresh copies the bus's packet list and wants (see Decoder.packets).
func (d *Decoder) refresh() {
	d.packets = d.bus.PacketConsumers()
	d.wantDNS, d.wantDHCP = d.bus.WantsDNS(), d.bus.WantsDHCP()
}

// SetCaptureStats records the source's cumulative drop counters, handed
// to the sink with the next tick.
func (d *Decoder) SetCaptureStats(drops, ifDrops uint64) { d.osDrops, d.ifDrops = drops, ifDrops }

// KernelFiltered adds n packets a kernel pre-filter kept from user space,
// handed to the sink with the next tick. Call it for one worker of an
// input only: the count is the input's.
func (d *Decoder) KernelFiltered(n uint64) { d.kernelFiltered += n }

func (d *Decoder) begin(ts int64) {
	d.started = true
	d.lastTS = ts
	d.lastTick = ts / 1e9
	d.sink.Begin(ts)
}

// Begin starts the consumers' first period at ts unless a frame already
// did (workers sharing one file all start at its first packet).
func (d *Decoder) Begin(ts int64) {
	if !d.started {
		d.begin(ts)
	}
}

// Heartbeat moves event time to ts when no packet did (a live input's
// idle read), so idle periods close, and hands over the counters.
func (d *Decoder) Heartbeat(ts int64) {
	if !d.started {
		d.begin(ts)
	}
	if ts > d.lastTS {
		d.lastTS = ts
	}
	d.lastTick = ts / 1e9
	d.tick(ts)
}

// Frame processes one captured frame of link type link, captured at ts
// (Unix nanoseconds) with wire length wireLen. data is not kept.
func (d *Decoder) Frame(link decode.LinkType, data []byte, ts int64, wireLen int) {
	if d.filter != nil && !d.filter(data) {
		return
	}
	if !d.started {
		d.begin(ts)
	}
	if ts > d.lastTS {
		d.lastTS = ts
	}
	if sec := ts / 1e9; sec != d.lastTick {
		d.lastTick = sec
		d.tick(ts)
	}
	pkt := &d.pkt
	// A decode error past L3 still leaves a packet the net handler counts
	// (the decoder keeps its own error counters).
	_ = d.dec.Decode(link, data, ts, wireLen, pkt)
	if pkt.L3 == decode.L3Unknown {
		// Not IP (ARP, LLDP, ...): pktvisor's net handler sees only IP.
		return
	}
	if d.bus != nil {
		for _, c := range d.packets {
			c.Packet(pkt)
		}
	} else {
		d.sink.Packet(pkt)
	}
	if pkt.Fragment && !pkt.Reassembled {
		return
	}
	switch pkt.L4 {
	case decode.L4UDP:
		if d.wantsDNS() && (IsDNSPort(pkt.SrcPort) || IsDNSPort(pkt.DstPort)) {
			d.dnsMessage(pkt, pkt.Payload, event.TransportUDP)
		}
		if d.wantsDHCP() && (IsDHCPPort(pkt.SrcPort) || IsDHCPPort(pkt.DstPort)) {
			d.dhcpDatagram(pkt)
		}
	case decode.L4TCP:
		if d.wantsDNS() && (IsDNSPort(pkt.SrcPort) || IsDNSPort(pkt.DstPort)) {
			if d.asm == nil {
				d.asm = tcpasm.New(tcpasm.Config{MaxFlows: d.tcpFlows, StripPrefix: tcpasm.DNSPrefixLen}, tcpasm.DNSFramer, d.tcpDNS)
			}
			d.asm.Packet(pkt)
		}
	}
}

func (d *Decoder) wantsDNS() bool {
	if d.bus != nil {
		return d.wantDNS
	}
	return d.sink.Wants(event.KindDNS)
}

func (d *Decoder) wantsDHCP() bool {
	if d.bus != nil {
		return d.wantDHCP
	}
	return d.sink.Wants(event.KindDHCP)
}

func (d *Decoder) tcpDNS(pkt *decode.Packet, _ bool, msg []byte) {
	d.dnsMessage(pkt, msg, event.TransportTCP)
}

func (d *Decoder) dnsMessage(pkt *decode.Packet, b []byte, tr event.Transport) {
	if len(b) < 12 {
		return
	}
	// A parse error past the header still leaves a usable message (header,
	// and the question when HasQuestion): the handlers decide what counts.
	records := false
	if d.bus != nil {
		records = d.bus.DNSRecords()
	} else {
		records = d.sink.DNSRecords()
	}
	_ = d.msg.Parse(b, dnsmsg.ParseOptions{Records: records})
	// Field by field: QueryTime and DnstapType stay zero for packets.
	ev := &d.dns
	ev.TS = pkt.TS
	ev.Src, ev.Dst, ev.SrcPort, ev.DstPort = pkt.SrcIP, pkt.DstIP, pkt.SrcPort, pkt.DstPort
	ev.Dir = pkt.Dir
	ev.Transport = tr
	ev.Size = len(b)
	ev.Msg = &d.msg
	ev.Packet = pkt
	if d.bus != nil {
		d.bus.DNS(ev)
	} else {
		d.sink.DNS(ev)
	}
}

// dhcpDatagram parses a UDP datagram on a DHCP port once: DHCPv4 on 67/68
// (either side), else DHCPv6 on 546/547.
func (d *Decoder) dhcpDatagram(pkt *decode.Packet) {
	v4 := pkt.SrcPort == dhcpmsg.ServerPortV4 || pkt.SrcPort == dhcpmsg.ClientPortV4 ||
		pkt.DstPort == dhcpmsg.ServerPortV4 || pkt.DstPort == dhcpmsg.ClientPortV4
	ev := &d.dhcp
	*ev = event.DHCP{
		TS:        pkt.TS,
		Endpoints: event.Endpoints{Src: pkt.SrcIP, Dst: pkt.DstIP, SrcPort: pkt.SrcPort, DstPort: pkt.DstPort},
		Dir:       pkt.Dir,
		HasEth:    pkt.HasEth,
		EthSrc:    pkt.EthSrc,
		V6:        !v4,
		Packet:    pkt,
	}
	if v4 {
		ev.Valid = dhcpmsg.ParseV4(pkt.Payload, &d.m4) == nil
		ev.V4 = &d.m4
	} else {
		ev.Valid = dhcpmsg.ParseV6Inner(pkt.Payload, &d.m6) == nil
		ev.V6Msg = &d.m6
	}
	if d.bus != nil {
		d.bus.DHCP(ev)
	} else {
		d.sink.DHCP(ev)
	}
}

func (d *Decoder) tick(ts int64) {
	d.sink.Tick(ts)
	d.giveStats(ts)
}

// FlushStats hands the counters to the sink now, at ts (a live input does
// when a kernel pre-filter count grew, so net counts it without waiting
// for the next tick).
func (d *Decoder) FlushStats(ts int64) {
	if d.started {
		d.giveStats(ts)
	}
}

func (d *Decoder) giveStats(ts int64) {
	d.stats = event.InputStats{TS: ts, OSDrops: d.osDrops, IfDrops: d.ifDrops, KernelFiltered: d.kernelFiltered}
	d.kernelFiltered = 0
	if d.asm != nil {
		st := d.asm.Stats()
		d.stats.TCPReassemblyErrors = st.Errors
		d.pub.store(&st)
	}
	d.sink.InputStats(&d.stats)
}

// End closes a recorded stream at ts (or the last frame's time, if
// later): TCP flows are closed (their partial messages counted), the
// counters handed over, and every consumer's live period ends. Nothing is
// fed after End.
func (d *Decoder) End(ts int64) {
	if d.asm != nil {
		d.asm.CloseAll()
	}
	if ts > d.lastTS {
		d.lastTS = ts
	}
	if !d.started {
		return
	}
	d.giveStats(d.lastTS)
	d.sink.End(d.lastTS)
}

// tcpPub is a decoder's TCP reassembly counters as last published.
type tcpPub struct {
	active                                                                  atomic.Bool
	flows, evicted, errors, buffered, overBudget, overBudgetBytes, desynced atomic.Uint64
}

func (p *tcpPub) store(st *tcpasm.Stats) {
	p.active.Store(true)
	p.flows.Store(st.Flows)
	p.evicted.Store(st.Evicted)
	p.errors.Store(st.Errors)
	p.buffered.Store(st.Buffered)
	p.overBudget.Store(st.OverBudget)
	p.overBudgetBytes.Store(st.OverBudgetBytes)
	p.desynced.Store(st.Desynced)
}

// tcpInfo sums the published TCP reassembly counters of decoders for an
// input's info JSON, or returns nil when none reassembles.
func tcpInfo(ds []*Decoder) map[string]any {
	var flows, evicted, errors, buffered, over, overBytes, desynced uint64
	active := false
	for _, d := range ds {
		if d == nil || !d.pub.active.Load() {
			continue
		}
		p := &d.pub
		flows += p.flows.Load()
		evicted += p.evicted.Load()
		errors += p.errors.Load()
		buffered += p.buffered.Load()
		over += p.overBudget.Load()
		overBytes += p.overBudgetBytes.Load()
		desynced += p.desynced.Load()
		active = true
	}
	if !active {
		return nil
	}
	return map[string]any{"flows": flows, "evicted": evicted, "errors": errors, "buffered_bytes": buffered,
		"over_budget_segments": over, "over_budget_bytes": overBytes, "desynced_segments": desynced}
}
