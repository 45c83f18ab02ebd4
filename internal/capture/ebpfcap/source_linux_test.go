//go:build linux

package ebpfcap

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/pktvisor-go/pktvisor/bpf"
	"github.com/pktvisor-go/pktvisor/internal/capture"
)

var _ capture.Source = (*Source)(nil)

// loadDetached loads a Source whose programs are attached nowhere: tests
// feed them frames with BPF_PROG_TEST_RUN. tb.Cleanup closes it.
func loadDetached(tb testing.TB, cfg Config) *Source {
	tb.Helper()
	requireBPF(tb)
	cfg.Iface = "test"
	cfg, err := cfg.withDefaults()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := load(cfg)
	if err != nil {
		tb.Fatalf("load: %v", err)
	}
	s.iface = cfg.Iface
	tb.Cleanup(func() { s.Close() })
	return s
}

// inject runs prog on frame repeat times.
func inject(tb testing.TB, prog *ebpf.Program, frame []byte, repeat int) {
	tb.Helper()
	// One run per call: a run with Repeat > 1 that a signal interrupts
	// (EINTR) is started again from the beginning by the library, so the
	// records of the runs before the signal would come twice.
	for range repeat {
		if _, err := prog.Run(&ebpf.RunOptions{Data: frame, Repeat: 1}); err != nil {
			tb.Fatalf("test run: %v", err)
		}
	}
}

// readAll reads batches until one comes back empty.
func readAll(tb testing.TB, s *Source, batch int) (frames []capture.Frame, dirs []Direction) {
	tb.Helper()
	fs := make([]capture.Frame, batch)
	ds := make([]Direction, batch)
	for {
		n, err := s.ReadBatchDir(context.Background(), fs, ds)
		if err != nil {
			tb.Fatalf("ReadBatchDir: %v", err)
		}
		if n == 0 {
			return frames, dirs
		}
		for _, f := range fs[:n] {
			f.Data = bytes.Clone(f.Data)
			frames = append(frames, f)
		}
		dirs = append(dirs, ds[:n]...)
	}
}

