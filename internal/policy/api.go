package policy

import (
	"github.com/pktvisor-go/pktvisor/internal/config"
)

// This file implements the rest of server.Backend: the JSON of taps and
// policies, and their creation from API documents.

func tapJSON(t config.Tap) map[string]any {
	cfg, tags := t.Config, t.Tags
	if cfg == nil {
		cfg = map[string]any{}
	}
	if tags == nil {
		tags = map[string]any{}
	}
	return map[string]any{"input_type": t.InputType, "interface": "visor.module.input/1.0", "config": cfg, "tags": tags}
}

// Taps returns {tap: {...}} of every tap.
func (m *Manager) Taps() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]any{}
	for n, t := range m.taps {
		out[n] = tapJSON(t)
	}
	return out
}

// Tap returns {name: {...}}.
func (m *Manager) Tap(name string) (map[string]any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.taps[name]
	if !ok {
		return nil, errf(ErrNotFound, "tap '%s' does not exist", name)
	}
	return map[string]any{name: tapJSON(t)}, nil
}

// AddTap creates the one tap of a YAML or JSON document (POST /api/v1/taps).
func (m *Manager) AddTap(doc []byte) (map[string]any, error) {
	taps, err := config.ParseTaps(doc)
	if err != nil {
		return nil, errf(ErrInvalid, "%v", err)
	}
	if err := m.AddTaps(taps...); err != nil {
		return nil, err
	}
	return map[string]any{taps[0].Name: tapJSON(taps[0])}, nil
}

// DeleteTap removes a tap (DELETE /api/v1/taps/{name}).
func (m *Manager) DeleteTap(name string) error { return m.RemoveTap(name) }

// AddPolicy creates the one policy of a YAML or JSON document (POST
// /api/v1/policies). It is transactional: on error nothing is left behind.
func (m *Manager) AddPolicy(doc []byte) (map[string]any, error) {
	ps, err := config.ParsePolicies(doc, m.cfg.Global)
	if err != nil {
		return nil, errf(ErrInvalid, "%v", err)
	}
	if err := m.addPolicy(ps[0]); err != nil {
		return nil, err
	}
	return m.Policy(ps[0].Name)
}

// DeletePolicy removes a policy (DELETE /api/v1/policies/{name}).
func (m *Manager) DeletePolicy(name string) error { return m.RemovePolicy(name) }

// Policies returns {policy: {...}} of every policy.
func (m *Manager) Policies() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]any{}
	for n, rp := range m.policies {
		out[n] = m.policyJSON(rp)
	}
	return out
}

// Policy returns {name: {...}}.
func (m *Manager) Policy(name string) (map[string]any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rp, ok := m.policies[name]
	if !ok {
		return nil, errf(ErrNotFound, "policy '%s' does not exist", name)
	}
	return map[string]any{name: m.policyJSON(rp)}, nil
}

func (m *Manager) policyJSON(rp *runPolicy) map[string]any {
	taps := map[string]any{}
	for _, t := range rp.taps {
		taps[t] = tapJSON(m.taps[t])
	}
	inputs := map[string]any{}
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
		inputs[ri.name] = map[string]any{
			"module": map[string]any{"name": ri.name, "type": ri.typ, "running": ri.in.Err() == nil, "config": ri.config},
			"input":  map[string]any{"running": ri.in.Err() == nil, "consumers": len(ri.users)},
			ri.typ:   info,
		}
	}
	mods := map[string]any{}
	for _, rm := range rp.modules {
		mods[rm.name] = map[string]any{"module": map[string]any{
			"name": rm.name, "type": rm.mod.Type, "version": rm.mod.Version, "running": true, "config": rm.mod.Config}}
	}
	return map[string]any{"kind": rp.cfg.Kind, "taps": taps, "input": inputs, "modules": mods}
}
