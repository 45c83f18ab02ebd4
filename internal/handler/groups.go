package handler

import (
	"fmt"
	"slices"
	"strings"
)

// Group is a metric group a handler offers.
type Group struct {
	Name    string
	Default bool
}

// Groups is the resolved set of enabled metric groups.
type Groups map[string]bool

// Has reports whether group g is enabled.
func (g Groups) Has(name string) bool { return g[name] }

// None reports whether the handler has groups and all are disabled (it
// then renders nothing, not even its period).
func (g Groups) None(offered []Group) bool {
	if len(offered) == 0 {
		return false
	}
	for _, v := range g {
		if v {
			return false
		}
	}
	return true
}

// ResolveGroups applies pktvisor's rule: defaults first, then the disable
// list, then the enable list; "all" is allowed in either.
func ResolveGroups(offered []Group, enable, disable []string) (Groups, error) {
	g := Groups{}
	names := make([]string, 0, len(offered))
	for _, o := range offered {
		g[o.Name] = o.Default
		names = append(names, o.Name)
	}
	slices.Sort(names)
	apply := func(list []string, on bool) error {
		for _, n := range list {
			if n == "all" {
				for k := range g {
					g[k] = on
				}
				continue
			}
			if _, ok := g[n]; !ok {
				return fmt.Errorf("%s is an invalid/unsupported metric group. The valid groups are: %s", n, strings.Join(append([]string{"all"}, names...), ", "))
			}
			g[n] = on
		}
		return nil
	}
	if err := apply(disable, false); err != nil {
		return nil, err
	}
	if err := apply(enable, true); err != nil {
		return nil, err
	}
	return g, nil
}
