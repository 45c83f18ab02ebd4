// Package pcapstats is the "pcap" stream handler: per-period counts of TCP
// reassembly errors and of packets the kernel or the interface dropped,
// taken from the capture input's cumulative statistics.
package pcapstats

import (
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/metric"
	"github.com/pktvisor-go/pktvisor/internal/window"
)

// Type is the YAML handler type; Schema the JSON key.
const (
	Type   = "pcap"
	Schema = "pcap"
)

// Handler is a pcap handler instance. It is single-goroutine.
type Handler struct {
	opt  handler.Options
	win  *window.Manager[*bucket]
	last counters
}

// counters are the cumulative input counters last seen.
type counters struct {
	tcpErrors, osDrops, ifDrops uint64
}

var (
	_ handler.Handler          = (*Handler)(nil)
	_ event.InputStatsConsumer = (*Handler)(nil)
)

// New validates o and returns a handler.
func New(o handler.Options) (*Handler, error) {
	if err := o.CheckKeys(); err != nil {
		return nil, err
	}
	if err := o.Defaults(); err != nil {
		return nil, err
	}
	h := &Handler{opt: o}
	h.win = window.New(o.Window(), func() *bucket { return &bucket{} })
	return h, nil
}

// Name implements handler.Handler.
func (h *Handler) Name() string { return h.opt.Name }

// Schema implements handler.Handler.
func (h *Handler) Schema() string { return Schema }

// Start implements handler.Handler.
func (h *Handler) Start(ts int64) { h.win.Start(ts) }

// Tick implements handler.Handler.
func (h *Handler) Tick(ts int64) { h.win.Advance(ts) }

// End implements handler.Handler.
func (h *Handler) End(ts int64) { h.win.End(ts) }

// InputStats adds the growth of the input's cumulative counters since
// the previous call to the period that is live at ev.TS. A counter that
// went backwards (the input restarted) is taken as a new baseline.
func (h *Handler) InputStats(ev *event.InputStats) {
	h.win.Advance(ev.TS)
	b := h.win.Live()
	s := counters{ev.TCPReassemblyErrors, ev.OSDrops, ev.IfDrops}
	b.tcpErrors += delta(s.tcpErrors, h.last.tcpErrors)
	b.osDrops += delta(s.osDrops, h.last.osDrops)
	b.ifDrops += delta(s.ifDrops, h.last.ifDrops)
	h.last = s
}

func delta(cur, prev uint64) uint64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

// Bucket implements handler.Handler.
func (h *Handler) Bucket(n int, now int64) (map[string]any, error) {
	return handler.BucketOf(h.win, n, now, renderBucket)
}

// Window implements handler.Handler.
func (h *Handler) Window(n int, now int64) (map[string]any, error) {
	return handler.WindowOf(h.win, n, now, renderBucket)
}

type bucket struct {
	tcpErrors, osDrops, ifDrops uint64
}

func (b *bucket) Merge(o *bucket) {
	b.tcpErrors += o.tcpErrors
	b.osDrops += o.osDrops
	b.ifDrops += o.ifDrops
}
func (b *bucket) Reset()      { *b = bucket{} }
func (b *bucket) Close(int64) {}

func (b *bucket) render(p window.Period) map[string]any {
	return map[string]any{
		"tcp_reassembly_errors": metric.Counter(b.tcpErrors),
		"os_drops":              metric.Counter(b.osDrops),
		"if_drops":              metric.Counter(b.ifDrops),
		"period":                handler.PeriodJSON(p),
	}
}

// Snapshot implements handler.Snapshotter.
func (h *Handler) Snapshot(win bool, n int, now int64) (handler.Snap, error) {
	return handler.SnapshotOf(h.win, func() *bucket { return &bucket{} }, win, n, now,
		renderBucket)
}

func renderBucket(b *bucket, p window.Period) map[string]any { return b.render(p) }
