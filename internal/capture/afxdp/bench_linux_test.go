//go:build linux

package afxdp

import (
	"testing"
	"time"
)

// BenchmarkReceive sends b.N 60-byte UDP frames (at least 200,000) over
// 512 flows from two unthrottled AF_PACKET senders into the 4-queue veth
// and reads them from the four sockets. It reports the delivered rate
// (frames received ÷ time from the first send to the last receipt) and
// the frames lost. On veth the receive path runs in the senders' softirq,
// so this is an end-to-end figure for the 2-core machine, not the socket
// alone (TESTBED §2).
func BenchmarkReceive(b *testing.B) {
	for _, mode := range []AttachMode{ModeNative, ModeGeneric} {
		b.Run(mode.String(), func(b *testing.B) {
			tb := newTestbed(b)
			socks, _ := tb.openAll(b, Config{Program: ProgramOptions{Mode: mode}})
			n := max(b.N, 200000)
			ports := func(i int) (uint16, uint16) { return uint16(20000 + i%512), 9999 }
			b.ResetTimer()
			res := sendAndReceiveWindow(b, tb, sources(socks), n, ports, func(int) bool { return true }, int64(n))
			b.StopTimer()
			var total, drops uint64
			for _, s := range socks {
				st, _ := s.Stats()
				total += st.Packets
				drops += st.Drops
			}
			b.ReportMetric(float64(total)/res.elapsed.Seconds(), "pps")
			b.ReportMetric(float64(uint64(n)-min(total, uint64(n))), "lost")
			b.ReportMetric(float64(drops), "xsk-drops")
			b.Logf("%s: %d of %d frames in %v, socket drops %d, per queue %v", mode, total, n, res.elapsed.Round(time.Millisecond), drops, res.perQueue)
		})
	}
}
