package pcap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/pktvisor-go/pktvisor/internal/capture/bpfc"
	"github.com/pktvisor-go/pktvisor/internal/capture/pcapfile"
	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/input"
)

// SupportedLinks names the link types the decoder reads, for errors.
const SupportedLinks = "Ethernet (1), raw IP (101, 228, 229), Linux SLL (113) and SLL2 (276), BSD loopback (0, 108)"

// Batches handed from the reading goroutine to a worker of a file read by
// several workers.
const (
	batchFrames = 256
	batchBytes  = 256 << 10
	// Batches in flight per worker. The reading goroutine shares the CPUs
	// with the workers; when it finds no free batch it waits until a worker
	// blocks, so each worker keeps enough queued to run through that wait.
	// 32 batches of a mapped file are small (frame descriptors only): they
	// cut wall time by about 10 % against 4 on 2 CPUs. Copied batches
	// hold their bytes, and stay at 4.
	mappedDepth = 32
	copiedDepth = 4
	// fileLockEvery is how many records a single worker feeds per hold of
	// its lock.
	fileLockEvery = 256
)

// file is a pcap input on a capture file (pcap_file): mapped when it is a
// regular file, read otherwise; standard input is always read with
// read(2). With one worker the reading goroutine feeds it; with several,
// frames are spread over them by flow hash, so both directions of a
// conversation meet on one worker.
type file struct {
	p       *params
	r       *pcapfile.Reader
	name    string // the file's path, or "standard input", for errors
	workers int
	// holdsStdin is set while this input holds stdinTaken.
	holdsStdin atomic.Bool
	// filters are one compiled bpf matcher per worker (a matcher is
	// single-goroutine), nil without bpf.
	filters []func([]byte) bool

	packets  atomic.Uint64
	offset   atomic.Int64
	decoders atomic.Pointer[[]*Decoder] // set by Run, for Info
}

// stdinTaken is set while an input reads standard input: a second
// input would read the bytes the first one misses.
var stdinTaken atomic.Bool

// errStdinTaken is the error of a second input on standard input.
var errStdinTaken = errors.New("standard input is already read by another input: one tap, with one input config, can read it")

// regular reports whether path is a regular file (after symlinks); a path
// that does not exist is left to the open, which names the error.
func regular(path string) bool {
	st, err := os.Stat(path)
	return err != nil || st.Mode().IsRegular()
}

func openFile(p *params) (input.Stream, error) {
	name := p.file
	var r *pcapfile.Reader
	var err error
	switch {
	case p.stdin:
		if !stdinTaken.CompareAndSwap(false, true) {
			return nil, input.Invalid("pcap_file: %v", errStdinTaken)
		}
		name = "standard input"
		// Read, never mapped: a regular file on standard input may be
		// truncated under the reader without a fault to catch.
		if r, err = pcapfile.NewReader(os.Stdin); err != nil {
			stdinTaken.Store(false)
			return nil, input.Invalid("pcap_file: read capture header of %s: %v", name, err)
		}
	case !p.allowPipe && !regular(p.file):
		// A pipe would block the agent until a writer comes, a device
		// until it has data: pcap_file takes capture files.
		return nil, input.Invalid("pcap_file: %s is not a regular file", p.file)
	case p.noMap:
		r, err = pcapfile.Open(p.file)
	default:
		r, err = pcapfile.OpenMapped(p.file)
	}
	if err != nil {
		return nil, input.Invalid("pcap_file: %v", err)
	}
	f := &file{p: p, r: r, name: name, workers: max(p.workers, 1)}
	f.holdsStdin.Store(p.stdin)
	if lt := decode.LinkType(r.LinkType()); !lt.Supported() {
		f.Close()
		return nil, input.Invalid("%s: unsupported link type %d in the file header (supported: %s)", name, lt, SupportedLinks)
	}
	if p.expr != "" {
		for range f.workers {
			m, err := bpfc.Compile(p.expr, r.LinkType(), int(r.Snaplen()))
			if err != nil {
				f.Close()
				return nil, input.Invalid("bpf %q: %v", p.expr, err)
			}
			f.filters = append(f.filters, m)
		}
	}
	return f, nil
}

func (f *file) Workers() int   { return f.workers }
func (f *file) Recorded() bool { return true }

