package handler

import "encoding/json"

// Summary is a rendered quantile sketch or rate: its JSON form is the
// quantile object ({"p50":…,"p90":…,"p95":…,"p99":…} plus "live" for a live
// rate); Prometheus renders it as a summary with Count and Sum.
type Summary struct {
	Quantiles map[string]any // p50, p90, p95, p99 (numbers)
	Live      *uint64        // last complete second, for live rates
	Count     uint64         // values in the sketch
	Sum       float64        // sum of the values; NaN when the sketch keeps none
}

// JSON returns the JSON object of s.
func (s *Summary) JSON() map[string]any {
	m := make(map[string]any, len(s.Quantiles)+1)
	for k, v := range s.Quantiles {
		m[k] = v
	}
	if s.Live != nil {
		m["live"] = *s.Live
	}
	return m
}

// MarshalJSON renders the JSON object.
func (s *Summary) MarshalJSON() ([]byte, error) { return json.Marshal(s.JSON()) }

// Plain returns a copy of a rendered tree in which every typed leaf
// (Summary) is replaced by its JSON object, so the result holds only maps,
// slices and scalars, as encoding/json would decode it (numbers keep their
// Go types).
func Plain(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = plainValue(v)
	}
	return out
}

func plainValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return Plain(x)
	case *Summary:
		return x.JSON()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	}
	return v
}

// Labeled is a rendered handler tree with the labels Prometheus needs.
type Labeled struct {
	Policy  string
	Handler string // instance name, or "<schema>_merged"
	Tap     string
	Schema  string
	Tree    map[string]any // as rendered, with typed leaves (Summary)
}
