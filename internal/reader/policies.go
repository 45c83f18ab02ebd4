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
// writes {policy: {handler: {schema: {...}}}}: each policy rendered by its
// own number of periods P (window_config num_periods, else cfg.Periods,
// else 5), as GET /api/v1/policies/NAME/metrics/window/P shows it, or
// bucket 0 when P is 1. A policy whose handlers keep different numbers of
// periods is rendered by the smallest. Taps of other input types are left
// out, with a warning, with the policies using them. A capture without
// packets, or policies that render nothing, is [ErrNothing].
func RunPolicies(ctx context.Context, cfg Config, configFile string, out io.Writer, log *slog.Logger) error {
	f, err := config.ReadFile(configFile)
	if err != nil {
		return fmt.Errorf("%s: %w", configFile, err)
	}
	if cfg.Periods == 0 {
		cfg.Periods = config.DefaultVisor().Periods
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
		maps.Copy(c, fileConfig(cfg))
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
	m, err := startManager(ctx, cfg, taps, pols, f.GlobalHandlerConfig, log)
	if err != nil {
		return err
	}
	defer m.Close()
	readErr := wait(ctx, m, cfg.Progress)
	if _, _, n := m.Progress(); readErr == nil && n == 0 {
		return fmt.Errorf("%s: no packets: %w", cfg.File, ErrNothing)
	}
	doc := map[string]any{}
	rendered := false
	for _, p := range pols {
		win, n := periodsQuery(policyPeriods(p, cfg.Periods))
		got, err := m.Metrics(p.Name, win, n)
		if err != nil {
			return fmt.Errorf("policy %s: %w", p.Name, err)
		}
		for name, body := range got {
			doc[name] = body
			if b, ok := body.(map[string]any); ok && len(b) > 0 {
				rendered = true
			}
		}
	}
	if readErr == nil && !rendered {
		return fmt.Errorf("no policy rendered any metrics: %w", ErrNothing)
	}
	if err := json.NewEncoder(out).Encode(doc); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return readErr
}

// policyPeriods returns the number of periods p's handlers keep, the
// smallest if they differ: window_config's num_periods (merged into every
// module's config), else a module's own, else def (what the manager gives
// policies without window_config and handlers without num_periods).
func policyPeriods(p config.Policy, def int) int {
	if p.WindowConfig == nil {
		return def
	}
	least := 0
	for _, mod := range p.Modules {
		n := def
		switch v := mod.Config["num_periods"].(type) {
		case uint64:
			n = int(v)
		case int:
			n = v
		case int64:
			n = int(v)
		case float64:
			n = int(v)
		}
		if least == 0 || n < least {
			least = n
		}
	}
	if least < 1 {
		return def
	}
	return least
}
