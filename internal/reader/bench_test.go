package reader

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
)

// BenchEnv names a capture file for BenchmarkRun (scripts/pgo.sh generates
// one with scripts/bench/gencap).
const BenchEnv = "PKTVISOR_BENCH_PCAP"

// BenchmarkRun runs the whole reader (file reading, the worker per CPU,
// merging and JSON) over the capture named by $PKTVISOR_BENCH_PCAP, one
// file per op, and reports ns per packet. Without the variable it runs
// over the bundled DNS fixture.
func BenchmarkRun(b *testing.B) {
	file := os.Getenv(BenchEnv)
	if file == "" {
		file = "../../testdata/captures/dns_udp_tcp_random.pcap"
	}
	if _, err := os.Stat(file); err != nil {
		b.Skipf("%s: %v", file, err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var packets uint64
	b.ResetTimer()
	for b.Loop() {
		res, err := Run(context.Background(), Config{File: file, HostSpec: "10.1.0.0/16"}, io.Discard, log)
		if err != nil {
			b.Fatal(err)
		}
		packets += res.Packets
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
}
