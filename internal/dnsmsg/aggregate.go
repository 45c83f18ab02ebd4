package dnsmsg

import "bytes"

// AggregateDomain returns pktvisor's qname2 and qname3 for name, the
// presentation form from [Message.QName] (a trailing dot is tolerated).
// Results are sub-slices of name and carry its leading dot, so ".bar.com"
// comes back for "foo.bar.com" without copying; nil means "no such
// aggregate" (pktvisor's empty string, which its top-N lists skip). The
// rules, in order:
//
//  1. An empty name (the root) gives nil, nil.
//  2. A name shorter than 5 bytes gives qname2 = name and no qname3.
//  3. The search end is the last byte of name; with a trailing dot the byte
//     before it; with 0 < staticSuffixLen < len(name) the first byte of the
//     suffix (so a suffix given with or without its leading dot, "co.uk"
//     or ".co.uk", behaves the same, and the trailing-dot rule is skipped).
//  4. d1 = the last '.' at or before the search end. If there is none, or
//     it is the first byte, qname2 = qname3 = name (one-label names such as
//     "localhost" are their own qname3).
//  5. d2 = the last '.' before d1. If there is none, qname2 = name and
//     there is no qname3 ("google.com", or "www.google.co.uk" with the
//     suffix "google.co.uk").
//  6. Otherwise qname2 = name[d2:] (".google.com", ".google.co.uk" with
//     suffix "co.uk"). d3 = the last '.' before d2: qname3 = name[d3:] if
//     there is one (".foo.bar.com"), else name itself ("play.google.com").
//
// staticSuffixLen is the byte length of a known suffix at the end of name:
// an only_qname_suffix entry it ends with, or [SuffixList.SuffixLen]. Labels
// are then counted before it. Values <= 0 or >= len(name) are ignored.
// buf is not used (results always alias name) and may be nil; it is kept
// so callers may pass scratch space should the rendering ever need it.
// AggregateDomain does not allocate.
func AggregateDomain(name []byte, staticSuffixLen int, buf []byte) (qname2, qname3 []byte) {
	n := len(name)
	if n == 0 {
		return nil, nil
	}
	if n < 5 {
		return name, nil
	}
	end := n - 1
	if staticSuffixLen > 0 && staticSuffixLen < n {
		end = n - staticSuffixLen
	} else if name[n-1] == '.' {
		end = n - 2
	}
	d1 := bytes.LastIndexByte(name[:end+1], '.')
	if d1 <= 0 {
		return name, name
	}
	d2 := bytes.LastIndexByte(name[:d1], '.')
	if d2 < 0 {
		return name, nil
	}
	d3 := bytes.LastIndexByte(name[:d2], '.')
	if d3 < 0 {
		return name[d2:], name
	}
	return name[d2:], name[d3:]
}
