package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	// maxAliasNodes bounds the nodes that aliases add to a document when
	// they are expanded: aliases nested inside aliases ("billion laughs")
	// let a few kilobytes stand for billions of nodes, and the parsers build
	// one value per expanded node. [checkExpansion] enforces it before any
	// value is built; reusing a config map a few hundred times stays far
	// below it.
	maxAliasNodes = 1 << 16
	// maxVisits bounds the node visits of one parse, a second line of
	// defence behind maxAliasNodes.
	maxVisits = 1 << 20
	// maxDepth bounds the nesting of free-form maps.
	maxDepth = 64
)

var digitsRE = regexp.MustCompile(`^[0-9]+$`)

// ScalarType types one YAML scalar the way pktvisor does, looking only at
// its text (quoting does not matter: "1" and 1 are both uint64 1):
// digits only → uint64, "true"/"false" in any case → bool, anything else →
// the string itself. Digits that overflow uint64 stay a string.
func ScalarType(s string) any {
	if digitsRE.MatchString(s) {
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u
		}
		return s
	}
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	}
	return s
}

// pair is one key/value of a YAML mapping, aliases resolved.
type pair struct {
	key string
	k   *yaml.Node
	v   *yaml.Node
}

// walker carries the per-parse visit budget. It is not safe for concurrent
// use; each parse makes its own.
type walker struct {
	visits int
}

// resolve follows an alias to its anchored node and charges one visit.
func (w *walker) resolve(n *yaml.Node) (*yaml.Node, error) {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 8 {
			return nil, lineErrf(n, "alias chain too long")
		}
		n = n.Alias
	}
	w.visits++
	if w.visits > maxVisits {
		return nil, lineErrf(n, "document too large (more than %d nodes after alias expansion)", maxVisits)
	}
	return n, nil
}

// checkExpansion returns an error if expanding the aliases of doc would
// add more than [maxAliasNodes] nodes, or if an alias refers to a node
// that contains it. It costs one visit per node of doc: the expanded size
// of each anchored node is computed once.
func checkExpansion(doc *yaml.Node) error {
	e := expansion{sizes: map[*yaml.Node]int{}}
	own := e.own(doc)
	e.limit = own + maxAliasNodes
	total, err := e.size(doc)
	if err != nil {
		return err
	}
	if total > e.limit {
		return &Error{Msg: fmt.Sprintf("aliases expand the document by more than %d nodes", maxAliasNodes)}
	}
	return nil
}

// expansion is the state of [checkExpansion].
type expansion struct {
	limit int                // expanded sizes are capped at limit+1
	sizes map[*yaml.Node]int // expanded size per anchored node; -1 while it is being sized
}

// own returns the nodes of the tree under n, an alias counting as one.
func (e *expansion) own(n *yaml.Node) int {
	c := 1
	if n.Kind != yaml.AliasNode {
		for _, child := range n.Content {
			c += e.own(child)
		}
	}
	return c
}

// size returns the nodes n stands for with its aliases expanded, at most
// e.limit+1.
func (e *expansion) size(n *yaml.Node) (int, error) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 1, nil
		}
		target := n.Alias
		s, ok := e.sizes[target]
		if s < 0 {
			return 0, lineErrf(n, "alias *%s refers to a node that contains it", n.Value)
		}
		if ok {
			return s, nil
		}
		return e.size(target)
	}
	anchored := n.Anchor != ""
	if anchored {
		if s, ok := e.sizes[n]; ok {
			if s < 0 {
				return 0, lineErrf(n, "anchor &%s contains an alias of itself", n.Anchor)
			}
			return s, nil
		}
		e.sizes[n] = -1
	}
	total := 1
	for _, child := range n.Content {
		s, err := e.size(child)
		if err != nil {
			return 0, err
		}
		if total += s; total > e.limit {
			total = e.limit + 1
			break
		}
	}
	if anchored {
		e.sizes[n] = total
	}
	return total, nil
}

// isNull reports whether n is absent or a YAML null (empty, ~ or null).
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// isScalar reports whether n is a scalar that is not null, as yaml-cpp's
// IsScalar does.
func isScalar(n *yaml.Node) bool { return n != nil && n.Kind == yaml.ScalarNode && !isNull(n) }

