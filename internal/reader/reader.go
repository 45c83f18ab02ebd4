// Package reader runs the analysis of pktvisor-reader over a capture file:
// the file's frames go through one pipeline of the net, dns, dhcp and pcap
// handlers, and the merged window (or the single bucket with one period) is
// written as one line of pktvisor's JSON.
//
// # The one mistake
//
// A capture that breaks part-way is not lost: Run still writes what was
// summarized before the break and then returns the error, so callers print
// the JSON and exit non-zero.
package reader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/pktvisor-go/pktvisor/internal/capture/pcapfile"
	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/handler/dhcp"
	"github.com/pktvisor-go/pktvisor/internal/handler/dns"
	"github.com/pktvisor-go/pktvisor/internal/handler/netstats"
	"github.com/pktvisor-go/pktvisor/internal/handler/pcapstats"
	"github.com/pktvisor-go/pktvisor/internal/policy"
)

// Config is what the command line asks for.
type Config struct {
	File           string
	Input          string // "pcap" (default); "dnstap" is not available yet
	Periods        int    // 1..10, default 5
	DeepSampleRate int    // percent, default 100
	HostSpec       string // -H
	BPF            string // -b
	// Progress, when set, receives a progress line updated in place
	// (a terminal on stderr).
	Progress io.Writer
	// Workers is the number of goroutines that decode and summarize
	// (0: one per CPU, at most 4). Frames are spread by flow, so both
	// directions of a conversation meet on one worker.
	Workers int
	// CompileBPF compiles -b for the file's link type and snaplen; nil
	// means this build cannot filter.
	CompileBPF func(expr string, link uint32, snaplen int) (func([]byte) bool, error)

	// noMap reads the file with read(2) instead of mapping it (tests).
	noMap bool
}

// supportedLinks names the link types the decoder reads, for errors.
const supportedLinks = "Ethernet (1), raw IP (101, 228, 229), Linux SLL (113) and SLL2 (276), BSD loopback (0, 108)"

// ErrInterrupted is returned when ctx ended before the file did.
var ErrInterrupted = errors.New("interrupted")

// Result is what Run learned besides the JSON.
type Result struct {
	Packets  uint64
	Duration time.Duration
}

// Run analyses cfg.File and writes the JSON document to out. On a capture
// error part-way it writes what it has and returns the error.
func Run(ctx context.Context, cfg Config, out io.Writer, log *slog.Logger) (Result, error) {
	var res Result
	switch cfg.Input {
	case "", "pcap":
	case "dnstap", "sflow", "netflow":
		return res, fmt.Errorf("input type %q is not supported by this version of pktvisor-reader (pcap only)", cfg.Input)
	default:
		return res, fmt.Errorf("unknown input type %q (want pcap)", cfg.Input)
	}
	if cfg.Periods == 0 {
		cfg.Periods = 5
	}
	if cfg.Periods < 1 || cfg.Periods > 10 {
		return res, fmt.Errorf("--periods must be between 1 and 10, got %d", cfg.Periods)
	}
	if cfg.DeepSampleRate == 0 {
		cfg.DeepSampleRate = 100
	}
	if cfg.DeepSampleRate < 1 || cfg.DeepSampleRate > 100 {
		return res, fmt.Errorf("--max-deep-sample must be between 1 and 100, got %d", cfg.DeepSampleRate)
	}
	hosts, err := decode.ParseHostSpec(cfg.HostSpec)
	if err != nil {
		return res, fmt.Errorf("-H: %w", err)
	}

	open := pcapfile.OpenMapped
	if cfg.noMap {
		open = pcapfile.Open
	}
	r, err := open(cfg.File)
	if err != nil {
		return res, err
	}
	defer r.Close()
	return run(ctx, cfg, r, hosts, out, log)
}

// run is Run on the opened file r.
func run(ctx context.Context, cfg Config, r *pcapfile.Reader, hosts decode.HostSpec, out io.Writer, log *slog.Logger) (Result, error) {
	var res Result
	var err error
	if lt := decode.LinkType(r.LinkType()); !lt.Supported() {
		return res, fmt.Errorf("%s: unsupported link type %d in the file header (supported: %s)", cfg.File, lt, supportedLinks)
	}

	workers := cfg.Workers
	if workers <= 0 {
		workers = min(runtime.NumCPU(), 4)
	}
	shards := make([]*shard, workers)
	for i := range shards {
		var filter func([]byte) bool
		if cfg.BPF != "" {
			if cfg.CompileBPF == nil {
				return res, fmt.Errorf("-b needs a build with libpcap (cgo) to compile filters")
			}
			// One matcher per worker: a matcher is single-goroutine.
			filter, err = cfg.CompileBPF(cfg.BPF, r.LinkType(), int(r.Snaplen()))
			if err != nil {
				return res, fmt.Errorf("-b %q: %w", cfg.BPF, err)
			}
		}
		hs, err := handlers(cfg.Periods, cfg.DeepSampleRate, hosts, uint32(i+1))
		if err != nil {
			return res, err
		}
		shards[i] = &shard{hs: hs, pipe: policy.NewPipeline(policy.PipelineConfig{Hosts: hosts, Filter: filter}, hs)}
	}

	start := time.Now()
	var readErr error
	if workers == 1 {
		pipe := shards[0].pipe
		readErr = guard(r, cfg.File, func() error {
			return scan(ctx, r, cfg, func(rec *pcapfile.Record) {
				pipe.Frame(decode.LinkType(rec.LinkType), rec.Data, rec.TS, rec.WireLen)
			})
		})
		shards[0].pipe.End()
	} else {
		readErr = readParallel(ctx, r, shards, cfg)
	}
	for _, sh := range shards {
		res.Packets += sh.pipe.Stats().Frames
	}
	res.Duration = time.Since(start)
	if cfg.Progress != nil {
		fmt.Fprint(cfg.Progress, "\r\033[K")
	}

	doc, err := renderShards(shards, cfg.Periods)
	if err != nil {
		return res, err
	}
	if err := json.NewEncoder(out).Encode(doc); err != nil {
		return res, fmt.Errorf("write json: %w", err)
	}
	for i, sh := range shards {
		ds := sh.pipe.DecoderStats()
		ts := sh.pipe.TCPStats()
		log.Debug("decoder", "worker", i, "truncated", ds.Truncated, "malformed", ds.Malformed, "unsupported", ds.Unsupported,
			"fragments", ds.Fragments, "reassembled", ds.Reassembled)
		log.Debug("tcp reassembly", "worker", i, "flows", ts.Opened, "messages", ts.Messages, "errors", ts.Errors, "evicted", ts.Evicted)
	}
	return res, readErr
}

