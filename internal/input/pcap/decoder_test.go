package pcap

import (
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/event"
)

type counter struct{ packets, dns int }

func (c *counter) Start(int64)          {}
func (c *counter) Tick(int64)           {}
func (c *counter) End(int64)            {}
func (c *counter) Packet(*event.Packet) { c.packets++ }
func (c *counter) DNS(*event.DNS)       { c.dns++ }

// TestAttachAfterDecoder: consumers attached to a bus after its decoder
// was made (a policy added to a running input) get events, and detached
// ones stop getting them.
func TestAttachAfterDecoder(t *testing.T) {
	frames := loadFrames(t, "../../../testdata/captures/dns_ipv4_udp.pcap")
	var bus event.Bus
	d := NewDecoder(DecoderConfig{}, &bus)
	d.Frame(frames[0].link, frames[0].data, frames[0].ts, frames[0].wire)
	c := &counter{}
	bus.Attach(c, event.KindPacket, event.KindDNS)
	for _, f := range frames[1:] {
		d.Frame(f.link, f.data, f.ts, f.wire)
	}
	if want := len(frames) - 1; c.packets != want || c.dns != want {
		t.Fatalf("late consumer got %d packets, %d DNS; want %d each", c.packets, c.dns, want)
	}
	bus.Detach(func(event.Clock) bool { return true })
	d.Frame(frames[0].link, frames[0].data, frames[0].ts, frames[0].wire)
	if c.packets != len(frames)-1 {
		t.Fatal("a detached consumer still gets packets")
	}
}
