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
	v4       []v4Net // the IPv4 prefixes as masks, for a fast Contains
	v6       []v6Net
}

type v4Net struct{ addr, mask uint32 }
type v6Net struct{ hi, lo, mhi, mlo uint64 }

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
	if a := p.Addr(); a.Is4In6() {
		// ::ffff:a.b.c.d/n is the IPv4 prefix a.b.c.d/(n-96).
		p = netip.PrefixFrom(a.Unmap(), max(p.Bits()-96, 0))
	}
	p = p.Masked()
	if !p.IsValid() {
		return
	}
	for _, q := range h.prefixes {
		if q == p {
			return
		}
	}
	h.prefixes = append(h.prefixes, p)
	a, bits := p.Addr(), p.Bits()
	if a.Is4() {
		var mask uint32
		if bits > 0 {
			mask = ^uint32(0) << (32 - bits)
		}
		h.v4 = append(h.v4, v4Net{beUint32(a.As4()), mask})
		return
	}
	hi, lo := be128(a.As16())
	var mhi, mlo uint64
	switch {
	case bits >= 64:
		mhi = ^uint64(0)
		if bits > 64 {
			mlo = ^uint64(0) << (128 - bits)
		}
	case bits > 0:
		mhi = ^uint64(0) << (64 - bits)
	}
	h.v6 = append(h.v6, v6Net{hi, lo, mhi, mlo})
}

func beUint32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func be128(b [16]byte) (hi, lo uint64) {
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return hi, lo
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

// Contains reports whether a is inside one of the prefixes. IPv4-mapped
// IPv6 addresses match IPv4 prefixes.
func (h *HostSpec) Contains(a netip.Addr) bool {
	if a.Is4() || a.Is4In6() {
		v := beUint32(a.Unmap().As4())
		for _, n := range h.v4 {
			if v&n.mask == n.addr {
				return true
			}
		}
		return false
	}
	if !a.IsValid() || len(h.v6) == 0 {
		return false
	}
	hi, lo := be128(a.As16())
	for _, n := range h.v6 {
		if hi&n.mhi == n.hi && lo&n.mlo == n.lo {
			return true
		}
	}
	return false
}

// direction4 is Direction for IPv4 addresses given as big-endian words.
func (h *HostSpec) direction4(src, dst uint32) Direction {
	for _, n := range h.v4 {
		if dst&n.mask == n.addr {
			return DirToHost
		}
	}
	for _, n := range h.v4 {
		if src&n.mask == n.addr {
			return DirFromHost
		}
	}
	return DirUnknown
}

// Direction classifies a packet from its addresses: to the host when the
// destination is in the set, else from the host when the source is, else
// unknown (pktvisor's rule).
func (h *HostSpec) Direction(src, dst netip.Addr) Direction {
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
