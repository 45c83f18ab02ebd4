// Package input holds the registry of input types and what an input gives
// the engine: a [Stream] of typed events from N workers, each feeding its
// own [event.Sink].
//
// Input types live in sub-packages (pcap; dnstap, flow, netprobe and mock
// to come), register themselves in init, and know nothing about handlers.
// internal/input/all links every built-in input into a program.
//
// # The one mistake
//
// A worker holds its [Worker] lock while it feeds a batch and never while
// it waits for input, so the engine can pause it between batches (to
// attach or detach handlers, or to take a snapshot) without a lock per
// event. An input that blocks with the lock held stalls the API.
package input

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/pktvisor-go/pktvisor/internal/event"
)

// ErrInvalid marks a configuration error (a bad key or value): the API
// answers it with 400, not 500.
var ErrInvalid = errors.New("invalid input configuration")

// Invalid returns an ErrInvalid error with a formatted message.
func Invalid(format string, args ...any) error {
	return &invalidError{fmt.Sprintf(format, args...)}
}

type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// Worker is one worker's share of a stream: the sink it feeds and the lock
// it holds while feeding a batch.
type Worker struct {
	mu   sync.Mutex
	Sink event.Sink
}

// Lock is taken by the worker around each batch, and by the engine to
// pause it.
func (w *Worker) Lock() { w.mu.Lock() }

// Unlock releases Lock.
func (w *Worker) Unlock() { w.mu.Unlock() }

// Counters are an input's cumulative counters for its info JSON.
type Counters struct {
	Packets uint64 // frames or records delivered
	Drops   uint64 // dropped by the kernel (ring or socket buffer full)
	IfDrops uint64 // dropped by the interface, when known
}

// Stream is an opened input.
type Stream interface {
	// Workers is the number of workers (handler shards per policy).
	Workers() int
	// Run feeds ws[i].Sink from worker i until ctx ends or the input ends
	// (a file read to its end, ErrEnd-free nil), and returns the error that
	// stopped it. It is called once; ws has Workers() entries.
	Run(ctx context.Context, ws []*Worker) error
	// Info is shown in the policy's input JSON under the input type
	// (capture backend, fallbacks, live kernel counters).
	Info() map[string]any
	// Counters returns the cumulative counters.
	Counters() Counters
	// Recorded reports a replay (a file): handlers render no live rates
	// and period lengths follow event time.
	Recorded() bool
	// Close releases what the stream holds; it runs after Run returned.
	Close()
}

// Interrupter is implemented by streams whose Run can block where its
// context does not reach (a read from a pipe that has no data): Interrupt
// unblocks it, and may be called while Run runs.
type Interrupter interface {
	Interrupt()
}

// Progress is implemented by streams that read something of known size
// (files): done and total bytes, and the packets delivered so far.
type Progress interface {
	Progress() (done, total int64, packets uint64)
}

// Config is what an input is opened with.
type Config struct {
	// Map is the tap's config overridden by the policy's input config and
	// filter, with YAML scalars typed as the config package types them.
	Map map[string]any
	Log *slog.Logger
}

// Info describes an input type.
type Info struct {
	Type    string // input_type ("pcap", "dnstap", ...)
	Version string
	// Produces are the event kinds it feeds.
	Produces []event.Kind
	// ConfigKeys are the keys its config accepts (documented ones first).
	ConfigKeys []string
	// Validate, when set, checks a config without opening anything (keys,
	// values, filter syntax), so a policy is refused before any input of
	// it opens. Open checks again.
	Validate func(cfg map[string]any) error
	Open     func(ctx context.Context, cfg Config) (Stream, error)
}

var registry struct {
	mu    sync.RWMutex
	infos []Info
}

// Register adds an input type; it panics on a duplicate or an incomplete
// Info (registration happens in init functions).
func Register(i Info) {
	if i.Type == "" || i.Version == "" || i.Open == nil || len(i.Produces) == 0 {
		panic(fmt.Sprintf("input: incomplete registration of %q", i.Type))
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, o := range registry.infos {
		if o.Type == i.Type {
			panic("input: " + i.Type + " registered twice")
		}
	}
	registry.infos = append(registry.infos, i)
}

// Registered returns every input type, sorted by type.
func Registered() []Info {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	out := slices.Clone(registry.infos)
	slices.SortFunc(out, func(a, b Info) int { return cmp.Compare(a.Type, b.Type) })
	return out
}

// Lookup returns the input type typ.
func Lookup(typ string) (Info, bool) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	for _, i := range registry.infos {
		if i.Type == typ {
			return i, true
		}
	}
	return Info{}, false
}

// Open opens an input of type typ from the registry.
func Open(ctx context.Context, typ string, cfg Config) (Stream, error) {
	i, ok := Lookup(typ)
	if !ok {
		var types []string
		for _, r := range Registered() {
			types = append(types, r.Type)
		}
		return nil, Invalid("input type '%s' is not supported by this version (supported: %v)", typ, types)
	}
	return i.Open(ctx, cfg)
}