func isMap(n *yaml.Node) bool { return n != nil && n.Kind == yaml.MappingNode }
func isSeq(n *yaml.Node) bool { return n != nil && n.Kind == yaml.SequenceNode }

// pairs returns the entries of mapping n in document order, aliases
// resolved. Keys must be scalars; merge keys ("<<") are rejected because
// pktvisor's YAML library does not support them.
func (w *walker) pairs(n *yaml.Node) ([]pair, error) {
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := w.resolve(n.Content[i])
		if err != nil {
			return nil, err
		}
		v, err := w.resolve(n.Content[i+1])
		if err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			return nil, lineErrf(k, "map keys must be scalars")
		}
		if k.ShortTag() == "!!merge" {
			return nil, lineErrf(k, "merge keys ('<<') are not supported")
		}
		out = append(out, pair{key: k.Value, k: k, v: v})
	}
	return out, nil
}

// fields returns the entries of schema mapping n by key. Keys not in known
// and repeated keys are errors naming where (e.g. "visor.config").
func (w *walker) fields(n *yaml.Node, where string, known ...string) (map[string]pair, error) {
	ps, err := w.pairs(n)
	if err != nil {
		return nil, err
	}
	out := make(map[string]pair, len(ps))
	for _, p := range ps {
		if _, dup := out[p.key]; dup {
			return nil, lineErrf(p.k, "duplicate key '%s' in %s", p.key, where)
		}
		ok := false
		for _, k := range known {
			if p.key == k {
				ok = true
				break
			}
		}
		if !ok {
			return nil, lineErrf(p.k, "unknown key '%s' in %s (known keys: %s)", p.key, where, strings.Join(known, ", "))
		}
		out[p.key] = p
	}
	return out, nil
}

// typedMap converts mapping n into pktvisor's typed config map. Errors use
// pktvisor's ConfigException texts ("invalid value for key: K", "invalid
// value for sequence in key: K"); the caller adds pktvisor's prefix.
func (w *walker) typedMap(n *yaml.Node, where string, depth int) (map[string]any, error) {
	if depth > maxDepth {
		if i := strings.IndexByte(where, '.'); i > 0 {
			where = where[:i]
		}
		return nil, lineErrf(n, "%s nested deeper than %d levels", where, maxDepth)
	}
	ps, err := w.pairs(n)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(ps))
	for _, p := range ps {
		if _, dup := out[p.key]; dup {
			return nil, lineErrf(p.k, "duplicate key '%s' in %s", p.key, where)
		}
		v, err := w.typedValue(p.key, p.v, where, depth)
		if err != nil {
			return nil, err
		}
		out[p.key] = v
	}
	return out, nil
}

// typedValue converts the value of key in a free-form map.
func (w *walker) typedValue(key string, v *yaml.Node, where string, depth int) (any, error) {
	switch {
	case isScalar(v):
		return ScalarType(v.Value), nil
	case isMap(v):
		return w.typedMap(v, where+"."+key, depth+1)
	case isSeq(v):
		list := make([]string, 0, len(v.Content))
		for _, item := range v.Content {
			item, err := w.resolve(item)
			if err != nil {
				return nil, err
			}
			if !isScalar(item) {
				return nil, pkErrf(item, "invalid value for sequence in key: %s", key)
			}
			list = append(list, item.Value)
		}
		return list, nil
	default:
		return nil, pkErrf(v, "invalid value for key: %s", key)
	}
}

// stringList converts a sequence of scalars (metric group names).
func (w *walker) stringList(key string, v *yaml.Node) ([]string, error) {
	if !isSeq(v) {
		return nil, pkErrf(v, "wrong type for key: %s", key)
	}
	x, err := w.typedValue(key, v, key, 0)
	if err != nil {
		return nil, err
	}
	return x.([]string), nil
}

// describe renders a node for error messages.
func describe(n *yaml.Node) string {
	switch {
	case n == nil || isNull(n):
		return "null"
	case n.Kind == yaml.MappingNode:
		return "a map"
	case n.Kind == yaml.SequenceNode:
		return "a sequence"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}
