package dns

import "github.com/pktvisor-go/pktvisor/internal/dnsmsg"

// Passes reports whether m passes this handler's filters, without counting
// anything: a chained handler downstream of this one sees only the
// messages that pass (pktvisor's handler chaining).
func (h *V1) Passes(m *dnsmsg.Message) bool {
	if h.f.none() {
		return true
	}
	keep, _ := h.f.pass(m)
	return keep
}
