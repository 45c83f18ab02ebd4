//go:build linux

package afpacket

import (
	"context"
	"testing"
	"time"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// TestReadBatchNoAlloc checks that reading frames, crossing blocks and
// waiting in poll do not allocate.
func TestReadBatchNoAlloc(t *testing.T) {
	tb := newTestbed(t)
	src := tb.open(t, Config{Filter: udpDstPort9999, NumBlocks: 64, BlockSize: 64 << 10, Timeout: 5 * time.Millisecond})
	sendFlows(t, tb, flowSet{first: 30000, n: 2000}, 1, 0)
	time.Sleep(50 * time.Millisecond) // let the block timeout retire the last block
	ctx := context.Background()
	frames := make([]capture.Frame, 7)
	got := 0
	// 300 calls read 2000 frames across several blocks, then wait in poll.
	allocs := testing.AllocsPerRun(300, func() {
		n, err := src.ReadBatch(ctx, frames)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	})
	if allocs != 0 {
		t.Errorf("ReadBatch allocates %.1f times per call", allocs)
	}
	if got != 2000 {
		t.Errorf("read %d frames, want 2000", got)
	}
}

// BenchmarkReadBatch measures the receive path over a veth: a sender
// goroutine writes b.N 60..123-byte UDP frames into the peer; ns/op is the
// time per frame received. It reports frames/s and the ring drops.
func BenchmarkReadBatch(b *testing.B) {
	tb := newTestbed(b)
	src := tb.open(b, Config{Filter: udpDstPort9999})
	snd := tb.sender(b)
	frames := make([]capture.Frame, 256)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() {
		buf := make([]byte, 2048)
		for i := 0; i < b.N; i++ {
			sport := uint16(10000 + i%50000)
			if err := snd.send(testFrame(buf, sport, testPort, payloadLen(sport))); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	got := 0
	idle := 0
	for got < b.N && idle < 5 {
		n, err := src.ReadBatch(ctx, frames)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			idle++ // 5 heartbeats without frames: the rest was dropped
			continue
		}
		idle = 0
		got += n
	}
	elapsed := time.Since(start)
	b.StopTimer()
	st, err := src.Stats()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(got)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(st.Drops), "drops")
	if uint64(got)+st.Drops < uint64(b.N) {
		b.Logf("received %d + dropped %d < sent %d", got, st.Drops, b.N)
	}
}

// BenchmarkReadBatchFilled measures ReadBatch alone: the ring is filled
// with the timer stopped, then drained; ns/op is the time per frame read.
func BenchmarkReadBatchFilled(b *testing.B) {
	tb := newTestbed(b)
	// Blocks are handed over full or every 200 ms, not every 10 ms, so the
	// ring holds a whole 100,000-frame chunk (about 17 MiB).
	src := tb.open(b, Config{Filter: udpDstPort9999, BlockSize: 4 << 20, NumBlocks: 16, BlockTimeout: 200 * time.Millisecond})
	snd := tb.sender(b)
	frames := make([]capture.Frame, 256)
	ctx := context.Background()
	buf := make([]byte, 2048)
	b.ReportAllocs()
	b.ResetTimer()
	var sum int
	for left := b.N; left > 0; {
		chunk := min(left, 100000)
		b.StopTimer()
		for i := 0; i < chunk; i++ {
			sport := uint16(10000 + i%50000)
			if err := snd.send(testFrame(buf, sport, testPort, payloadLen(sport))); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(300 * time.Millisecond) // the block timeout hands the last block over
		b.StartTimer()
		for got := 0; got < chunk; {
			n, err := src.ReadBatch(ctx, frames)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				b.Fatalf("ring ran dry after %d of %d frames", got, chunk)
			}
			for _, f := range frames[:n] {
				sum += len(f.Data)
			}
			got += n
		}
		left -= chunk
	}
	b.StopTimer()
	if st, err := src.Stats(); err != nil || st.Drops != 0 {
		b.Fatalf("stats %+v, %v", st, err)
	}
	_ = sum
}
