package tcpasm

import (
	"path/filepath"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// BenchmarkAssembler replays the TCP segments of dns_ipv4_tcp.pcap from
// memory in a loop (210 connections opened and closed per pass, so flows
// and buffers are recycled); one op is one segment.
func BenchmarkAssembler(b *testing.B) { benchCapture(b, "dns_ipv4_tcp.pcap") }

// BenchmarkAssemblerIPv6 is [BenchmarkAssembler] on dns_ipv6_tcp.pcap (180
// connections per pass): the IPv6 flow key path.
func BenchmarkAssemblerIPv6(b *testing.B) { benchCapture(b, "dns_ipv6_tcp.pcap") }

// BenchmarkAssemblerEvict replays dns_udp_tcp_random.pcap (about 1,400
// connections per pass, with retransmissions and reordering) through a
// 10-flow table, so that most new flows evict one: the eviction path.
func BenchmarkAssemblerEvict(b *testing.B) {
	benchCaptureConfig(b, "dns_udp_tcp_random.pcap", Config{MaxFlows: 10, StripPrefix: DNSPrefixLen})
}

// benchCapture replays the TCP segments of one capture in a loop.
func benchCapture(b *testing.B, file string) {
	benchCaptureConfig(b, file, Config{StripPrefix: DNSPrefixLen})
}

// benchCaptureConfig is [benchCapture] with an explicit configuration.
func benchCaptureConfig(b *testing.B, file string, cfg Config) {
	pkts := readCapture(b, filepath.Join(capturesDir, file))
	msgs := 0
	a := New(cfg, DNSFramer, func(_ *decode.Packet, _ bool, msg []byte) {
		msgs += len(msg) & 1
	})
	// One warm-up pass fills the free lists and sizes the flow table.
	for i := range pkts {
		a.Packet(&pkts[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Packet(&pkts[i%len(pkts)])
	}
	b.StopTimer()
	if a.Stats().Messages == 0 {
		b.Fatal("no messages")
	}
}

// BenchmarkAssemblerSplit replays one flow whose messages arrive split in
// three segments, the second out of order: the buffered and held paths.
func BenchmarkAssemblerSplit(b *testing.B) {
	m := dns("abcdefghijklmnopqrstuvwxyz0123456789")
	var segs []seg
	seq := uint32(cliISN + 1)
	segs = append(segs, handshake()...)
	for range 64 {
		l := uint32(len(m))
		segs = append(segs,
			c(seq+20, psh, m[20:]),
			c(seq, psh, m[:10]),
			c(seq+10, psh, m[10:20]),
		)
		seq += l
	}
	segs = append(segs, c(seq, finAck, ""), s(srvISN+1, finAck, ""))
	pkts := packets(b, segs)
	a := New(Config{StripPrefix: DNSPrefixLen}, DNSFramer, func(*decode.Packet, bool, []byte) {})
	for i := range pkts {
		a.Packet(&pkts[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Packet(&pkts[i%len(pkts)])
	}
	b.StopTimer()
	if st := a.Stats(); st.Messages == 0 || st.Errors != 0 {
		b.Fatalf("stats %+v", st)
	}
}
