package event

import "slices"

// Clock is the life cycle every consumer has: the start of its first
// period, event time moving without an event, and the end of a recorded
// stream (Unix nanoseconds).
type Clock interface {
	Start(ts int64)
	Tick(ts int64)
	End(ts int64)
}

// PacketConsumer consumes packets.
type PacketConsumer interface{ Packet(p *Packet) }

// DNSConsumer consumes DNS messages.
type DNSConsumer interface{ DNS(ev *DNS) }

// DHCPConsumer consumes DHCP datagrams.
type DHCPConsumer interface{ DHCP(ev *DHCP) }

// BGPConsumer consumes BGP messages.
type BGPConsumer interface{ BGP(ev *BGP) }

// FlowConsumer consumes flow records.
type FlowConsumer interface{ Flow(ev *Flow) }

// ProbeConsumer consumes probe results.
type ProbeConsumer interface{ Probe(ev *Probe) }

// InputStatsConsumer consumes an input's counters.
type InputStatsConsumer interface{ InputStats(ev *InputStats) }

// DNSRecordsWanter is implemented by DNS consumers that need the answer,
// authority and additional sections parsed; others get the header and
// question only, which is cheaper.
type DNSRecordsWanter interface{ WantsDNSRecords() bool }

// Sink is what an input's worker feeds: one event at a time, on the
// worker's goroutine. Wants tells the input which kinds anyone consumes,
// so it can skip work (no TCP reassembly without a DNS consumer).
// Pointers passed in are valid only during the call.
type Sink interface {
	// Begin starts the consumers' first period at ts unless an event
	// already did.
	Begin(ts int64)
	// Tick moves event time to ts without an event.
	Tick(ts int64)
	// End ends a recorded stream at ts (at least the last event's time).
	End(ts int64)
	Wants(k Kind) bool
	// DNSRecords reports whether a DNS consumer wants the records parsed.
	DNSRecords() bool
	Packet(p *Packet)
	DNS(ev *DNS)
	DHCP(ev *DHCP)
	BGP(ev *BGP)
	Flow(ev *Flow)
	Probe(ev *Probe)
	InputStats(ev *InputStats)
}

// Bus is a worker's [Sink]: one fan-out list per event kind. Consumers are
// attached with the kinds they take; a consumer of several kinds is on
// each of their lists (a handler of packets and DNS gets both). A Bus is
// used by one goroutine; Attach and Detach run between events (the engine
// pauses the worker).
type Bus struct {
	all     []attached
	packets []PacketConsumer
	dns     []DNSConsumer
	dhcp    []DHCPConsumer
	bgp     []BGPConsumer
	flows   []FlowConsumer
	probes  []ProbeConsumer
	stats   []InputStatsConsumer
	records bool

	started bool
	lastTS  int64

	// OnChange, when set, runs after every Attach and Detach, on the
	// goroutine that changes the bus (the engine, with the worker paused).
	// An input that keeps the bus's lists at hand refreshes them there.
	OnChange func()
}

type attached struct {
	c     Clock
	kinds []Kind
}

var _ Sink = (*Bus)(nil)

// Attach adds c for kinds. c must implement the consumer interface of each
// kind (it is asserted: a mismatch is a programming error and panics). A
// consumer attached to a started bus starts at the last event time.
func (b *Bus) Attach(c Clock, kinds ...Kind) {
	for _, k := range kinds {
		if !implements(c, k) {
			panic("event: consumer " + typeName(c) + " attached for " + k.String() + " events does not consume them")
		}
	}
	if b.started {
		c.Start(b.lastTS)
	}
	b.all = append(b.all, attached{c, slices.Clone(kinds)})
	b.rebuild()
	if b.OnChange != nil {
		b.OnChange()
	}
}

// Detach removes the consumers for which drop returns true.
func (b *Bus) Detach(drop func(Clock) bool) {
	b.all = slices.DeleteFunc(b.all, func(a attached) bool { return drop(a.c) })
	b.rebuild()
	if b.OnChange != nil {
		b.OnChange()
	}
}

// PacketConsumers returns the packet fan-out list; the caller must not
// change it, and must fetch it again after OnChange.
func (b *Bus) PacketConsumers() []PacketConsumer { return b.packets }

func implements(c any, k Kind) bool {
	switch k {
	case KindPacket:
		_, ok := c.(PacketConsumer)
		return ok
	case KindDNS:
		_, ok := c.(DNSConsumer)
		return ok
	case KindDHCP:
		_, ok := c.(DHCPConsumer)
		return ok
	case KindBGP:
		_, ok := c.(BGPConsumer)
		return ok
	case KindFlow:
		_, ok := c.(FlowConsumer)
		return ok
	case KindProbe:
		_, ok := c.(ProbeConsumer)
		return ok
	case KindInputStats:
		_, ok := c.(InputStatsConsumer)
		return ok
	}
	return false
}

