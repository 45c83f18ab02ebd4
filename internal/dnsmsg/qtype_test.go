package dnsmsg

import "testing"

func TestQTypeName(t *testing.T) {
	tests := []struct {
		t    uint16
		want string
	}{
		{0, "Reserved (0)"}, {1, "A"}, {2, "NS"}, {5, "CNAME"}, {6, "SOA"},
		{12, "PTR"}, {15, "MX"}, {16, "TXT"}, {28, "AAAA"}, {33, "SRV"},
		{41, "OPT"}, {43, "DS"}, {46, "RRSIG"}, {48, "DNSKEY"}, {54, ""},
		{64, "SVCB"}, {65, "HTTPS"}, {69, ""}, {99, "SPF"}, {251, "IXFR"},
		{252, "AXFR"}, {255, "*"}, {256, "URI"}, {257, "CAA"}, {260, "AMTRELAY"},
		{265, ""}, {32768, "TA"}, {32769, "DLV"}, {65280, ""}, {65535, "Reserved (65535)"},
	}
	for _, tt := range tests {
		if got := QTypeName(tt.t); got != tt.want {
			t.Errorf("QTypeName(%d) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestQTypeFromName(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
		ok   bool
	}{
		{"A", 1, true}, {"aaaa", 28, true}, {"Https", 65, true}, {"nsap-ptr", 23, true},
		{"ANY", 255, true}, {"any", 255, true}, {"*", 255, true}, {"caa", 257, true},
		{"TA", 32768, true}, {"dlv", 32769, true}, {"TYPE123", 123, true},
		{"type65", 65, true}, {"28", 28, true}, {" mx ", 15, true}, {"65535", 65535, true},
		{"65536", 0, false}, {"TYPE", 0, false}, {"TYPE70000", 0, false},
		{"", 0, false}, {"bogus", 0, false}, {"-1", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := QTypeFromName(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("QTypeFromName(%q) = %d %v, want %d %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
	// Every name QTypeName returns parses back to its number.
	for i := 0; i <= 0xffff; i++ {
		if n := QTypeName(uint16(i)); n != "" {
			if got, ok := QTypeFromName(n); !ok || got != uint16(i) {
				t.Errorf("round trip %d %q -> %d %v", i, n, got, ok)
			}
		}
	}
}

func TestRcodeFromName(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
		ok   bool
	}{
		{"NOERROR", 0, true}, {"nxdomain", 3, true}, {"SRVFAIL", 2, true},
		{"servfail", 2, true}, {"Refused", 5, true}, {"badcookie", 23, true},
		{"BADSIG", 16, true}, {"badvers", 16, true}, {"5", 5, true}, {"4095", 4095, true},
		{"4096", 0, false}, {"", 0, false}, {"nodata", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := RcodeFromName(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RcodeFromName(%q) = %d %v, want %d %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
