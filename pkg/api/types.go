// Package api holds the JSON types of pktvisord's REST API (/api/v1) and
// a small Go client for it. The server renders its responses with these
// types, so a client built on them reads exactly what the server writes.
//
// Metrics are left as decoded JSON objects ([Metrics]): their layout is
// each handler's schema (pktvisor's), not a fixed Go type.
package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
}

// App is GET /api/v1/metrics/app.
type App struct {
	App struct {
		Version   string  `json:"version"`
		UpTimeMin float64 `json:"up_time_min"`
	} `json:"app"`
}

// Tap is one tap (GET /api/v1/taps is a map of them by name). Fields are
// in JSON key order.
type Tap struct {
	Config    map[string]any `json:"config"`
	InputType string         `json:"input_type"`
	Interface string         `json:"interface"`
	Tags      map[string]any `json:"tags"`
}

// TapInterface is the interface string pktvisor gives every tap.
const TapInterface = "visor.module.input/1.0"

// Module is the state of an input stream or a handler module.
type Module struct {
	Config  map[string]any `json:"config"`
	Name    string         `json:"name"`
	Running bool           `json:"running"`
	Type    string         `json:"type"`
	Version string         `json:"version,omitempty"`
}

// InputState is the "input" object of an input stream.
type InputState struct {
	Consumers int  `json:"consumers"`
	Running   bool `json:"running"`
}

// Input is one input stream of a policy: its module, its state and the
// input type's info (capture backend, fallbacks, counters), which the JSON
// keys by the input type ({"module": ..., "input": ..., "pcap": {...}}).
type Input struct {
	Module Module
	Input  InputState
	Info   map[string]any
}

// MarshalJSON implements json.Marshaler.
func (in Input) MarshalJSON() ([]byte, error) {
	m := map[string]any{"module": in.Module, "input": in.Input}
	if in.Module.Type != "" {
		m[in.Module.Type] = in.Info
	}
	return json.Marshal(m)
}

// UnmarshalJSON implements json.Unmarshaler.
func (in *Input) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw["module"], &in.Module); err != nil {
		return fmt.Errorf("input module: %w", err)
	}
	if r, ok := raw["input"]; ok {
		if err := json.Unmarshal(r, &in.Input); err != nil {
			return fmt.Errorf("input state: %w", err)
		}
	}
	in.Info = nil
	if r, ok := raw[in.Module.Type]; ok {
		if err := json.Unmarshal(r, &in.Info); err != nil {
			return fmt.Errorf("input info: %w", err)
		}
	}
	return nil
}

// HandlerModule is one handler module of a policy.
type HandlerModule struct {
	Module Module `json:"module"`
}

// Policy is one collection policy (GET /api/v1/policies is a map of them
// by name).
type Policy struct {
	Input   map[string]Input         `json:"input"`
	Kind    string                   `json:"kind"`
	Modules map[string]HandlerModule `json:"modules"`
	Taps    map[string]Tap           `json:"taps"`
}

// Metrics is a metrics response of /api/v1/policies/{name}/metrics/...:
// {policy: {handler instance: {schema: {metric: ...}}}}, as decoded JSON.
type Metrics map[string]map[string]map[string]map[string]any

// Schema returns the object of schema (e.g. "dns") of the handler
// instance handler of policy, or nil.
func (m Metrics) Schema(policy, handler, schema string) map[string]any {
	return m[policy][handler][schema]
}

// Handlers returns the handler instance names of policy.
func (m Metrics) Handlers(policy string) []string {
	return sortedKeys(m[policy])
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