// Close implements input.Stream; it releases standard input (once).
// Interrupt implements input.Interrupter: a read blocked on a pipe fails.
func (f *file) Interrupt() { _ = f.r.Interrupt() }

func (f *file) Close() {
	f.r.Close()
	if f.holdsStdin.Swap(false) {
		stdinTaken.Store(false)
	}
}

func (f *file) Info() map[string]any {
	info := map[string]any{"pcap_source": "file", "pcap_file": f.p.file, "host_spec": f.p.hosts.String()}
	if ds := f.decoders.Load(); ds != nil {
		if t := tcpInfo(*ds); t != nil {
			info["tcp_reassembly"] = t
		}
	}
	return info
}

func (f *file) Counters() input.Counters { return input.Counters{Packets: f.packets.Load()} }

// Progress implements input.Progress; total is -1 when the size is
// unknown (a pipe, standard input).
func (f *file) Progress() (done, total int64, packets uint64) {
	return f.offset.Load(), f.r.Size(), f.packets.Load()
}

func (f *file) decoder(i int, w *input.Worker) *Decoder {
	cfg := DecoderConfig{Hosts: f.p.hosts, TCPFlows: f.p.tcpFlows}
	if f.filters != nil {
		cfg.Filter = f.filters[i]
	}
	return NewDecoder(cfg, w.Sink)
}

// Run implements input.Stream. It returns nil at the end of the file and
// ends every worker's consumers at the file's last packet time, also
// after an error or an interruption (what was summarized is kept).
func (f *file) Run(ctx context.Context, ws []*input.Worker) error {
	ds := make([]*Decoder, len(ws))
	for i, w := range ws {
		// The decoder reads the bus: with the worker paused, as the engine
		// changes it.
		w.Lock()
		ds[i] = f.decoder(i, w)
		w.Unlock()
	}
	f.decoders.Store(&ds)
	if len(ws) == 1 {
		return f.runOne(ctx, ws[0], ds[0])
	}
	return f.runParallel(ctx, ws, ds)
}

func (f *file) runOne(ctx context.Context, w *input.Worker, d *Decoder) error {
	// The lock is taken once a record is in hand and released every
	// fileLockEvery records, so it is never held while a pipe blocks.
	every := fileLockEvery
	if !f.r.Mapped() {
		every = 1
	}
	n, locked := 0, false
	err := f.guard(true, func() error {
		return f.scan(ctx, func(rec *pcapfile.Record) {
			if !locked {
				w.Lock()
				locked = true
			}
			d.Frame(decode.LinkType(rec.LinkType), rec.Data, rec.TS, rec.WireLen)
			if n++; n >= every {
				n = 0
				w.Unlock()
				locked = false
			}
		})
	})
	if !locked {
		w.Lock()
	}
	d.End(0)
	w.Unlock()
	return err
}

type bframe struct {
	data []byte // into the batch's buf, or into the file's mapping
	link decode.LinkType
	wire int
	ts   int64
}

type batch struct {
	buf    []byte // copies of the frames, unless the file is mapped
	frames []bframe
	bytes  int // frame bytes in the batch
}

func (b *batch) full(n int) bool {
	return len(b.frames) == batchFrames || b.bytes+n > batchBytes
}

func (b *batch) reset() {
	clear(b.frames) // drop references to the mapping
	b.buf, b.frames, b.bytes = b.buf[:0], b.frames[:0], 0
}

