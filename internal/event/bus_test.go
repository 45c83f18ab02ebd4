package event

import (
	"slices"
	"testing"
)

// both consumes packets and DNS messages, and records what it got.
type both struct {
	name    string
	got     []string
	started []int64
}

func (b *both) Start(ts int64)         { b.started = append(b.started, ts) }
func (b *both) Tick(int64)             {}
func (b *both) End(int64)              {}
func (b *both) Packet(*Packet)         { b.got = append(b.got, "packet") }
func (b *both) DNS(*DNS)               { b.got = append(b.got, "dns") }
func (b *both) InputStats(*InputStats) { b.got = append(b.got, "stats") }
func (b *both) WantsDNSRecords() bool  { return b.name == "records" }

// packetsOnly consumes packets.
type packetsOnly struct{ n int }

func (p *packetsOnly) Start(int64)    {}
func (p *packetsOnly) Tick(int64)     {}
func (p *packetsOnly) End(int64)      {}
func (p *packetsOnly) Packet(*Packet) { p.n++ }

// TestConsumerOfTwoKindsGetsBoth: a consumer attached for packets and DNS
// gets both (no first-match-wins), one attached for packets only gets no
// DNS, and Wants and DNSRecords follow what is attached.
func TestConsumerOfTwoKindsGetsBoth(t *testing.T) {
	var b Bus
	if b.Wants(KindDNS) || b.Wants(KindPacket) {
		t.Fatal("an empty bus wants nothing")
	}
	x := &both{name: "records"}
	p := &packetsOnly{}
	b.Attach(x, KindPacket, KindDNS)
	b.Attach(p, KindPacket)
	if !b.Wants(KindDNS) || !b.Wants(KindPacket) || b.Wants(KindDHCP) || b.Wants(KindInputStats) {
		t.Fatal("Wants does not follow the attached kinds")
	}
	if !b.DNSRecords() {
		t.Fatal("a DNS consumer wants records: DNSRecords is false")
	}
	b.Begin(5)
	b.Packet(&Packet{})
	b.DNS(&DNS{})
	b.InputStats(&InputStats{}) // x is not attached for stats
	if want := []string{"packet", "dns"}; !slices.Equal(x.got, want) {
		t.Fatalf("consumer of packets and DNS got %v, want %v", x.got, want)
	}
	if p.n != 1 {
		t.Fatalf("packet consumer got %d packets, want 1", p.n)
	}
	// A consumer attached to a started bus starts at the last event time.
	late := &both{}
	b.Observe(9)
	b.Attach(late, KindDNS)
	if !slices.Equal(late.started, []int64{9}) {
		t.Fatalf("late consumer started at %v, want [9]", late.started)
	}
	b.Detach(func(c Clock) bool { return c == x })
	b.DNS(&DNS{})
	if len(x.got) != 2 || len(late.got) != 1 {
		t.Fatalf("after Detach: detached got %v, late got %v", x.got, late.got)
	}
	if b.DNSRecords() {
		t.Fatal("DNSRecords still true after the consumer that wanted records left")
	}
}

// TestAttachChecksKinds: attaching a consumer for a kind it does not
// consume is a programming error.
func TestAttachChecksKinds(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Attach of a packet consumer for DNS did not panic")
		}
	}()
	var b Bus
	b.Attach(&packetsOnly{}, KindDNS)
}

func TestTransport(t *testing.T) {
	for tr, want := range map[Transport]bool{TransportUDP: false, TransportTCP: true, TransportDoT: true,
		TransportDoH: true, TransportDoQ: false, TransportDNSCryptUDP: false, TransportDNSCryptTCP: true} {
		if tr.Stream() != want {
			t.Errorf("%s.Stream() = %v, want %v", tr, tr.Stream(), want)
		}
	}
	if TransportDNSCryptTCP.String() != "dnscrypt_tcp" || KindInputStats.String() != "input_stats" {
		t.Error("names")
	}
}
