package policy

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// BatchSize is how many frames a worker reads at once.
const BatchSize = 256

// statsEvery is how often a worker refreshes its source's drop counters.
const statsEvery = time.Second

// Input is a running input stream: its sources, one worker goroutine per
// source, and each worker's pipeline (decoder, TCP reassembly and the
// handler shards of every policy using the input).
//
// A worker holds its lock only while it processes a batch, never while it
// waits for packets, so [Input.Do] runs between batches: it is how
// snapshots are taken and how policies are attached and detached without
// the packet path ever taking a lock per packet.
type Input struct {
	Name    string
	workers []*worker
	ctx     context.Context
	cancel  context.CancelFunc
	once    sync.Once
	wg      sync.WaitGroup
	done    chan struct{} // closed when every worker has returned
	log     *slog.Logger

	errMu sync.Mutex
	err   error

	// kernelFiltered, when set, returns the input's cumulative count of
	// packets a kernel pre-filter kept; worker 0 hands the growth to its
	// pipeline.
	kernelFiltered func() uint64
	lastFiltered   uint64
}

type worker struct {
	mu   sync.Mutex
	src  capture.Source
	link decode.LinkType
	pipe *Pipeline
}

// NewInput prepares one worker per source. Each pipeline is built with
// cfg and no handlers: attach them with Do, then Run.
func NewInput(ctx context.Context, name string, srcs []capture.Source, cfg PipelineConfig, log *slog.Logger) *Input {
	ctx, cancel := context.WithCancel(ctx)
	in := &Input{Name: name, ctx: ctx, cancel: cancel, log: log, done: make(chan struct{})}
	for _, s := range srcs {
		w := &worker{src: s, link: decode.LinkType(s.LinkType()), pipe: NewPipeline(cfg, nil)}
		in.workers = append(in.workers, w)
	}
	return in
}

// Run starts the workers (once).
func (in *Input) Run() {
	in.once.Do(func() {
		for i, w := range in.workers {
			in.wg.Add(1)
			go in.run(in.ctx, i, w)
		}
		go func() {
			in.wg.Wait()
			close(in.done)
		}()
	})
}

// Done is closed when every worker has returned (end of a capture file,
// an error, or Stop). It never closes for an input that was not Run.
func (in *Input) Done() <-chan struct{} { return in.done }

// Workers returns the number of workers (shards).
func (in *Input) Workers() int { return len(in.workers) }

// Do runs f for every worker's pipeline in turn, with that worker paused
// between batches. f must not keep the pipeline.
func (in *Input) Do(f func(worker int, p *Pipeline)) {
	for i, w := range in.workers {
		w.mu.Lock()
		f(i, w.pipe)
		w.mu.Unlock()
	}
}

// Stats sums the sources' counters.
func (in *Input) Stats() capture.Stats {
	var t capture.Stats
	for _, w := range in.workers {
		s, err := w.src.Stats()
		if err != nil {
			continue
		}
		t.Packets += s.Packets
		t.Drops += s.Drops
		t.IfDrops += s.IfDrops
	}
	return t
}

// Err returns the error that stopped a worker, if any.
func (in *Input) Err() error {
	in.errMu.Lock()
	defer in.errMu.Unlock()
	return in.err
}

// Stop stops the workers, closes the sources and waits for the workers to
// end. The pipelines (and their handlers' data) stay readable through Do.
func (in *Input) Stop() {
	in.cancel()
	in.wg.Wait() // sources return from ReadBatch within their poll timeout once ctx is done
	for _, w := range in.workers {
		w.src.Close()
	}
}

func (in *Input) run(ctx context.Context, i int, w *worker) {
	defer in.wg.Done()
	// The thread stays locked to the end: the goroutine exits locked, so
	// the runtime discards the (pinned) thread instead of reusing it.
	runtime.LockOSThread()
	if len(in.workers) > 1 {
		pin(i)
	}
	frames := make([]capture.Frame, BatchSize)
	var lastStats time.Time
	for {
		n, err := w.src.ReadBatch(ctx, frames)
		if errors.Is(err, capture.ErrEndOfFile) {
			// A capture file ended: close its TCP flows and periods.
			w.mu.Lock()
			w.pipe.End()
			w.mu.Unlock()
			return
		}
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				in.errMu.Lock()
				in.err = err
				in.errMu.Unlock()
				in.log.Error("capture stopped", "input", in.Name, "worker", i, "err", err)
			}
			return
		}
		now := time.Now()
		w.mu.Lock()
		for j := 0; j < n; j++ {
			f := &frames[j]
			w.pipe.Frame(w.link, f.Data, f.TS, f.WireLen)
		}
		if n == 0 || now.Sub(lastStats) >= statsEvery {
			if s, err := w.src.Stats(); err == nil {
				w.pipe.SetCaptureStats(s.Drops, s.IfDrops)
			}
			if i == 0 && in.kernelFiltered != nil {
				if c := in.kernelFiltered(); c > in.lastFiltered {
					w.pipe.KernelFiltered(now.UnixNano(), c-in.lastFiltered)
					in.lastFiltered = c
				}
			}
			lastStats = now
			if n == 0 {
				// Heartbeat: no packet for a read timeout; let periods close.
				w.pipe.Tick(now.UnixNano())
			}
		}
		w.mu.Unlock()
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