// shard is one worker's pipeline and handlers.
type shard struct {
	hs   []handler.Handler
	pipe *policy.Pipeline
}

// renderShards merges the workers' handlers (the same set in the same
// order) and renders pktvisor-reader's document.
func renderShards(shards []*shard, periods int) (map[string]any, error) {
	if len(shards) == 1 {
		return Render(shards[0].hs, periods)
	}
	win, n := periods != 1, periods
	if !win {
		n = 0
	}
	body := map[string]any{}
	for j, h := range shards[0].hs {
		var merged handler.Snap
		for _, sh := range shards {
			s, err := sh.hs[j].(handler.Snapshotter).Snapshot(win, n, 0)
			if err != nil {
				return nil, fmt.Errorf("render %s: %w", h.Name(), err)
			}
			if merged == nil {
				merged = s
			} else {
				merged.Merge(s)
			}
		}
		if j := merged.Render(); j != nil {
			body[h.Schema()] = handler.Plain(j)
		}
	}
	return map[string]any{fmt.Sprintf("%dm", periods): body}, nil
}

// Handlers returns pktvisor-reader's handler set for a pcap input: net v1,
// dns v1, dhcp and pcap, named as pktvisord's default policy names them.
func Handlers(periods, deep int, hosts decode.HostSpec) ([]handler.Handler, error) {
	return handlers(periods, deep, hosts, 0)
}

func handlers(periods, deep int, hosts decode.HostSpec, seed uint32) ([]handler.Handler, error) {
	opt := func(name string) handler.Options {
		return handler.Options{Name: "default-default-" + name, Periods: periods, DeepSampleRate: deep,
			Recorded: true, Hosts: hosts, Seed: seed}
	}
	n, err := netstats.NewV1(opt("net"))
	if err != nil {
		return nil, fmt.Errorf("net handler: %w", err)
	}
	d, err := dns.NewV1(opt("dns"))
	if err != nil {
		return nil, fmt.Errorf("dns handler: %w", err)
	}
	dh, err := dhcp.NewV1(opt("dhcp"))
	if err != nil {
		return nil, fmt.Errorf("dhcp handler: %w", err)
	}
	pc, err := pcapstats.New(opt("pcap_stats"))
	if err != nil {
		return nil, fmt.Errorf("pcap handler: %w", err)
	}
	return []handler.Handler{n, d, dh, pc}, nil
}

// Render builds pktvisor-reader's document: {"<P>m": {schema: {...}}},
// the single bucket with one period, else the merged window of all periods.
func Render(hs []handler.Handler, periods int) (map[string]any, error) {
	body := map[string]any{}
	for _, h := range hs {
		var (
			j   map[string]any
			err error
		)
		if periods == 1 {
			j, err = h.Bucket(0, 0)
		} else {
			j, err = h.Window(periods, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", h.Name(), err)
		}
		if j != nil {
			body[h.Schema()] = j
		}
	}
	return map[string]any{fmt.Sprintf("%dm", periods): body}, nil
}

// scan reads every record of r and passes it to frame (rec.Data is valid
// during the call), checking link types, ctx (ErrInterrupted) and writing
// the progress line. It returns nil at the end of the file.
func scan(ctx context.Context, r *pcapfile.Reader, cfg Config, frame func(rec *pcapfile.Record)) error {
	var rec pcapfile.Record
	size := r.Size()
	var n, lastN uint64
	last := time.Now()
	lastLink := r.LinkType()
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.File, err)
		}
		if rec.LinkType != lastLink {
			// pcapng files may mix interfaces of several link types.
			if !decode.LinkType(rec.LinkType).Supported() {
				return fmt.Errorf("%s: at byte offset %d: unsupported link type %d (supported: %s)",
					cfg.File, rec.Offset, rec.LinkType, supportedLinks)
			}
			lastLink = rec.LinkType
		}
		frame(&rec)
		n++
		if n&0xffff == 0 {
			if ctx.Err() != nil {
				return ErrInterrupted
			}
			if cfg.Progress != nil {
				if now := time.Now(); now.Sub(last) >= 250*time.Millisecond {
					pct := 0.0
					if size > 0 {
						pct = 100 * float64(r.Offset()) / float64(size)
					}
					fmt.Fprintf(cfg.Progress, "\r\033[K%d packets, %.0f packets/s, %.1f%%", n,
						float64(n-lastN)/now.Sub(last).Seconds(), pct)
					last, lastN = now, n
				}
			}
		}
	}
}
