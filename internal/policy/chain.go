package policy

import (
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

// dnsFilter is a handler whose filters a chain checks (dns).
type dnsFilter interface {
	Passes(m *dnsmsg.Message) bool
}

// chain feeds the handlers downstream of one or more dns handlers in a
// chained policy (handlers.modules as a sequence): they see only the DNS
// messages, and the packets that carried them, that passed every upstream
// filter. The upstream handlers are fed by the pipeline as usual; chain is
// one more DNS handler of the pipeline that forwards. A message
// reassembled from TCP is passed on with the segment that completed it
// (pktvisor builds a synthetic packet per message instead).
type chain struct {
	up   []dnsFilter
	down []handler.Handler
}

var _ handler.DNSHandler = (*chain)(nil)

func (c *chain) Name() string   { return "chain" }
func (c *chain) Schema() string { return "" }

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

// Bucket and Window are not used: the downstream handlers are rendered as
// modules of their own.
func (c *chain) Bucket(int, int64) (map[string]any, error) { return nil, nil }
func (c *chain) Window(int, int64) (map[string]any, error) { return nil, nil }

// DNS implements handler.DNSHandler.
func (c *chain) DNS(ev *handler.DNSEvent) {
	for _, f := range c.up {
		if !f.Passes(ev.Msg) {
			return
		}
	}
	for _, h := range c.down {
		switch x := h.(type) {
		case handler.DNSHandler:
			x.DNS(ev)
		case handler.PacketHandler:
			x.Packet(ev.P)
		}
	}
}
