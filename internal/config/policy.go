package config

import (
	"maps"

	"gopkg.in/yaml.v3"
)

// Policy is one collection policy (visor.policies.<name>).
type Policy struct {
	Name        string
	Kind        string         // always "collection"
	Description string         // optional, informational
	Config      map[string]any // policy config, e.g. merge_like_handlers: true; nil when absent

	Tap         string    // input.tap; "" when TapSelector is set
	TapSelector *Selector // input.tap_selector; nil when Tap is set
	InputType   string    // input.input_type, must equal the tap's
	InputConfig map[string]any
	InputFilter map[string]any

	// WindowConfig is handlers.window_config (typed), nil when absent: then
	// call [Policy.ApplyWindowDefaults]. It is already merged into every
	// module's Config.
	WindowConfig map[string]any
	Modules      []Module // in document order
	Chained      bool     // handlers.modules was a sequence: each module feeds the next
	Line         int      // line of the policy's name
}

// Module is one handler module of a policy.
type Module struct {
	Name    string // the module key; the instance is named <policy>-<tap>-<name>
	Type    string // handler type: net, dns, dhcp, bgp, flow, pcap, netprobe, ...
	Version string // require_version, "1.0" by default
	// Config is pktvisor's flat handler config (§1.4), merged in this
	// order, later keys winning: global_handler_config[Type], the module's
	// config, its filter, the policy's window_config, and "enable" /
	// "disable" from metric_groups. Each module owns its map.
	Config  map[string]any
	Enable  []string // metric_groups.enable; nil when absent
	Disable []string // metric_groups.disable; nil when absent
	Line    int      // line of the module's name
}

// HandlerVersions are the handler versions require_version may name.
func HandlerVersions() []string { return []string{"1.0", "2.0"} }

// DefaultHandlerVersion is the version of a module without require_version.
const DefaultHandlerVersion = "1.0"

// ApplyWindowDefaults gives a policy without handlers.window_config
// pktvisord's defaults from the command line, as pktvisor does:
// num_periods = periods and deep_sample_rate = maxDeepSample, in
// WindowConfig and (overriding the module's own keys, as pktvisor's
// window_config does) in every module's Config. A policy that has a
// window_config is left alone.
func (p *Policy) ApplyWindowDefaults(periods, maxDeepSample int) {
	if p.WindowConfig != nil {
		return
	}
	p.WindowConfig = map[string]any{
		"num_periods":      uint64(max(periods, 0)),
		"deep_sample_rate": uint64(max(maxDeepSample, 0)),
	}
	for i := range p.Modules {
		if p.Modules[i].Config == nil {
			p.Modules[i].Config = map[string]any{}
		}
		maps.Copy(p.Modules[i].Config, p.WindowConfig)
	}
}

