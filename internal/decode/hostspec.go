package decode

import (
	"fmt"
	"net/netip"
	"strings"
)

// HostSpec is the set of address prefixes that make up "the host" for
// direction: pktvisor's host_spec, a comma-separated list of CIDRs.
// The zero value is empty. A HostSpec is read-only once in use.
type HostSpec struct {
	prefixes []netip.Prefix
}

// ParseHostSpec parses "10.0.0.0/8,2001:db8::/32,192.0.2.1". A bare
// address is taken as a host route (/32 or /128).
func ParseHostSpec(s string) (HostSpec, error) {
	var h HostSpec
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return HostSpec{}, fmt.Errorf("invalid host_spec entry %q: %w", f, err)
			}
			h.Add(netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return HostSpec{}, fmt.Errorf("invalid host_spec entry %q: %w", f, err)
		}
		h.Add(p)
	}
	return h, nil
}

// Add appends a prefix (masked) to the set.
func (h *HostSpec) Add(p netip.Prefix) {
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked()
	for _, q := range h.prefixes {
		if q == p {
			return
		}
	}
	h.prefixes = append(h.prefixes, p)
}

// Empty reports whether no prefix is set.
func (h HostSpec) Empty() bool { return len(h.prefixes) == 0 }

// Prefixes returns the prefixes of the set; callers must not modify it.
func (h HostSpec) Prefixes() []netip.Prefix { return h.prefixes }

// String renders the set as host_spec text.
func (h HostSpec) String() string {
	parts := make([]string, len(h.prefixes))
	for i, p := range h.prefixes {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// Contains reports whether a is inside one of the prefixes.
func (h HostSpec) Contains(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range h.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Direction classifies a packet from its addresses: to the host when the
// destination is in the set, else from the host when the source is, else
// unknown (pktvisor's rule).
func (h HostSpec) Direction(src, dst netip.Addr) Direction {
	if len(h.prefixes) == 0 {
		return DirUnknown
	}
	if h.Contains(dst) {
		return DirToHost
	}
	if h.Contains(src) {
		return DirFromHost
	}
	return DirUnknown
}
