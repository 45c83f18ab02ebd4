package dnsmsg

// Parse decodes b into m (see the package comment). It resets m first.
// On error the header fields read so far stay set.
func (m *Message) Parse(b []byte, opt ParseOptions) error { panic("unimplemented") }

// QTypeName returns the IANA mnemonic of a type ("A", "AAAA", "HTTPS",
// "DNSKEY", ...), or "" when it has none, in which case callers render the
// number.
func QTypeName(t uint16) string { panic("unimplemented") }

// AggregateDomain returns pktvisor's qname2 and qname3 for name (presentation
// form without trailing dot, as from [Message.QName]): qname2 = the last two
// labels with a leading dot (".bar.com"), qname3 = the last three
// (".foo.bar.com"), or name itself when it has exactly that many labels;
// names shorter than 5 bytes come back unchanged as qname2 and qname3 is nil.
// staticSuffixLen > 0 is the length of a known public suffix at the end of
// name (from only_qname_suffix or the public suffix list): labels are then
// counted before it. Both results alias name or buf (len(buf) >= len(name)+1).
func AggregateDomain(name []byte, staticSuffixLen int, buf []byte) (qname2, qname3 []byte) {
	panic("unimplemented")
}
