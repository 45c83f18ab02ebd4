package policy

import (
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

// chain feeds the handlers downstream of one or more filtering handlers
// (dns) in a chained policy (handlers.modules as a sequence): they see
// only the DNS messages, and the packets that carried them, that passed
// every upstream filter. The upstream handlers are fed by the bus as
// usual; chain is one more DNS consumer of the bus that forwards. A
// message reassembled from TCP is passed on with the segment that
// completed it (pktvisor builds a synthetic packet per message instead).
type chain struct {
	up      []handler.ChainFilter
	down    []handler.Handler
	dns     []event.DNSConsumer
	packets []event.PacketConsumer
}

var (
	_ event.Clock       = (*chain)(nil)
	_ event.DNSConsumer = (*chain)(nil)
)

// add appends a downstream handler.
func (c *chain) add(h handler.Handler) {
	c.down = append(c.down, h)
	if d, ok := h.(event.DNSConsumer); ok {
		c.dns = append(c.dns, d)
	} else if p, ok := h.(event.PacketConsumer); ok {
		c.packets = append(c.packets, p)
	}
}

func (c *chain) Name() string { return "chain" }

func (c *chain) Start(ts int64) {
	for _, h := range c.down {
		h.Start(ts)
	}
}

func (c *chain) Tick(ts int64) {
	for _, h := range c.down {
		h.Tick(ts)
	}
}

func (c *chain) End(ts int64) {
	for _, h := range c.down {
		h.End(ts)
	}
}

// WantsDNSRecords implements event.DNSRecordsWanter for the downstream
// handlers.
func (c *chain) WantsDNSRecords() bool {
	for _, h := range c.down {
		if w, ok := h.(event.DNSRecordsWanter); ok && w.WantsDNSRecords() {
			return true
		}
	}
	return false
}

// DNS implements event.DNSConsumer.
func (c *chain) DNS(ev *event.DNS) {
	for _, f := range c.up {
		if !f.Passes(ev) {
			return
		}
	}
	for _, d := range c.dns {
		d.DNS(ev)
	}
	if ev.Packet != nil {
		for _, p := range c.packets {
			p.Packet(ev.Packet)
		}
	}
}
