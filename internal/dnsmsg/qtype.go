package dnsmsg

import (
	"strconv"
	"strings"
)

// QTypeName returns the label pktvisor uses for a type: the IANA mnemonic
// from the DNS parameters registry ("A", "AAAA", "HTTPS", "DNSKEY", "CAA",
// "TA", "DLV", ...), with pktvisor's spellings for the odd ones: "*" for 255
// (QTYPE ANY, RFC 1035 §3.2.3), "Reserved (0)" and "Reserved (65535)". It
// returns "" for unassigned and private-use types, in which case callers
// render the number. Types assigned after pktvisor's table (DSYNC, HHIT,
// BRID, NXNAME, RESINFO, WALLET, CLA, IPN) get their IANA mnemonics.
func QTypeName(t uint16) string {
	switch {
	case int(t) < len(qtypeNames):
		return qtypeNames[t]
	case t == 32768:
		return "TA"
	case t == 32769:
		return "DLV"
	case t == 65535:
		return "Reserved (65535)"
	}
	return ""
}

// qtypeNames is indexed by type; gaps are unassigned.
var qtypeNames = [...]string{
	0: "Reserved (0)", 1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA",
	7: "MB", 8: "MG", 9: "MR", 10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO",
	14: "MINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25",
	20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR", 24: "SIG", 25: "KEY",
	26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT", 31: "EID",
	32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT",
	38: "A6", 39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS",
	44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
	49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA",
	55: "HIP", 56: "NINFO", 57: "RKEY", 58: "TALINK", 59: "CDS",
	60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB",
	65: "HTTPS", 66: "DSYNC", 67: "HHIT", 68: "BRID",
	99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC",
	104: "NID", 105: "L32", 106: "L64", 107: "LP", 108: "EUI48", 109: "EUI64",
	128: "NXNAME",
	249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB",
	254: "MAILA", 255: "*", 256: "URI", 257: "CAA", 258: "AVC", 259: "DOA",
	260: "AMTRELAY", 261: "RESINFO", 262: "WALLET", 263: "CLA", 264: "IPN",
}

// QTypeFromName parses a type as written in configuration (only_qtype):
// a mnemonic of [QTypeName] in any case, "ANY" for 255, the RFC 3597 §5
// form "TYPE123", or a plain decimal number 0-65535. It reports false for
// anything else. It is meant for configuration, not the packet path.
func QTypeFromName(s string) (uint16, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if v, err := strconv.ParseUint(s, 10, 16); err == nil {
		return uint16(v), true
	}
	if len(s) > 4 && strings.EqualFold(s[:4], "TYPE") {
		if v, err := strconv.ParseUint(s[4:], 10, 16); err == nil {
			return uint16(v), true
		}
	}
	if strings.EqualFold(s, "ANY") {
		return 255, true
	}
	for t, name := range qtypeNames {
		if name != "" && strings.EqualFold(s, name) {
			return uint16(t), true
		}
	}
	for _, t := range [...]uint16{32768, 32769, 65535} {
		if strings.EqualFold(s, QTypeName(t)) {
			return t, true
		}
	}
	return 0, false
}

// RcodeFromName parses a response code as written in configuration
// (only_rcode): a name of [RcodeName] in any case, the aliases "SERVFAIL"
// (2, RFC 1035 spelling) and "BADSIG" (16, RFC 8945), or a plain decimal
// number 0-4095 (the 12-bit extended rcode space of RFC 6891 §6.1.3). It
// reports false for anything else.
func RcodeFromName(s string) (uint16, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if v, err := strconv.ParseUint(s, 10, 16); err == nil {
		if v > 0xfff {
			return 0, false
		}
		return uint16(v), true
	}
	switch {
	case strings.EqualFold(s, "SERVFAIL"):
		return RcodeServFail, true
	case strings.EqualFold(s, "BADSIG"):
		return 16, true
	}
	for rc, name := range rcodeNames {
		if name != "" && strings.EqualFold(s, name) {
			return uint16(rc), true
		}
	}
	return 0, false
}
