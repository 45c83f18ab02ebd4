package handler

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/pktvisor-go/pktvisor/internal/event"
)

// Factory builds one handler shard (one per worker of its input).
type Factory func(Options) (Handler, error)

// Info describes a handler type and version: what --module-list prints and
// what a policy is checked against.
type Info struct {
	Type    string // YAML handler type ("net", "dns", ...)
	Version string // "1.0", "2.0"
	Schema  string // JSON key of its object
	// Consumes are the event kinds it takes; a policy may attach it to an
	// input that produces at least one of them (input statistics alone do
	// not count).
	Consumes []event.Kind
	// ConfigKeys are its own config and filter keys (window keys are
	// accepted by every handler).
	ConfigKeys []string
	// Groups are its metric groups, with their defaults.
	Groups []Group
	// Default places it in the policy pktvisord IFACE creates, in the
	// order of DefaultOrder, under the module name DefaultName.
	Default      bool
	DefaultOrder int
	DefaultName  string
	// LeadsChain is set for handlers a chained policy may continue after:
	// they pass downstream only what their filters keep (a handler that
	// implements [ChainFilter]), or everything.
	LeadsChain bool
	New        Factory
}

// ChainFilter is implemented by handlers whose filters a chain applies to
// the DNS messages it passes downstream.
type ChainFilter interface {
	Passes(ev *event.DNS) bool
}

// registry holds every registered handler type (the only package-level
// mutable state: written by init functions, read afterwards).
var registry struct {
	mu    sync.RWMutex
	infos []Info
}

// Register adds a handler type and version. It panics on a duplicate or an
// incomplete Info: registration happens in init functions.
func Register(i Info) {
	if i.Type == "" || i.Version == "" || i.Schema == "" || i.New == nil || len(i.Consumes) == 0 {
		panic(fmt.Sprintf("handler: incomplete registration of %q %q", i.Type, i.Version))
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, o := range registry.infos {
		if o.Type == i.Type && o.Version == i.Version {
			panic(fmt.Sprintf("handler: %s %s registered twice", i.Type, i.Version))
		}
	}
	i.Consumes = slices.Clone(i.Consumes)
	registry.infos = append(registry.infos, i)
}

// Registered returns every handler type, sorted by type then version.
func Registered() []Info {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	out := slices.Clone(registry.infos)
	slices.SortFunc(out, func(a, b Info) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Version, b.Version))
	})
	return out
}

// Lookup returns the handler of type typ and version version.
func Lookup(typ, version string) (Info, bool) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	for _, i := range registry.infos {
		if i.Type == typ && i.Version == version {
			return i, true
		}
	}
	return Info{}, false
}

// Defaults returns the handlers of pktvisord's default policy in order, as
// {module name, type, version}.
func Defaults() [][3]string {
	var ds []Info
	for _, i := range Registered() {
		if i.Default {
			ds = append(ds, i)
		}
	}
	slices.SortStableFunc(ds, func(a, b Info) int { return cmp.Compare(a.DefaultOrder, b.DefaultOrder) })
	out := make([][3]string, len(ds))
	for i, d := range ds {
		name := d.DefaultName
		if name == "" {
			name = d.Type
		}
		out[i] = [3]string{name, d.Type, d.Version}
	}
	return out
}

// Meets reports whether a handler consuming consumes can take events from
// an input producing produces: they share a kind other than input
// statistics, or the handler consumes only input statistics and the input
// produces them.
func Meets(consumes, produces []event.Kind) bool {
	onlyStats := true
	for _, k := range consumes {
		if k != event.KindInputStats {
			onlyStats = false
			if slices.Contains(produces, k) {
				return true
			}
		}
	}
	return onlyStats && slices.Contains(produces, event.KindInputStats)
}

// Attachable returns the kinds of consumes that produces provides: what a
// bus attaches the handler for.
func Attachable(consumes, produces []event.Kind) []event.Kind {
	var out []event.Kind
	for _, k := range consumes {
		if slices.Contains(produces, k) {
			out = append(out, k)
		}
	}
	return out
}
