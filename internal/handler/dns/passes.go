package dns

import "github.com/pktvisor-go/pktvisor/internal/event"

// Passes reports whether ev passes this handler's filters, without
// counting anything: a chained handler downstream of this one sees only
// the messages that pass (pktvisor's handler chaining). It implements
// handler.ChainFilter.
func (h *V1) Passes(ev *event.DNS) bool {
	if h.f.none() {
		return true
	}
	keep, _ := h.f.pass(ev.Msg)
	return keep
}
