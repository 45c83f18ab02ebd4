package handler

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pktvisor-go/pktvisor/internal/window"
)

// Options configures one handler instance. Config is pktvisor's flat
// handler config: the module's config and filter maps, window_config and
// the handler type's global_handler_config merged into one map, with YAML
// scalars typed as pktvisor types them (digits → uint64, true/false → bool,
// else string; sequences → []string; maps → map[string]any).
type Options struct {
	Name           string // instance name
	Periods        int    // number of periods (1..10)
	DeepSampleRate int    // percent (1..100)
	TopNCount      int    // entries per top-N list (default 10)
	TopNPercentile float64
	Recorded       bool // a file replay: no live rates, period length from event time
	Config         map[string]any
	Enable         []string // metric_groups.enable
	Disable        []string // metric_groups.disable
	Seed           uint32   // seed of the deep-sampling generator
}

// WindowKeys are accepted by every handler (pktvisor §1.4).
var windowKeys = []string{"deep_sample_rate", "num_periods", "topn_count", "topn_percentile_threshold",
	"enable", "disable", "_internal_tap_name", "recorded_stream"}

// Defaults fills unset window options with pktvisor's defaults and applies
// window keys present in Config.
func (o *Options) Defaults() error {
	if v, ok := o.Config["num_periods"]; ok {
		n, err := toInt(v)
		if err != nil {
			return fmt.Errorf("num_periods: %w", err)
		}
		o.Periods = n
	}
	if v, ok := o.Config["deep_sample_rate"]; ok {
		n, err := toInt(v)
		if err != nil {
			return fmt.Errorf("deep_sample_rate: %w", err)
		}
		o.DeepSampleRate = n
	}
	if v, ok := o.Config["topn_count"]; ok {
		n, err := toInt(v)
		if err != nil {
			return fmt.Errorf("topn_count: %w", err)
		}
		o.TopNCount = n
	}
	if v, ok := o.Config["topn_percentile_threshold"]; ok {
		n, err := toInt(v)
		if err != nil || n > 100 {
			return fmt.Errorf("topn_percentile_threshold must be an integer in [0, 100]")
		}
		o.TopNPercentile = float64(n)
	}
	if v, ok := o.Config["recorded_stream"]; ok {
		b, err := toBool(v)
		if err != nil {
			return fmt.Errorf("recorded_stream: %w", err)
		}
		o.Recorded = o.Recorded || b
	}
	if o.Periods == 0 {
		o.Periods = window.DefaultPeriods
	}
	o.Periods = min(max(o.Periods, window.MinPeriods), window.MaxPeriods)
	if o.DeepSampleRate == 0 {
		o.DeepSampleRate = 100
	}
	o.DeepSampleRate = min(max(o.DeepSampleRate, 1), 100)
	if o.TopNCount == 0 {
		o.TopNCount = 10
	}
	return nil
}

// CheckKeys rejects Config keys that are neither window keys nor in
// valid, with pktvisor's message.
func (o *Options) CheckKeys(valid ...string) error {
	keys := make([]string, 0, len(o.Config))
	for k := range o.Config {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(valid, k) || slices.Contains(windowKeys, k) {
			continue
		}
		all := append(slices.Clone(valid), "deep_sample_rate", "num_periods", "topn_count", "topn_percentile_threshold")
		return fmt.Errorf("%s is an invalid/unsupported config or filter. The valid configs/filters are: %s", k, strings.Join(all, ", "))
	}
	return nil
}

// Window returns the window.Config for these options.
func (o *Options) Window() window.Config {
	return window.Config{Periods: o.Periods, Recorded: o.Recorded}
}

// Has reports whether key is set.
func (o *Options) Has(key string) bool { _, ok := o.Config[key]; return ok }

// Bool returns a boolean config value (def when unset).
func (o *Options) Bool(key string, def bool) (bool, error) {
	v, ok := o.Config[key]
	if !ok {
		return def, nil
	}
	b, err := toBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %w", key, err)
	}
	return b, nil
}

// Uint returns an unsigned integer config value (def when unset).
func (o *Options) Uint(key string, def uint64) (uint64, error) {
	v, ok := o.Config[key]
	if !ok {
		return def, nil
	}
	n, err := toInt(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return uint64(n), nil
}

// String returns a string config value (def when unset).
func (o *Options) String(key, def string) (string, error) {
	v, ok := o.Config[key]
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case uint64, int, int64, bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("%s: expected a string, got %T", key, v)
}

// StringList returns a list config value; a scalar counts as a one-item list.
func (o *Options) StringList(key string) ([]string, error) {
	v, ok := o.Config[key]
	if !ok {
		return nil, nil
	}
	switch x := v.(type) {
	case []string:
		return x, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			switch e.(type) {
			case map[string]any, []any, []string:
				return nil, fmt.Errorf("%s: list items must be scalars", key)
			}
			out[i] = fmt.Sprint(e)
		}
		return out, nil
	case string, uint64, int, int64, bool:
		return []string{fmt.Sprint(x)}, nil
	}
	return nil, fmt.Errorf("%s: expected a list, got %T", key, v)
}

// Prefixes returns a CIDR list config value.
func (o *Options) Prefixes(key string) ([]netip.Prefix, error) {
	l, err := o.StringList(key)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(l))
	for _, s := range l {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("invalid CIDR: %s", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case uint64:
		return int(x), nil
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("expected a non-negative integer, got %v", v)
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("expected true or false, got %v", v)
}
