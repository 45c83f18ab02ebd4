package policy

import (
	"github.com/pktvisor-go/pktvisor/internal/config"
	"github.com/pktvisor-go/pktvisor/pkg/api"
)

// This file implements the rest of server.Backend: the JSON of taps and
// policies, and their creation from API documents.

func tapJSON(t config.Tap) api.Tap {
	cfg, tags := t.Config, t.Tags
	if cfg == nil {
		cfg = map[string]any{}
	}
	if tags == nil {
		tags = map[string]any{}
	}
	return api.Tap{InputType: t.InputType, Interface: api.TapInterface, Config: cfg, Tags: tags}
}

// Taps returns {tap: {...}} of every tap.
func (m *Manager) Taps() map[string]api.Tap {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]api.Tap{}
	for n, t := range m.taps {
		out[n] = tapJSON(t)
	}
	return out
}

// Tap returns {name: {...}}.
func (m *Manager) Tap(name string) (map[string]api.Tap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.taps[name]
	if !ok {
		return nil, errf(ErrNotFound, "tap '%s' does not exist", name)
	}
	return map[string]api.Tap{name: tapJSON(t)}, nil
}

// AddTap creates the one tap of a YAML or JSON document (POST /api/v1/taps).
func (m *Manager) AddTap(doc []byte) (map[string]api.Tap, error) {
	taps, err := config.ParseTaps(doc)
	if err != nil {
		return nil, errf(ErrInvalid, "%v", err)
	}
	if err := m.AddTaps(taps...); err != nil {
		return nil, err
	}
	return map[string]api.Tap{taps[0].Name: tapJSON(taps[0])}, nil
}

// DeleteTap removes a tap (DELETE /api/v1/taps/{name}).
func (m *Manager) DeleteTap(name string) error { return m.RemoveTap(name) }

// AddPolicy creates the one policy of a YAML or JSON document (POST
// /api/v1/policies). It is transactional: on error nothing is left behind.
func (m *Manager) AddPolicy(doc []byte) (map[string]api.Policy, error) {
	ps, err := config.ParsePolicies(doc, m.cfg.Global)
	if err != nil {
		return nil, errf(ErrInvalid, "%v", err)
	}
	if _, err := m.addPolicy(ps[0], false); err != nil {
		return nil, err
	}
	return m.Policy(ps[0].Name)
}

// DeletePolicy removes a policy (DELETE /api/v1/policies/{name}).
func (m *Manager) DeletePolicy(name string) error { return m.RemovePolicy(name) }

// Policies returns {policy: {...}} of every policy.
func (m *Manager) Policies() map[string]api.Policy {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]api.Policy{}
	for n, rp := range m.policies {
		out[n] = m.policyJSON(rp)
	}
	return out
}

// Policy returns {name: {...}}.
func (m *Manager) Policy(name string) (map[string]api.Policy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rp, ok := m.policies[name]
	if !ok {
		return nil, errf(ErrNotFound, "policy '%s' does not exist", name)
	}
	return map[string]api.Policy{name: m.policyJSON(rp)}, nil
}

func (m *Manager) policyJSON(rp *runPolicy) api.Policy {
	taps := map[string]api.Tap{}
	for _, t := range rp.taps {
		taps[t] = tapJSON(m.taps[t])
	}
	inputs := map[string]api.Input{}
	for _, ri := range rp.inputs {
		st := ri.in.Counters()
		info := ri.in.Info()
		info["packets"] = st.Packets
		info["drops"] = st.Drops
		info["if_drops"] = st.IfDrops
		info["workers"] = ri.in.Workers()
		if err := ri.in.Err(); err != nil {
			info["error"] = err.Error()
		}
		running := ri.in.Err() == nil
		inputs[ri.name] = api.Input{
			Module: api.Module{Name: ri.name, Type: ri.typ, Running: running, Config: ri.config},
			Input:  api.InputState{Running: running, Consumers: len(ri.users)},
			Info:   info,
		}
	}
	mods := map[string]api.HandlerModule{}
	for _, rm := range rp.modules {
		mods[rm.name] = api.HandlerModule{Module: api.Module{
			Name: rm.name, Type: rm.mod.Type, Version: rm.mod.Version, Running: true, Config: rm.mod.Config}}
	}
	return api.Policy{Kind: rp.cfg.Kind, Taps: taps, Input: inputs, Modules: mods}
}
