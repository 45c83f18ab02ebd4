package dnsmsg

// RcodeName returns pktvisor's name for a response code ("NOERROR",
// "SRVFAIL", "NXDOMAIN", "REFUSED", ...), or "" when it has none, in which
// case callers render the number.
func RcodeName(rc uint16) string {
	if int(rc) < len(rcodeNames) {
		return rcodeNames[rc]
	}
	return ""
}

// rcodeNames follows pktvisor's spelling (SRVFAIL, not SERVFAIL).
var rcodeNames = [...]string{
	0: "NOERROR", 1: "FORMERR", 2: "SRVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
	5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH",
	10: "NOTZONE", 11: "DSOTYPENI", 16: "BADVERS", 17: "BADKEY", 18: "BADTIME",
	19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE",
}