// runParallel reads the file on this goroutine and spreads frames over the
// workers by flow hash; each worker runs on its own goroutine. Frames of a
// mapped file are handed over in place; others are copied into the batch.
func (f *file) runParallel(ctx context.Context, ws []*input.Worker, ds []*Decoder) error {
	w := len(ws)
	mapped := f.r.Mapped()
	depth := copiedDepth
	if mapped {
		depth = mappedDepth
	}
	work := make([]chan *batch, w)
	free := make(chan *batch, w*depth)
	for i := 0; i < w*depth; i++ {
		b := &batch{frames: make([]bframe, 0, batchFrames)}
		if !mapped {
			b.buf = make([]byte, 0, batchBytes)
		}
		free <- b
	}
	begin := make(chan int64, w)
	faults := make([]error, w)
	var wg sync.WaitGroup
	for i := range ws {
		work[i] = make(chan *batch, depth)
		wg.Add(1)
		go func() {
			defer wg.Done()
			faults[i] = f.runWorker(ws[i], ds[i], begin, work[i], free)
		}()
	}
	cur := make([]*batch, w)
	for i := range cur {
		cur[i] = <-free
	}

	var started bool
	var lastTS int64
	readErr := f.guard(true, func() error {
		return f.scan(ctx, func(rec *pcapfile.Record) {
			if !started {
				started = true
				for range w {
					begin <- rec.TS
				}
			}
			lastTS = max(lastTS, rec.TS)
			lt := decode.LinkType(rec.LinkType)
			// Multiply-shift maps the hash's top bits onto [0, w) without a division.
			i := int((decode.FlowHash(lt, rec.Data) >> 32) * uint64(w) >> 32)
			b := cur[i]
			if b.full(len(rec.Data)) {
				work[i] <- b
				b = <-free
				cur[i] = b
			}
			data := rec.Data
			if !mapped {
				off := len(b.buf)
				b.buf = append(b.buf, data...)
				data = b.buf[off:len(b.buf):len(b.buf)]
			}
			b.frames = append(b.frames, bframe{data: data, link: lt, wire: rec.WireLen, ts: rec.TS})
			b.bytes += len(data)
		})
	})
	for i, b := range cur {
		if len(b.frames) > 0 {
			work[i] <- b
		}
		close(work[i])
	}
	close(begin)
	wg.Wait()
	if started {
		for i, d := range ds {
			ws[i].Lock()
			d.End(lastTS)
			ws[i].Unlock()
		}
	}
	if readErr == nil {
		for _, err := range faults {
			if err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
		}
	}
	return readErr
}

// runWorker is one worker: it begins at the first packet's time, then
// runs every frame of every batch through its decoder. If the file
// shrinks under its mapping, it returns the fault and discards the batches
// still coming.
func (f *file) runWorker(w *input.Worker, d *Decoder, begin <-chan int64, work <-chan *batch, free chan<- *batch) error {
	locked := false
	err := f.guard(false, func() error {
		if ts, ok := <-begin; ok {
			w.Lock()
			d.Begin(ts)
			w.Unlock()
		}
		for b := range work {
			w.Lock()
			locked = true
			for _, fr := range b.frames {
				d.Frame(fr.link, fr.data, fr.ts, fr.wire)
			}
			locked = false
			w.Unlock()
			b.reset()
			free <- b
		}
		return nil
	})
	if locked {
		// A fault inside the loop left the lock held.
		w.Unlock()
	}
	for b := range work { // after a fault, only drain
		b.reset()
		free <- b
	}
	return err
}

// guard runs fn inside the reader's Guard: a memory fault in the file's
// mapping (the file was truncated by another process) is returned as an
// error, prefixed with the file's name when named is set; otherwise fn's
// error.
func (f *file) guard(named bool, fn func() error) error {
	var err error
	if fault := f.r.Guard(func() { err = fn() }); fault != nil {
		if named {
			fault = fmt.Errorf("%s: %w", f.name, fault)
		}
		return fault
	}
	return err
}

// scan reads every record and passes it to frame (rec.Data is valid
// during the call), checking link types and ctx and publishing progress.
// It returns nil at the end of the file, ctx's error when interrupted.
func (f *file) scan(ctx context.Context, frame func(rec *pcapfile.Record)) error {
	var rec pcapfile.Record
	var n uint64
	lastLink := f.r.LinkType()
	defer func() {
		f.packets.Store(n)
		f.offset.Store(f.r.Offset())
	}()
	for {
		err := f.r.Next(&rec)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if rec.LinkType != lastLink {
			// pcapng files may mix interfaces of several link types.
			if !decode.LinkType(rec.LinkType).Supported() {
				return fmt.Errorf("%s: at byte offset %d: unsupported link type %d (supported: %s)",
					f.name, rec.Offset, rec.LinkType, SupportedLinks)
			}
			lastLink = rec.LinkType
		}
		frame(&rec)
		n++
		if n&0xfff == 0 {
			f.packets.Store(n)
			f.offset.Store(f.r.Offset())
			if n&0xffff == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
}
