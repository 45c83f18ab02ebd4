package handler

import "github.com/pktvisor-go/pktvisor/internal/metric"

// Summary is a rendered quantile sketch or rate (see [metric.Summary]).
type Summary = metric.Summary

// Plain returns a copy of a rendered tree with every typed leaf replaced
// by its JSON value (see [metric.Plain]).
func Plain(m map[string]any) map[string]any { return metric.Plain(m) }

// Labeled is a rendered handler tree with the labels Prometheus needs.
type Labeled struct {
	Policy  string
	Handler string // instance name, or "<schema>_merged"
	Tap     string
	Schema  string
	Tree    map[string]any // as rendered: a metric tree with typed leaves
}
