package policy

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/input"
)

// Input is a running input stream: the stream an input type opened, and
// for each of its workers a bus that feeds the handler shards of every
// policy using the input.
//
// A worker holds its lock only while it feeds a batch, never while it
// waits for input, so [Input.Do] runs between batches: it is how snapshots
// are taken and how policies are attached and detached without the event
// path ever taking a lock per event.
type Input struct {
	Name    string
	stream  input.Stream
	workers []*input.Worker
	buses   []*event.Bus
	ctx     context.Context
	cancel  context.CancelFunc
	once    sync.Once
	stopped sync.Once
	ran     bool
	done    chan struct{} // closed when Run has returned
	log     *slog.Logger

	errMu sync.Mutex
	err   error
}

// NewInput prepares one bus per worker of s, with nothing attached:
// attach handlers with Do, then Run.
func NewInput(ctx context.Context, name string, s input.Stream, log *slog.Logger) *Input {
	ctx, cancel := context.WithCancel(ctx)
	in := &Input{Name: name, stream: s, ctx: ctx, cancel: cancel, log: log, done: make(chan struct{})}
	for range s.Workers() {
		b := &event.Bus{}
		in.buses = append(in.buses, b)
		in.workers = append(in.workers, &input.Worker{Sink: b})
	}
	return in
}

// Run starts the stream (once).
func (in *Input) Run() {
	in.once.Do(func() {
		in.ran = true
		go func() {
			defer close(in.done)
			if err := in.stream.Run(in.ctx, in.workers); err != nil && in.ctx.Err() == nil {
				in.errMu.Lock()
				in.err = err
				in.errMu.Unlock()
				in.log.Error("input stopped", "input", in.Name, "err", err)
			}
		}()
	})
}

// Done is closed when the stream has ended (end of a capture file, an
// error, or Stop). It never closes for an input that was not Run.
func (in *Input) Done() <-chan struct{} { return in.done }

// Workers returns the number of workers (shards).
func (in *Input) Workers() int { return len(in.workers) }

// Do runs f for every worker's bus in turn, with that worker paused
// between batches. f must not keep the bus.
func (in *Input) Do(f func(worker int, b *event.Bus)) {
	for i, w := range in.workers {
		w.Lock()
		f(i, in.buses[i])
		w.Unlock()
	}
}

// Counters returns the stream's counters.
func (in *Input) Counters() input.Counters { return in.stream.Counters() }

// Info returns the stream's info (live counters included).
func (in *Input) Info() map[string]any { return in.stream.Info() }

// Err returns the error that stopped the stream, if any.
func (in *Input) Err() error {
	in.errMu.Lock()
	defer in.errMu.Unlock()
	return in.err
}

// stopGrace is how long Stop waits for a stream to see its context end
// before it interrupts it, and then again before it gives up.
const stopGrace = time.Second

// Stop stops the stream, waits for its workers to end and closes it. The
// buses (and their handlers' data) stay readable through Do. A worker
// blocked where the context does not reach (a read from a pipe that has
// no data) is interrupted after stopGrace (input.Interrupter); one that
// still does not end is left behind, logged and unclosed, after another
// stopGrace, so that shutdown finishes within seconds whatever an input
// is doing.
func (in *Input) Stop() { in.stopped.Do(in.stop) }

func (in *Input) stop() {
	in.cancel()
	if !in.ran {
		in.stream.Close()
		return
	}
	select {
	case <-in.done:
		in.stream.Close()
		return
	case <-time.After(stopGrace):
	}
	if x, ok := in.stream.(input.Interrupter); ok {
		x.Interrupt()
	}
	select {
	case <-in.done:
		in.stream.Close()
	case <-time.After(stopGrace):
		in.log.Warn("input did not stop; left behind", "input", in.Name)
	}
}