// TestReadBatchInjected feeds both programs and reads the records back:
// data, lengths, directions, timestamps, Stats and Counters.
func TestReadBatchInjected(t *testing.T) {
	s := loadDetached(t, Config{Snaplen: 64, Timeout: 20 * time.Millisecond})
	in := udpFrame(40000, 53, 1, 100)
	out := udpFrame(53, 40000, 2, 18)
	before := time.Now().UnixNano()
	inject(t, s.objs.PassthruXdp, in, 100)
	inject(t, s.objs.PassthruTc, out, 50)
	after := time.Now().UnixNano()

	frames, dirs := readAll(t, s, 32)
	if len(frames) != 150 {
		t.Fatalf("read %d frames, want 150", len(frames))
	}
	var nin, nout int
	for i, f := range frames {
		want, wantDir := in, Ingress
		if i >= 100 { // one CPU ran both, in order
			want, wantDir = out, Egress
		}
		if dirs[i] != wantDir || f.WireLen != len(want) || !bytes.Equal(f.Data, want[:min(64, len(want))]) {
			t.Fatalf("frame %d: dir %s wire %d data %x, want dir %s wire %d data %x",
				i, dirs[i], f.WireLen, f.Data, wantDir, len(want), want[:min(64, len(want))])
		}
		// The offset is measured with a syscall's precision; allow 1 ms.
		if f.TS < before-int64(time.Millisecond) || f.TS > after+int64(time.Millisecond) {
			t.Errorf("frame %d: time %d outside [%d, %d]", i, f.TS, before, after)
		}
		if dirs[i] == Ingress {
			nin++
		} else {
			nout++
		}
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != 150 || st.Drops != 0 {
		t.Errorf("stats %+v, want 150 packets, 0 drops", st)
	}
	c, err := s.Counters()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{
		"ingress_captured_packets": 100, "ingress_udp_packets": 100, "ingress_ipv4_packets": 100,
		"ingress_udp_bytes": 100 * uint64(len(in)), "egress_captured_packets": 50, "egress_udp_packets": 50,
		"egress_captured_bytes": 50 * uint64(len(out)), "ingress_ringbuf_full_packets": 0, "delivered_packets": 150,
		"malformed_records": 0, "egress_filtered_out_packets": 0,
	}
	for k, v := range want {
		if got, ok := c[k]; !ok || got != v {
			t.Errorf("counter %s = %d (present %v), want %d", k, got, ok, v)
		}
	}
	if len(c) != 2*2*bpf.PassthruNumClasses+2 {
		t.Errorf("%d counters, want %d", len(c), 2*2*bpf.PassthruNumClasses+2)
	}
}

// TestPortFilterInjected checks that Config.Ports reaches the programs.
func TestPortFilterInjected(t *testing.T) {
	s := loadDetached(t, Config{Ports: []uint16{53, 853}, Timeout: 20 * time.Millisecond})
	inject(t, s.objs.PassthruXdp, udpFrame(40000, 53, 1, 10), 3)
	inject(t, s.objs.PassthruXdp, udpFrame(40000, 80, 2, 10), 5)
	inject(t, s.objs.PassthruTc, udpFrame(853, 40000, 3, 10), 2)
	frames, _ := readAll(t, s, 8)
	if len(frames) != 5 {
		t.Errorf("read %d frames, want 5", len(frames))
	}
	c, err := s.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if c["ingress_filtered_out_packets"] != 5 || c["ingress_captured_packets"] != 3 || c["egress_captured_packets"] != 2 {
		t.Errorf("counters %v", c)
	}
}

// TestRingFull: with a one-page ring nobody reads, records are lost and
// counted as Drops; the reader gets exactly the others.
func TestRingFull(t *testing.T) {
	s := loadDetached(t, Config{RingSize: os.Getpagesize(), Timeout: 20 * time.Millisecond})
	inject(t, s.objs.PassthruXdp, udpFrame(40000, 53, 1, 18), 1000)
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := readAll(t, s, 64)
	if st.Drops == 0 || uint64(len(frames))+st.Drops != 1000 {
		t.Errorf("read %d, drops %d: want some drops and 1000 in all", len(frames), st.Drops)
	}
}

func TestReadBatchTimeout(t *testing.T) {
	s := loadDetached(t, Config{Timeout: 30 * time.Millisecond})
	frames := make([]capture.Frame, 8)
	start := time.Now()
	n, err := s.ReadBatch(context.Background(), frames)
	el := time.Since(start)
	if n != 0 || err != nil || el < 25*time.Millisecond || el > 2*time.Second {
		t.Errorf("ReadBatch on an empty ring: %d, %v after %v; want 0, nil after ~30ms", n, err, el)
	}
}

func TestReadBatchContext(t *testing.T) {
	s := loadDetached(t, Config{Timeout: 10 * time.Second})
	frames := make([]capture.Frame, 8)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := s.ReadBatch(ctx, frames); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %d, %v; want context.Canceled", n, err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	n, err := s.ReadBatch(ctx, frames)
	if el := time.Since(start); n != 0 || !errors.Is(err, context.DeadlineExceeded) || el > 2*time.Second {
		t.Errorf("ctx deadline: %d, %v after %v; want DeadlineExceeded after ~30ms", n, err, el)
	}
	// A zero-length batch returns at once.
	if n, err := s.ReadBatch(context.Background(), nil); n != 0 || err != nil {
		t.Errorf("empty batch: %d, %v", n, err)
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	s := loadDetached(t, Config{Timeout: 10 * time.Second})
	errc := make(chan error, 1)
	go func() {
		_, err := s.ReadBatch(context.Background(), make([]capture.Frame, 8))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked ReadBatch: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadBatch still blocked 5 s after Close")
	}
	if _, err := s.ReadBatch(context.Background(), make([]capture.Frame, 8)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadBatch after Close: %v, want net.ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Stats(); err != nil {
		t.Errorf("Stats after Close: %v", err)
	}
}

// TestReadBatchAllocs: after the first call, reading does not allocate.
func TestReadBatchAllocs(t *testing.T) {
	s := loadDetached(t, Config{Timeout: 20 * time.Millisecond})
	const batch, runs = 16, 100
	inject(t, s.objs.PassthruXdp, udpFrame(40000, 53, 1, 200), batch*(runs+2))
	frames := make([]capture.Frame, batch)
	dirs := make([]Direction, batch)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(runs, func() {
		if n, err := s.ReadBatchDir(ctx, frames, dirs); n != batch || err != nil {
			t.Fatalf("ReadBatchDir: %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocs per ReadBatchDir, want 0", allocs)
	}
}

func BenchmarkReadBatch(b *testing.B) {
	s := loadDetached(b, Config{Timeout: 20 * time.Millisecond, RingSize: 64 << 20})
	const batch = 64
	frames := make([]capture.Frame, batch)
	f := udpFrame(40000, 53, 1, 60)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		inject(b, s.objs.PassthruXdp, f, batch)
		b.StartTimer()
		if n, err := s.ReadBatch(ctx, frames); n != batch || err != nil {
			b.Fatalf("ReadBatch: %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/frame")
}
