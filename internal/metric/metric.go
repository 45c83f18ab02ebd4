// Package metric is the typed metric tree handlers render: nested objects
// (map[string]any, pktvisor's JSON nesting) whose leaves say what they
// are, a [Counter], a [Gauge], a [Summary] (quantiles or a rate), a
// [Histogram], a [TopN] list or a [Period]. JSON ([Plain]), Prometheus
// and OTLP are views of the same tree, so no renderer guesses a kind from
// a name or a JSON path.
package metric

import (
	"encoding/json"
	"slices"
)

// Counter is a count of events in a period (pktvisor resets it every
// period, so Prometheus sees it as a gauge).
type Counter uint64

// Gauge is a value that is not a count of events (a cardinality
// estimate).
type Gauge uint64

// Summary is a rendered quantile sketch or rate: its JSON form is the
// quantile object ({"p50":…,"p90":…,"p95":…,"p99":…} plus "live" for a live
// rate); Prometheus renders it as a summary with Count and Sum.
type Summary struct {
	Quantiles map[string]any // p50, p90, p95, p99 (numbers)
	Live      *uint64        // last complete second, for live rates
	Count     uint64         // values in the sketch (for a rate: seconds)
	Sum       float64        // sum of the values (for a rate: events in those seconds)
	// Prefix, when set, replaces the handler's schema as the first part of
	// the Prometheus name (pktvisor names net v1's byte rates "payload_").
	Prefix string
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

// Bucket is one histogram boundary with the count of values at or below it.
type Bucket struct {
	Le         string // the boundary as pktvisor writes it ("12", "12.915497")
	Cumulative uint64
}

// Histogram is pktvisor's histogram: the boundaries whose own bin is not
// empty, with cumulative counts, and the count of all values.
type Histogram struct {
	Buckets []Bucket
	Count   uint64
}

// JSON returns {"buckets": {"<le>": cumulative, ..., "+Inf": count}}.
func (h *Histogram) JSON() map[string]any {
	b := make(map[string]any, len(h.Buckets)+1)
	for _, x := range h.Buckets {
		b[x.Le] = x.Cumulative
	}
	b["+Inf"] = h.Count
	return map[string]any{"buckets": b}
}

// Item is one entry of a top-N list.
type Item struct {
	Name     string
	Estimate uint64
}

// TopN is a top-N list, heaviest first. Label names the Prometheus label
// that holds an item's name (pktvisor's "qname", "ipv4", ...).
type TopN struct {
	Label string
	Items []Item
}

// JSON returns [{"name": ..., "estimate": ...}], an empty array when the
// list is empty.
func (t *TopN) JSON() []any {
	out := make([]any, len(t.Items))
	for i, it := range t.Items {
		out[i] = map[string]any{"name": it.Name, "estimate": it.Estimate}
	}
	return out
}

// Period is the time a bucket or window covers, in whole seconds.
type Period struct {
	StartTS int64 // Unix seconds
	Length  int64 // seconds
}

// JSON returns pktvisor's period object.
func (p Period) JSON() map[string]any {
	return map[string]any{"start_ts": p.StartTS, "length": p.Length}
}

// Plain returns a copy of a tree in which every typed leaf is replaced by
// its JSON value, so the result holds only maps, slices and scalars, as
// encoding/json would decode it (numbers keep their Go types: counters
// and gauges become uint64).
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
	case Counter:
		return uint64(x)
	case Gauge:
		return uint64(x)
	case *Summary:
		return x.JSON()
	case *Histogram:
		return x.JSON()
	case *TopN:
		return x.JSON()
	case Period:
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

// Set stores v at the nested path of m, creating objects on the way
// (pktvisor nests JSON by metric name parts).
func Set(m map[string]any, v any, path ...string) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// Walk calls leaf for every leaf of the tree with its path, in key order
// per object (paths are fresh slices).
func Walk(m map[string]any, leaf func(path []string, v any)) {
	walk(nil, m, leaf)
}

func walk(path []string, m map[string]any, leaf func([]string, any)) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := append(append(make([]string, 0, len(path)+1), path...), k)
		if sub, ok := m[k].(map[string]any); ok {
			walk(p, sub, leaf)
			continue
		}
		leaf(p, m[k])
	}
}
