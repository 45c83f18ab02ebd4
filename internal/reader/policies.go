package reader

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"

	"github.com/pktvisor-go/pktvisor/internal/config"
)

// RunPolicies runs cfg.File through the taps and policies of a pktvisord
// YAML file, each pcap tap reading the file instead of its interface, and
// writes what GET /api/v1/policies/__all/metrics/window/P would show
// (bucket 0 with one period): {policy: {handler: {schema: {...}}}}. Taps of
// other input types are left out, with a warning, with the policies using
// them.
func RunPolicies(ctx context.Context, cfg Config, configFile string, out io.Writer, log *slog.Logger) error {
	f, err := config.ReadFile(configFile)
	if err != nil {
		return fmt.Errorf("%s: %w", configFile, err)
	}
	if cfg.Periods == 0 {
		cfg.Periods = 5
	}
	if cfg.DeepSampleRate == 0 {
		cfg.DeepSampleRate = 100
	}
	pcapTaps := map[string]bool{}
	var taps []config.Tap
	for _, t := range f.Taps {
		if t.InputType != "pcap" {
			log.Warn("tap skipped: only pcap taps can read a capture file", "tap", t.Name, "input_type", t.InputType)
			continue
		}
		c := maps.Clone(t.Config)
		if c == nil {
			c = map[string]any{}
		}
		for _, k := range []string{"iface", "pcap_source", "workers"} {
			delete(c, k)
		}
		c["pcap_file"] = cfg.File
		if cfg.HostSpec != "" {
			c["host_spec"] = cfg.HostSpec
		}
		t.Config = c
		taps = append(taps, t)
		pcapTaps[t.Name] = true
	}
	var pols []config.Policy
	for _, p := range f.Policies {
		if p.Tap != "" && !pcapTaps[p.Tap] {
			log.Warn("policy skipped: its tap does not read the capture file", "policy", p.Name, "tap", p.Tap)
			continue
		}
		delete(p.InputConfig, "iface")
		delete(p.InputConfig, "pcap_source")
		pols = append(pols, p)
	}
	if len(pols) == 0 {
		return fmt.Errorf("%s: no policy on a pcap tap to run", configFile)
	}
	m, err := start2(ctx, cfg, taps, pols, f.GlobalHandlerConfig, log)
	if err != nil {
		return err
	}
	defer m.Close()
	readErr := wait(ctx, m, cfg.Progress)
	win, n := periodsQuery(cfg.Periods)
	doc, err := m.Metrics("__all", win, n)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(out).Encode(doc); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return readErr
}
