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
	// CompileBPF compiles -b for the file's link type and snaplen; nil
	// means this build cannot filter.
	CompileBPF func(expr string, link uint32, snaplen int) (func([]byte) bool, error)
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

	r, err := pcapfile.Open(cfg.File)
	if err != nil {
		return res, err
	}
	defer r.Close()
	if lt := decode.LinkType(r.LinkType()); !lt.Supported() {
		return res, fmt.Errorf("%s: unsupported link type %d in the file header (supported: %s)", cfg.File, lt, supportedLinks)
	}

	var filter func([]byte) bool
	if cfg.BPF != "" {
		if cfg.CompileBPF == nil {
			return res, fmt.Errorf("-b needs a build with libpcap (cgo) to compile filters")
		}
		filter, err = cfg.CompileBPF(cfg.BPF, r.LinkType(), int(r.Snaplen()))
		if err != nil {
			return res, fmt.Errorf("-b %q: %w", cfg.BPF, err)
		}
	}

	hs, err := Handlers(cfg.Periods, cfg.DeepSampleRate, hosts)
	if err != nil {
		return res, err
	}
	pipe := policy.NewPipeline(policy.PipelineConfig{Hosts: hosts, Filter: filter}, hs)

	start := time.Now()
	readErr := readAll(ctx, r, pipe, cfg)
	pipe.End()
	res.Packets = pipe.Stats().Frames
	res.Duration = time.Since(start)
	if cfg.Progress != nil {
		fmt.Fprint(cfg.Progress, "\r\033[K")
	}

	doc, err := Render(hs, cfg.Periods)
	if err != nil {
		return res, err
	}
	if err := json.NewEncoder(out).Encode(doc); err != nil {
		return res, fmt.Errorf("write json: %w", err)
	}
	ds := pipe.DecoderStats()
	ts := pipe.TCPStats()
	log.Debug("decoder", "truncated", ds.Truncated, "malformed", ds.Malformed, "unsupported", ds.Unsupported,
		"fragments", ds.Fragments, "reassembled", ds.Reassembled)
	log.Debug("tcp reassembly", "flows", ts.Opened, "messages", ts.Messages, "errors", ts.Errors, "evicted", ts.Evicted)
	return res, readErr
}

// Handlers returns pktvisor-reader's handler set for a pcap input: net v1,
// dns v1, dhcp and pcap, named as pktvisord's default policy names them.
func Handlers(periods, deep int, hosts decode.HostSpec) ([]handler.Handler, error) {
	opt := func(name string) handler.Options {
		return handler.Options{Name: "default-default-" + name, Periods: periods, DeepSampleRate: deep,
			Recorded: true, Hosts: hosts}
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

func readAll(ctx context.Context, r *pcapfile.Reader, pipe *policy.Pipeline, cfg Config) error {
	var rec pcapfile.Record
	size := r.Size()
	var n uint64
	last := time.Now()
	var lastN uint64
	lastLink := r.LinkType()
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			break
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
		pipe.Frame(decode.LinkType(rec.LinkType), rec.Data, rec.TS, rec.WireLen)
		n++
		if n&0xffff == 0 {
			if ctx.Err() != nil {
				return ErrInterrupted
			}
			if cfg.Progress != nil {
				now := time.Now()
				if d := now.Sub(last); d >= 250*time.Millisecond {
					pct := 0.0
					if size > 0 {
						pct = 100 * float64(r.Offset()) / float64(size)
					}
					fmt.Fprintf(cfg.Progress, "\r\033[K%d packets, %.0f packets/s, %.1f%%", n,
						float64(n-lastN)/d.Seconds(), pct)
					last, lastN = now, n
				}
			}
		}
	}
	return nil
}
