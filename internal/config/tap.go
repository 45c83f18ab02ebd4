package config

import (
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pktvisor-go/pktvisor/internal/input"
)

// Tap is a named, reusable input configuration (visor.taps.<name>).
type Tap struct {
	Name      string
	InputType string         // pcap, dnstap, flow, sflow, netprobe or mock
	Config    map[string]any // typed; nil when absent
	Tags      map[string]any // typed scalars (uint64, bool, string); nil when absent
	// Filter is the tap-level filter map. pktvisor ignores it (spec §9.13);
	// we keep it so the policy layer can use it under the policy's
	// input.filter. nil when absent.
	Filter map[string]any
	Line   int // line of the tap's name
}

// InputTypes are the input_type names of pktvisor's configuration grammar
// (sflow is its alias of flow). A tap may name one of them or a type the
// input registry holds; whether the type can run is the input registry's
// answer when the tap is used.
func InputTypes() []string { return []string{"pcap", "dnstap", "flow", "sflow", "netprobe", "mock"} }

func knownInput(t string) bool {
	if slices.Contains(InputTypes(), t) {
		return true
	}
	_, ok := input.Lookup(t)
	return ok
}

// canonicalInput maps the alias sflow to flow.
func canonicalInput(t string) string {
	if t == "sflow" {
		return "flow"
	}
	return t
}

