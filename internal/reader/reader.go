// Package reader runs the analysis of pktvisor-reader over a capture file
// with the agent's engine: the file becomes a pcap tap's pcap_file, the
// default policy (the handler registry's defaults: net, dhcp, dns and pcap
// stats) runs on it through the policy manager, and the merged window (or
// the single bucket with one period) is written as one line of pktvisor's
// JSON.
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
	"strings"
	"time"

	"github.com/pktvisor-go/pktvisor/internal/config"
	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/policy"
)

// Config is what the command line asks for.
type Config struct {
	File  string
	Input string // "pcap" (default); "dnstap" is not available yet
	// Periods is --periods, 1..10; 0 when not given: 5, and with
	// [RunPolicies] each policy's own window_config.
	Periods        int
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

	// noMap reads the file with read(2) instead of mapping it (tests).
	noMap bool
	// open replaces the input registry's opener (tests).
	open policy.Opener
}

// ErrInterrupted is returned when ctx ended before the file did.
var ErrInterrupted = errors.New("interrupted")

// ErrNothing is returned (wrapped, with the reason) when a run summarized
// nothing: the capture held no packet, or no policy rendered any output.
// Nothing is written then.
var ErrNothing = errors.New("nothing to summarize")

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
		cfg.Periods = config.DefaultVisor().Periods
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
	if _, err := decode.ParseHostSpec(cfg.HostSpec); err != nil {
		return res, fmt.Errorf("-H: %w", err)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = min(runtime.NumCPU(), 4)
	}

	v := config.Visor{HostSpec: cfg.HostSpec, BPF: cfg.BPF, Periods: cfg.Periods, MaxDeepSample: cfg.DeepSampleRate}
	tap, pol := config.DefaultTapPolicy("", v, nil, handler.Defaults())
	tap.Config = fileConfig(cfg)
	tap.Config["workers"] = uint64(workers)
	if cfg.HostSpec != "" {
		tap.Config["host_spec"] = cfg.HostSpec
	}
	if cfg.noMap {
		tap.Config["_internal_no_map"] = true
	}
	if cfg.BPF == "" {
		pol.InputConfig = nil
	}

	start := time.Now()
	// The engine's own log lines (inputs and policies starting, an input's
	// error, which Run returns) are for -v.
	mlog := slog.New(slog.DiscardHandler)
	if log.Enabled(ctx, slog.LevelDebug) {
		mlog = log
	}
	m, err := startManager(ctx, cfg, []config.Tap{tap}, []config.Policy{pol}, nil, mlog)
	if err != nil {
		if rest, ok := strings.CutPrefix(err.Error(), "bpf "); ok && cfg.BPF != "" {
			return res, fmt.Errorf("-b %s", rest) // the flag's name, not the tap key's
		}
		return res, err
	}
	defer m.Close()
	readErr := wait(ctx, m, cfg.Progress)
	_, _, res.Packets = m.Progress()
	res.Duration = time.Since(start)
	if readErr == nil && res.Packets == 0 {
		return res, fmt.Errorf("%s: no packets: %w", cfg.File, ErrNothing)
	}

	win, n := periodsQuery(cfg.Periods)
	all, err := m.Metrics(pol.Name, win, n)
	if err != nil {
		return res, err
	}
	// pktvisor-reader's document: {"<P>m": {schema: {...}}}.
	body := map[string]any{}
	if p, ok := all[pol.Name].(map[string]any); ok {
		for _, h := range p {
			if hm, ok := h.(map[string]any); ok {
				for schema, v := range hm {
					body[schema] = v
				}
			}
		}
	}
	doc := map[string]any{fmt.Sprintf("%dm", cfg.Periods): body}
	if err := json.NewEncoder(out).Encode(doc); err != nil {
		return res, fmt.Errorf("write json: %w", err)
	}
	return res, readErr
}

// startManager starts a manager for a file run and adds taps and policies; a
// policy that fails to start gives its reason, not the manager's wrapping.
func startManager(ctx context.Context, cfg Config, taps []config.Tap, pols []config.Policy,
	global map[string]map[string]any, log *slog.Logger) (*policy.Manager, error) {
	m := policy.NewManager(ctx, policy.ManagerConfig{Periods: cfg.Periods, DeepSampleRate: cfg.DeepSampleRate,
		Global: global, Log: log, Open: cfg.open})
	if err := m.AddTaps(taps...); err != nil {
		m.Close()
		return nil, err
	}
	// Opening a named pipe blocks until a writer comes: an interrupt must
	// not wait for it (the open is abandoned; the process is ending).
	started := make(chan error, 1)
	go func() { started <- m.AddPolicies(pols...) }()
	var err error
	select {
	case err = <-started:
	case <-ctx.Done():
		return nil, ErrInterrupted
	}
	if err != nil {
		m.Close()
		var se *policy.StartError
		if len(pols) == 1 && errors.As(err, &se) {
			return nil, se.Err
		}
		return nil, err
	}
	return m, nil
}

// interruptGrace is how long an interrupted run waits for its inputs to
// end their periods before it renders what it has: a pipe with no data
// blocks its reader in read(2), where no interrupt reaches it.
const interruptGrace = 2 * time.Second

// wait waits for every input of m to read its file to the end, writing a
// progress line to progress (if set) every 250 ms. It returns the first
// error that stopped an input, or ErrInterrupted when ctx ended first
// (the inputs then end their periods at the last packet read).
func wait(ctx context.Context, m *policy.Manager, progress io.Writer) error {
	done := make(chan error, 1)
	go func() { done <- m.Wait(context.Background()) }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var lastN uint64
	last := time.Now()
	interrupted := false
	for {
		select {
		case <-done:
			if progress != nil {
				fmt.Fprint(progress, "\r\033[K")
			}
			if interrupted {
				return ErrInterrupted
			}
			if errs := m.Errors(); len(errs) > 0 {
				return errs[0]
			}
			return nil
		case <-ctx.Done():
			// The inputs see ctx too: they stop within 64 Ki packets and
			// end their periods; wait for that, but not for a pipe that
			// has no data.
			interrupted = true
			ctx = context.Background()
			// Closing the inputs unblocks such a read; they then end their
			// periods, and Wait returns. Handlers stay readable.
			grace := time.AfterFunc(interruptGrace, m.Close)
			defer grace.Stop()
		case now := <-tick.C:
			if progress == nil {
				continue
			}
			d, t, n := m.Progress()
			fmt.Fprintf(progress, "\r\033[K%d packets, %.0f packets/s", n, float64(n-lastN)/now.Sub(last).Seconds())
			if t > 0 { // not for a pipe or standard input: the size is unknown
				fmt.Fprintf(progress, ", %.1f%%", 100*float64(d)/float64(t))
			}
			last, lastN = now, n
		}
	}
}

// fileConfig is the part of a pcap tap's config that makes it read
// cfg.File: pcap_file, and for "-" the input's internal key for standard
// input (pcap_file then only names it). The reader may read a named pipe,
// which the agent refuses (it would block the agent).
func fileConfig(cfg Config) map[string]any {
	c := map[string]any{"pcap_file": cfg.File, "_internal_allow_pipe": true}
	if cfg.File == "-" {
		c["_internal_stdin"] = true
	}
	return c
}

// periodsQuery returns how pktvisor-reader renders P periods: the single
// bucket 0 with one period, else the merged window of P.
func periodsQuery(periods int) (win bool, n int) {
	if periods == 1 {
		return false, 0
	}
	return true, periods
}
