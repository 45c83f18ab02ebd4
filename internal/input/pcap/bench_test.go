package pcap

import (
	"io"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/capture/pcapfile"
	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/handler/dhcp"
	"github.com/pktvisor-go/pktvisor/internal/handler/dns"
	"github.com/pktvisor-go/pktvisor/internal/handler/netstats"
)

type frame struct {
	link decode.LinkType
	data []byte
	ts   int64
	wire int
}

func loadFrames(tb testing.TB, path string) []frame {
	tb.Helper()
	r, err := pcapfile.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	// Frames are laid out back to back in one buffer, as a capture ring or
	// a file buffer delivers them.
	var out []frame
	var arena []byte
	var offs []int
	var rec pcapfile.Record
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		offs = append(offs, len(arena))
		arena = append(arena, rec.Data...)
		out = append(out, frame{decode.LinkType(rec.LinkType), nil, rec.TS, rec.WireLen})
	}
	for i := range out {
		end := len(arena)
		if i+1 < len(offs) {
			end = offs[i+1]
		}
		out[i].data = arena[offs[i]:end:end]
	}
	return out
}

func benchOptions(name string) handler.Options {
	return handler.Options{Name: name, Periods: 1, Recorded: true}
}

func benchPipeline(b *testing.B, withDNS bool) {
	frames := loadFrames(b, "../../../testdata/captures/dns_udp_tcp_random.pcap")
	n, err := netstats.NewV1(benchOptions("net"))
	if err != nil {
		b.Fatal(err)
	}
	bus := &event.Bus{}
	bus.Attach(n, event.KindPacket, event.KindInputStats)
	if withDNS {
		d, err := dns.NewV1(benchOptions("dns"))
		if err != nil {
			b.Fatal(err)
		}
		dh, err := dhcp.NewV1(benchOptions("dhcp"))
		if err != nil {
			b.Fatal(err)
		}
		bus.Attach(d, event.KindDNS)
		bus.Attach(dh, event.KindDHCP)
	}
	hosts, _ := decode.ParseHostSpec("192.168.0.0/24")
	p := NewDecoder(DecoderConfig{Hosts: hosts}, bus)
	// Warm up: one pass fills the sketches' tables and the flow free lists.
	for _, f := range frames {
		p.Frame(f.link, f.data, f.ts, f.wire)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &frames[i%len(frames)]
		p.Frame(f.link, f.data, f.ts, f.wire)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}

// BenchmarkPipeline is decode + net + dns + dhcp on a DNS-heavy capture
// (dns_udp_tcp_random.pcap, 16,147 packets, replayed from memory), through
// the pcap input's decoder and a worker's bus; one op is one packet.
func BenchmarkPipeline(b *testing.B) { benchPipeline(b, true) }

// BenchmarkPipelineNet is decode + net alone.
func BenchmarkPipelineNet(b *testing.B) { benchPipeline(b, false) }