// nameRE is the name pattern of pktvisor's REST routes; taps, policies and
// modules with other names could not be addressed.
var nameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_-]*$`)

// checkName validates a tap, policy or module name.
func checkName(kind string, n *yaml.Node) error {
	if !nameRE.MatchString(n.Value) {
		return lineErrf(n, "invalid %s name '%s': must match [a-zA-Z_][a-zA-Z0-9_-]*", kind, n.Value)
	}
	return nil
}

// taps parses visor.taps (mapping n).
func (w *walker) taps(n *yaml.Node) ([]Tap, error) {
	ps, err := w.pairs(n)
	if err != nil {
		return nil, err
	}
	var out []Tap
	seen := map[string]bool{}
	for _, p := range ps {
		if !isScalar(p.k) {
			return nil, pkErr(p.k, "expecting tap identifier")
		}
		if !isMap(p.v) {
			return nil, pkErr(p.v, "expecting tap configuration map")
		}
		fs, err := w.fields(p.v, "tap '"+p.key+"'", "input_type", "config", "tags", "filter")
		if err != nil {
			return nil, err
		}
		it, ok := fs["input_type"]
		if !ok || !isScalar(it.v) {
			return nil, pkErr(p.v, "missing or invalid tap type key 'input_type'")
		}
		if !knownInput(it.v.Value) {
			return nil, pkErrf(it.v, "Tap '%s' requires input stream type '%s' which is not available", p.key, it.v.Value)
		}
		t := Tap{Name: p.key, InputType: it.v.Value, Line: p.k.Line}
		if c, ok := fs["config"]; ok {
			if !isMap(c.v) {
				return nil, pkErr(c.v, "tap configuration is not a map")
			}
			if t.Config, err = w.typedMap(c.v, "tap '"+p.key+"' config", 0); err != nil {
				return nil, err
			}
		}
		if c, ok := fs["filter"]; ok {
			if !isMap(c.v) {
				return nil, lineErrf(c.v, "tap '%s' filter: want a map, got %s", p.key, describe(c.v))
			}
			if t.Filter, err = w.typedMap(c.v, "tap '"+p.key+"' filter", 0); err != nil {
				return nil, err
			}
		}
		if c, ok := fs["tags"]; ok {
			if !isMap(c.v) {
				return nil, pkErr(c.v, "tap tags is not a map")
			}
			tps, err := w.pairs(c.v)
			if err != nil {
				return nil, err
			}
			t.Tags = make(map[string]any, len(tps))
			for _, tp := range tps {
				if !isScalar(tp.v) {
					return nil, pkErrf(tp.v, "tag key '%s' must have scalar value", tp.key)
				}
				if _, dup := t.Tags[tp.key]; dup {
					return nil, lineErrf(tp.k, "duplicate key '%s' in tap '%s' tags", tp.key, p.key)
				}
				t.Tags[tp.key] = ScalarType(tp.v.Value)
			}
		}
		// pktvisor checks the input type before the name is registered.
		if seen[p.key] {
			return nil, pkErrf(p.k, "module name '%s' already exists", p.key)
		}
		if err := checkName("tap", p.k); err != nil {
			return nil, err
		}
		seen[p.key] = true
		out = append(out, t)
	}
	return out, nil
}

// Selector is a policy's input.tap_selector: tag matches combined with any
// (at least one matches) or all (every one matches).
type Selector struct {
	Mode string // "any" or "all"
	Tags []TagMatch
}

// TagMatch is one element of a selector: a tag key and a typed value
// (uint64, bool or string, see [ScalarType]).
type TagMatch struct {
	Key   string
	Value any
}

// Match reports whether a tap with the given name and typed tags matches
// s, with pktvisor's semantics: elements are tried in order; in all mode a
// missing key or a different value fails at once; in any mode missing keys
// are skipped and one equal value suffices. A tag whose type differs from
// the selector value's type (bool tag, uint64 selector) is the error
// "Tap [<tap>]: tag and selector value types are different for key '<k>'",
// unless an earlier element already decided an all match.
func (s *Selector) Match(tap string, tags map[string]any) (bool, error) {
	all := s.Mode == "all"
	matched := false
	for _, m := range s.Tags {
		tv, ok := tags[m.Key]
		if !ok {
			if all {
				return false, nil
			}
			continue
		}
		if !sameType(tv, m.Value) {
			return false, &Error{Msg: "Tap [" + tap + "]: tag and selector value types are different for key '" + m.Key + "'"}
		}
		if tv == m.Value {
			matched = true
		} else if all {
			return false, nil
		}
	}
	return matched, nil
}

func sameType(a, b any) bool {
	switch a.(type) {
	case uint64:
		_, ok := b.(uint64)
		return ok
	case bool:
		_, ok := b.(bool)
		return ok
	case string:
		_, ok := b.(string)
		return ok
	}
	return false
}

// Select returns the names of the taps s matches, trying taps in name
// order as pktvisor does. No match is an error wrapping [ErrNoTapMatch].
func (s *Selector) Select(taps []Tap) ([]string, error) {
	sorted := slices.Clone(taps)
	slices.SortFunc(sorted, func(a, b Tap) int { return strings.Compare(a.Name, b.Name) })
	var names []string
	for _, t := range sorted {
		ok, err := s.Match(t.Name, t.Tags)
		if err != nil {
			return nil, err
		}
		if ok {
			names = append(names, t.Name)
		}
	}
	if len(names) == 0 {
		return nil, &Error{Msg: ErrNoTapMatch.Error(), Err: ErrNoTapMatch}
	}
	return names, nil
}

// selector parses input.tap_selector (node n).
func (w *walker) selector(n *yaml.Node) (*Selector, error) {
	if !isMap(n) {
		return nil, pkErr(n, "'input.tap_selector' is not a map")
	}
	fs, err := w.fields(n, "input.tap_selector", "any", "all")
	if err != nil {
		return nil, err
	}
	anyP, hasAny := fs["any"]
	allP, hasAll := fs["all"]
	switch {
	case hasAny && hasAll:
		return nil, pkErr(n, "input can have only key 'input.tap_selector.all' or key 'input.tap_selector.any'")
	case !hasAny && !hasAll:
		return nil, pkErr(n, "missing key 'input.tap_selector.all' or key 'input.tap_selector.any'")
	}
	s := &Selector{Mode: "all"}
	seq := allP.v
	if hasAny {
		s.Mode, seq = "any", anyP.v
	}
	if !isSeq(seq) {
		return nil, pkErrf(seq, "'input.tap_selector.%s' is not a sequence", s.Mode)
	}
	for _, item := range seq.Content {
		item, err := w.resolve(item)
		if err != nil {
			return nil, err
		}
		if !isMap(item) || len(item.Content) != 2 {
			return nil, pkErr(item, "selector tag must contain only one key/value pair per sequence index")
		}
		ps, err := w.pairs(item)
		if err != nil {
			return nil, err
		}
		if !isScalar(ps[0].v) {
			return nil, pkErrf(ps[0].v, "tag key '%s' must have scalar value", ps[0].key)
		}
		s.Tags = append(s.Tags, TagMatch{Key: ps[0].key, Value: ScalarType(ps[0].v.Value)})
	}
	return s, nil
}
