package pcap

import (
	"context"
	"errors"
	"maps"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/input"
)

// BatchSize is how many frames a live worker reads at once.
const BatchSize = 256

// statsEvery is how often a live worker refreshes its source's counters.
const statsEvery = time.Second

// live is a pcap input on an interface: one worker per capture source.
type live struct {
	p        *params
	b        *backend
	info     map[string]any
	decoders atomic.Pointer[[]*Decoder] // set by Run, for Info
}

func newLive(p *params, b *backend, info map[string]any) *live {
	return &live{p: p, b: b, info: info}
}

func (l *live) Workers() int   { return len(l.b.sources) }
func (l *live) Recorded() bool { return false }

func (l *live) Info() map[string]any {
	info := maps.Clone(l.info)
	if l.b.kernel != nil {
		info["kernel"] = l.b.kernel()
	}
	if ds := l.decoders.Load(); ds != nil {
		if t := tcpInfo(*ds); t != nil {
			info["tcp_reassembly"] = t
		}
	}
	return info
}

func (l *live) Counters() input.Counters {
	var c input.Counters
	for _, s := range l.b.sources {
		st, err := s.Stats()
		if err != nil {
			continue
		}
		c.Packets += st.Packets
		c.Drops += st.Drops
		c.IfDrops += st.IfDrops
	}
	return c
}

func (l *live) Close() { l.b.close() }

// Run implements input.Stream: each source is read by its own goroutine,
// locked to its thread and, with several workers, pinned to a CPU.
func (l *live) Run(ctx context.Context, ws []*input.Worker) error {
	cfg := DecoderConfig{Hosts: l.p.hosts, TCPFlows: l.p.tcpFlows, Filter: l.b.filter}
	var wg sync.WaitGroup
	errs := make([]error, len(ws))
	ds := make([]*Decoder, len(ws))
	for i, w := range ws {
		// The decoder reads the bus: with the worker paused, as the engine
		// changes it.
		w.Lock()
		ds[i] = NewDecoder(cfg, w.Sink)
		w.Unlock()
	}
	l.decoders.Store(&ds)
	for i, w := range ws {
		d := ds[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.run(ctx, i, w, d, l.b.sources[i])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (l *live) run(ctx context.Context, i int, w *input.Worker, d *Decoder, src capture.Source) error {
	// The thread stays locked to the end: the goroutine exits locked, so
	// the runtime discards the (pinned) thread instead of reusing it.
	runtime.LockOSThread()
	if len(l.b.sources) > 1 {
		pin(i)
	}
	link := decode.LinkType(src.LinkType())
	frames := make([]capture.Frame, BatchSize)
	var lastStats time.Time
	var lastFiltered uint64
	for {
		n, err := src.ReadBatch(ctx, frames)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		now := time.Now()
		w.Lock()
		for j := 0; j < n; j++ {
			f := &frames[j]
			d.Frame(link, f.Data, f.TS, f.WireLen)
		}
		if n == 0 || now.Sub(lastStats) >= statsEvery {
			if s, err := src.Stats(); err == nil {
				d.SetCaptureStats(s.Drops, s.IfDrops)
			}
			if i == 0 && l.b.kernelFiltered != nil {
				if c := l.b.kernelFiltered(); c > lastFiltered {
					d.KernelFiltered(c - lastFiltered)
					lastFiltered = c
					if n != 0 {
						d.FlushStats(now.UnixNano())
					}
				}
			}
			lastStats = now
			if n == 0 {
				// Heartbeat: no packet for a read timeout; let periods close.
				d.Heartbeat(now.UnixNano())
			}
		}
		w.Unlock()
	}
}

// pin binds the calling (locked) thread to one CPU of the process's
// allowed set, worker i to the i-th allowed CPU modulo their number, so
// per-queue workers do not migrate. It is best effort: a failure leaves
// the thread unpinned.
func pin(i int) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		return
	}
	var cpus []int
	for c := 0; c < 1024 && len(cpus) < allowed.Count(); c++ {
		if allowed.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) < 2 {
		return
	}
	var one unix.CPUSet
	one.Set(cpus[i%len(cpus)])
	_ = unix.SchedSetaffinity(0, &one)
}

// SourcesConfig configures [FromSources].
type SourcesConfig struct {
	Hosts    decode.HostSpec
	TCPFlows int
	// Filter is a user-space frame filter (one per worker: a compiled
	// matcher is single-goroutine), or nil.
	Filter func(i int) func([]byte) bool
	// KernelFiltered, when set, returns the cumulative packets a kernel
	// pre-filter kept from user space.
	KernelFiltered func() uint64
	Info           map[string]any
}

// FromSources returns a live pcap stream over capture sources opened by
// the caller, one worker per source: how tests and the mock source feed
// the engine exactly as a capture backend does. Close closes the sources.
func FromSources(srcs []capture.Source, cfg SourcesConfig) input.Stream {
	b := &backend{name: "mock", sources: srcs, kernelFiltered: cfg.KernelFiltered}
	if cfg.Filter != nil {
		b.filter = cfg.Filter(0)
	}
	info := maps.Clone(cfg.Info)
	if info == nil {
		info = map[string]any{}
	}
	info["host_spec"] = cfg.Hosts.String()
	return newLive(&params{hosts: cfg.Hosts, tcpFlows: cfg.TCPFlows}, b, info)
}