func (b *Bus) rebuild() {
	b.packets, b.dns, b.dhcp, b.bgp = b.packets[:0], b.dns[:0], b.dhcp[:0], b.bgp[:0]
	b.flows, b.probes, b.stats = b.flows[:0], b.probes[:0], b.stats[:0]
	b.records = false
	for _, a := range b.all {
		for _, k := range a.kinds {
			switch k {
			case KindPacket:
				b.packets = append(b.packets, a.c.(PacketConsumer))
			case KindDNS:
				b.dns = append(b.dns, a.c.(DNSConsumer))
				if w, ok := a.c.(DNSRecordsWanter); ok && w.WantsDNSRecords() {
					b.records = true
				}
			case KindDHCP:
				b.dhcp = append(b.dhcp, a.c.(DHCPConsumer))
			case KindBGP:
				b.bgp = append(b.bgp, a.c.(BGPConsumer))
			case KindFlow:
				b.flows = append(b.flows, a.c.(FlowConsumer))
			case KindProbe:
				b.probes = append(b.probes, a.c.(ProbeConsumer))
			case KindInputStats:
				b.stats = append(b.stats, a.c.(InputStatsConsumer))
			}
		}
	}
}

// Wants implements Sink.
func (b *Bus) Wants(k Kind) bool {
	switch k {
	case KindPacket:
		return len(b.packets) > 0
	case KindDNS:
		return len(b.dns) > 0
	case KindDHCP:
		return len(b.dhcp) > 0
	case KindBGP:
		return len(b.bgp) > 0
	case KindFlow:
		return len(b.flows) > 0
	case KindProbe:
		return len(b.probes) > 0
	case KindInputStats:
		return len(b.stats) > 0
	}
	return false
}

// WantsDNS is Wants(KindDNS), inlined on the hot path.
func (b *Bus) WantsDNS() bool { return len(b.dns) > 0 }

// WantsDHCP is Wants(KindDHCP), inlined on the hot path.
func (b *Bus) WantsDHCP() bool { return len(b.dhcp) > 0 }

// DNSRecords implements Sink.
func (b *Bus) DNSRecords() bool { return b.records }

// Begin implements Sink.
func (b *Bus) Begin(ts int64) {
	if b.started {
		return
	}
	b.started = true
	b.lastTS = ts
	for _, a := range b.all {
		a.c.Start(ts)
	}
}

// Observe moves the bus's event time to ts, starting the consumers at the
// first call. Inputs call it once per event before handing it out (the
// consumers advance their own windows from the event's time).
func (b *Bus) Observe(ts int64) {
	if !b.started {
		b.Begin(ts)
	}
	if ts > b.lastTS {
		b.lastTS = ts
	}
}

// Tick implements Sink.
func (b *Bus) Tick(ts int64) {
	b.Observe(ts)
	for _, a := range b.all {
		a.c.Tick(ts)
	}
}

// End implements Sink: every consumer's live period ends at ts or the
// last event's time, whichever is later. Nothing is fed after End.
func (b *Bus) End(ts int64) {
	if !b.started {
		return
	}
	if ts > b.lastTS {
		b.lastTS = ts
	}
	for _, a := range b.all {
		a.c.End(b.lastTS)
	}
}

// Packet implements Sink.
func (b *Bus) Packet(p *Packet) {
	for _, c := range b.packets {
		c.Packet(p)
	}
}

// DNS implements Sink.
func (b *Bus) DNS(ev *DNS) {
	for _, c := range b.dns {
		c.DNS(ev)
	}
}

// DHCP implements Sink.
func (b *Bus) DHCP(ev *DHCP) {
	for _, c := range b.dhcp {
		c.DHCP(ev)
	}
}

// BGP implements Sink.
func (b *Bus) BGP(ev *BGP) {
	for _, c := range b.bgp {
		c.BGP(ev)
	}
}

// Flow implements Sink.
func (b *Bus) Flow(ev *Flow) {
	for _, c := range b.flows {
		c.Flow(ev)
	}
}

// Probe implements Sink.
func (b *Bus) Probe(ev *Probe) {
	for _, c := range b.probes {
		c.Probe(ev)
	}
}

// InputStats implements Sink.
func (b *Bus) InputStats(ev *InputStats) {
	for _, c := range b.stats {
		c.InputStats(ev)
	}
}

func typeName(v any) string {
	type namer interface{ Name() string }
	if n, ok := v.(namer); ok {
		return n.Name()
	}
	return "(unnamed)"
}