// globalHandlerConfig parses visor.global_handler_config.
func (w *walker) globalHandlerConfig(n *yaml.Node) (map[string]map[string]any, error) {
	if !isMap(n) {
		return nil, pkErr(n, "expecting global_handler_config configuration map")
	}
	ps, err := w.pairs(n)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(ps))
	for _, p := range ps {
		if !isMap(p.v) {
			return nil, pkErr(p.v, "expecting global_handler_config configuration map")
		}
		if _, dup := out[p.key]; dup {
			return nil, pkErrf(p.k, "stream handler type '%s' already exists in global_handler_config configuration", p.key)
		}
		if out[p.key], err = w.typedMap(p.v, "global_handler_config."+p.key, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// policies parses visor.policies (mapping n). global is merged under the
// modules. When taps is not nil, tap references are resolved against it.
func (w *walker) policies(n *yaml.Node, global map[string]map[string]any, taps []Tap) ([]Policy, error) {
	ps, err := w.pairs(n)
	if err != nil {
		return nil, err
	}
	var out []Policy
	seen := map[string]bool{}
	for _, p := range ps {
		if !isScalar(p.k) {
			return nil, pkErr(p.k, "expecting policy identifier")
		}
		if !isMap(p.v) {
			return nil, pkErr(p.v, "expecting policy configuration map")
		}
		if seen[p.key] {
			return nil, pkErrf(p.k, "policy with name '%s' already defined", p.key)
		}
		if err := checkName("policy", p.k); err != nil {
			return nil, err
		}
		seen[p.key] = true
		pol, err := w.policy(p, global, taps)
		if err != nil {
			return nil, err
		}
		out = append(out, pol)
	}
	return out, nil
}

// policy parses one policy, checking in pktvisor's order: kind, input,
// handlers, tap selection, policy config, taps, modules.
func (w *walker) policy(p pair, global map[string]map[string]any, taps []Tap) (Policy, error) {
	pol := Policy{Name: p.key, Line: p.k.Line}
	fs, err := w.fields(p.v, "policy '"+p.key+"'", "kind", "description", "config", "input", "handlers")
	if err != nil {
		return pol, err
	}
	kind, ok := fs["kind"]
	if !ok || !isScalar(kind.v) {
		return pol, pkErr(p.v, "missing or invalid policy kind at key 'kind'")
	}
	if kind.v.Value != "collection" {
		return pol, pkErrf(kind.v, "unknown policy kind: %s", kind.v.Value)
	}
	pol.Kind = kind.v.Value
	if d, ok := fs["description"]; ok {
		if !isScalar(d.v) {
			return pol, lineErrf(d.v, "policy '%s' description: want a string, got %s", p.key, describe(d.v))
		}
		pol.Description = d.v.Value
	}

	// Input section.
	in, ok := fs["input"]
	if !ok || !isMap(in.v) {
		return pol, pkErr(p.v, "missing or invalid policy input stream configuration at key 'input'")
	}
	ifs, err := w.fields(in.v, "policy '"+p.key+"' input", "tap", "tap_selector", "input_type", "config", "filter")
	if err != nil {
		return pol, err
	}
	it, ok := ifs["input_type"]
	if !ok || !isScalar(it.v) {
		return pol, pkErr(in.v, "missing or invalid input_type at key 'input.input_type'")
	}
	pol.InputType = it.v.Value
	if c, ok := ifs["config"]; ok {
		if !isMap(c.v) {
			return pol, pkErr(c.v, "input configuration is not a map")
		}
		if pol.InputConfig, err = w.typedMap(c.v, "input.config", 0); err != nil {
			return pol, wrapMsg("invalid input config: ", err)
		}
	}
	if c, ok := ifs["filter"]; ok {
		if !isMap(c.v) {
			return pol, pkErr(c.v, "input filter configuration is not a map")
		}
		if pol.InputFilter, err = w.typedMap(c.v, "input.filter", 0); err != nil {
			return pol, wrapMsg("invalid input filter: ", err)
		}
	}

	// Handlers section.
	h, ok := fs["handlers"]
	if !ok || !isMap(h.v) {
		return pol, pkErr(p.v, "missing or invalid handler configuration at key 'handlers'")
	}
	hfs, err := w.fields(h.v, "policy '"+p.key+"' handlers", "modules", "window_config", "config")
	if err != nil {
		return pol, err
	}
	mods, ok := hfs["modules"]
	if !ok || !(isMap(mods.v) || isSeq(mods.v)) {
		return pol, pkErr(h.v, "missing or invalid handler modules at key 'modules'")
	}
	pol.Chained = isSeq(mods.v)
	wc, hasWC := hfs["window_config"]
	if rfc, ok := hfs["config"]; ok {
		// The RFC calls it handlers.config; pktvisor reads only
		// window_config. We accept the RFC's name as an alias.
		if hasWC {
			return pol, lineErrf(rfc.k, "policy '%s' handlers: use window_config or config (the RFC's name for it), not both", p.key)
		}
		wc, hasWC = rfc, true
	}
	if hasWC {
		if !isMap(wc.v) {
			return pol, lineErrf(wc.v, "policy '%s' handlers.%s: want a map, got %s", p.key, wc.key, describe(wc.v))
		}
		if pol.WindowConfig, err = w.typedMap(wc.v, "window_config", 0); err != nil {
			return pol, wrapMsg("invalid stream handler window config: ", err)
		}
	}

	// Tap selection.
	tap, hasTap := ifs["tap"]
	sel, hasSel := ifs["tap_selector"]
	switch {
	case hasTap && hasSel:
		return pol, pkErr(in.v, "input can have only key 'input.tap' or key 'input.tap_selector'")
	case !hasTap && !hasSel:
		return pol, pkErr(in.v, "missing key 'input.tap' or key 'input.tap_selector'")
	case hasTap:
		if !isScalar(tap.v) {
			return pol, pkErr(tap.v, "invalid tap at key 'input.tap'")
		}
		pol.Tap = tap.v.Value
	default:
		if pol.TapSelector, err = w.selector(sel.v); err != nil {
			return pol, err
		}
	}

	// Taps of the same document.
	var tapNames []string
	if taps != nil {
		if tapNames, err = pol.resolveTaps(taps, tap.v); err != nil {
			return pol, err
		}
	}

	// Policy config.
	if c, ok := fs["config"]; ok {
		if !isMap(c.v) {
			return pol, pkErr(c.v, "policy configuration is not a map")
		}
		if pol.Config, err = w.typedMap(c.v, "policy config", 0); err != nil {
			return pol, wrapMsg("invalid policy config for policy '"+p.key+"': ", err)
		}
	}
	for _, name := range tapNames {
		for _, t := range taps {
			if t.Name == name && canonicalInput(pol.InputType) != canonicalInput(t.InputType) {
				return pol, pkErrf(it.v, "input_type for policy specified tap '%s' doesn't match tap's defined input type: %s/%s", name, pol.InputType, t.InputType)
			}
		}
	}

	// Modules.
	mps, err := w.modulePairs(mods.v)
	if err != nil {
		return pol, err
	}
	seen := map[string]bool{}
	for _, mp := range mps {
		m, err := w.module(mp, p.key, global, pol.WindowConfig)
		if err != nil {
			return pol, err
		}
		if seen[m.Name] {
			return pol, pkErrf(mp.k, "module name '%s' already exists", m.Name)
		}
		seen[m.Name] = true
		pol.Modules = append(pol.Modules, m)
	}
	return pol, nil
}

// resolveTaps returns the names of the taps the policy's input.tap or
// input.tap_selector selects from taps.
func (pol *Policy) resolveTaps(taps []Tap, tapNode *yaml.Node) ([]string, error) {
	if pol.TapSelector != nil {
		return pol.TapSelector.Select(taps)
	}
	for _, t := range taps {
		if t.Name == pol.Tap {
			return []string{pol.Tap}, nil
		}
	}
	return nil, pkErrf(tapNode, "tap '%s' does not exist", pol.Tap)
}

// modulePairs returns the modules of handlers.modules as name/body pairs.
// A map gives one pair per key. In a sequence each element is a map whose
// first key is the module name, and the module's keys are either nested
// under it (- dns: {type: dns}) or beside it (- dns:\n  type: dns), as
// pktvisor accepts both.
func (w *walker) modulePairs(n *yaml.Node) ([]pair, error) {
	if isMap(n) {
		ps, err := w.pairs(n)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if !isMap(p.v) {
				return nil, pkErr(p.v, "expecting Handler configuration map")
			}
		}
		return ps, nil
	}
	var out []pair
	for _, item := range n.Content {
		item, err := w.resolve(item)
		if err != nil {
			return nil, err
		}
		if !isMap(item) || len(item.Content) == 0 {
			return nil, pkErr(item, "expecting Handler configuration map")
		}
		ps, err := w.pairs(item)
		if err != nil {
			return nil, err
		}
		first := ps[0]
		sibling := false
		for _, q := range ps {
			sibling = sibling || q.key == "type"
		}
		if !sibling {
			if !isMap(first.v) {
				return nil, pkErr(item, "missing or invalid stream handler type at key 'type'")
			}
			if len(ps) > 1 {
				return nil, lineErrf(ps[1].k, "unknown key '%s' beside module '%s'", ps[1].key, first.key)
			}
			out = append(out, first) // nested form
			continue
		}
		if first.key == "type" || !isNull(first.v) {
			return nil, lineErrf(first.k, "module '%s': the first key of a sequence element names the module and must have no value", first.key)
		}
		// Sibling form: the body is the element without its first key.
		body := &yaml.Node{Kind: yaml.MappingNode, Line: item.Line, Column: item.Column, Content: item.Content[2:]}
		out = append(out, pair{key: first.key, k: first.k, v: body})
	}
	return out, nil
}

// module parses one module body.
func (w *walker) module(p pair, policy string, global map[string]map[string]any, window map[string]any) (Module, error) {
	m := Module{Name: p.key, Version: DefaultHandlerVersion, Line: p.k.Line}
	if !isScalar(p.k) {
		return m, pkErr(p.k, "expecting handler module identifier")
	}
	if err := checkName("module", p.k); err != nil {
		return m, err
	}
	fs, err := w.fields(p.v, "module '"+p.key+"'", "type", "require_version", "config", "filter", "metric_groups")
	if err != nil {
		return m, err
	}
	t, ok := fs["type"]
	if !ok || !isScalar(t.v) {
		return m, pkErr(p.v, "missing or invalid stream handler type at key 'type'")
	}
	m.Type = t.v.Value
	if rv, ok := fs["require_version"]; ok {
		if !isScalar(rv.v) {
			return m, pkErr(rv.v, "Invalid stream handler version at key 'require_version'")
		}
		m.Version = rv.v.Value
	}
	versionOK := false
	for _, v := range HandlerVersions() {
		versionOK = versionOK || v == m.Version
	}
	if !versionOK {
		return m, pkErrf(p.k, "Policy '%s' requires stream handler type '%s' and version '%s' which is not available", policy, m.Type, m.Version)
	}

	var filter map[string]any
	if f, ok := fs["filter"]; ok {
		if !isMap(f.v) {
			return m, pkErr(f.v, "stream handler filter configuration is not a map")
		}
		if filter, err = w.typedMap(f.v, "filter", 0); err != nil {
			return m, wrapMsg("invalid stream handler filter config for handler '"+m.Name+"': ", err)
		}
	}
	var config map[string]any
	if c, ok := fs["config"]; ok {
		if !isMap(c.v) {
			return m, pkErr(c.v, "stream handler configuration is not a map")
		}
		if config, err = w.typedMap(c.v, "config", 0); err != nil {
			return m, wrapMsg("invalid stream handler config for handler '"+m.Name+"': ", err)
		}
	}
	if mg, ok := fs["metric_groups"]; ok {
		if !isMap(mg.v) {
			return m, pkErr(mg.v, "stream handler metric groups is not a map")
		}
		gps, err := w.pairs(mg.v)
		if err != nil {
			return m, err
		}
		found := false
		for _, gp := range gps {
			found = found || gp.key == "enable" || gp.key == "disable"
		}
		if !found {
			return m, pkErr(mg.v, "stream handler metric groups should contain enable and/or disable tags")
		}
		gfs, err := w.fields(mg.v, "module '"+m.Name+"' metric_groups", "enable", "disable")
		if err != nil {
			return m, err
		}
		for _, g := range []struct {
			key string
			dst *[]string
		}{{"enable", &m.Enable}, {"disable", &m.Disable}} {
			if gp, ok := gfs[g.key]; ok {
				if *g.dst, err = w.stringList(g.key, gp.v); err != nil {
					return m, wrapMsg("invalid stream handler metrics for handler '"+m.Name+"': ", err)
				}
			}
		}
	}

	m.Config = map[string]any{}
	maps.Copy(m.Config, global[m.Type])
	maps.Copy(m.Config, config)
	maps.Copy(m.Config, filter)
	maps.Copy(m.Config, window)
	if m.Enable != nil {
		m.Config["enable"] = m.Enable
	}
	if m.Disable != nil {
		m.Config["disable"] = m.Disable
	}
	return m, nil
}

// DefaultTapPolicy builds what pktvisord IFACE creates (pktvisor §4.2): a
// pcap tap "default" on iface with host_spec = v.HostSpec, and a policy
// "default" on it with input config bpf = v.BPF, window_config num_periods
// = v.Periods and deep_sample_rate = v.MaxDeepSample, and the modules
// given as {name, type, version} (the handler registry's defaults: net,
// dhcp, dns and pcap_stats of type pcap, all version 1.0). global is the
// agent's global_handler_config (may be nil).
func DefaultTapPolicy(iface string, v Visor, global map[string]map[string]any, modules [][3]string) (Tap, Policy) {
	tap := Tap{Name: "default", InputType: "pcap", Config: map[string]any{"iface": iface, "host_spec": v.HostSpec}}
	pol := Policy{
		Name:        "default",
		Kind:        "collection",
		Tap:         "default",
		InputType:   "pcap",
		InputConfig: map[string]any{"bpf": v.BPF},
	}
	for _, m := range modules {
		cfg := map[string]any{}
		maps.Copy(cfg, global[m[1]])
		pol.Modules = append(pol.Modules, Module{Name: m[0], Type: m[1], Version: m[2], Config: cfg})
	}
	pol.ApplyWindowDefaults(v.Periods, v.MaxDeepSample)
	return tap, pol
}
