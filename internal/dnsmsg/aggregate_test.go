package dnsmsg

import (
	"bytes"
	"testing"
)

func TestAggregateDomain(t *testing.T) {
	const none = "<nil>"
	tests := []struct {
		name   string
		suffix int
		q2, q3 string
	}{
		// dns_udp_mixed_rcode fixture, spec §7.1.
		{"play.google.com", 0, ".google.com", "play.google.com"},
		{"nonexistent.google.com", 0, ".google.com", "nonexistent.google.com"},
		{"google.com", 0, "google.com", none},
		// public_suffix_list: "com" is the suffix (3 bytes).
		{"sirius.mwbsys.com", 3, ".mwbsys.com", "sirius.mwbsys.com"},
		// flamethrower names of the dns_ipv4_* fixtures.
		{"7hsg2a.test.com", 0, ".test.com", "7hsg2a.test.com"},
		{"82gdxvz5vp.mmyv7ma0jn.rxst40swe.tcbgtnfa.test.com", 0, ".test.com", ".tcbgtnfa.test.com"},
		// pktvisor libs/visor_dns/tests cases, without suffix.
		{"biz.foo.bar.com", 0, ".bar.com", ".foo.bar.com"},
		{"a.com", 0, "a.com", none},
		{"abcdefg.com.", 0, "abcdefg.com.", none},
		{"foo.bar.com", 0, ".bar.com", "foo.bar.com"},
		{".", 0, ".", none},
		{"..", 0, "..", none},
		{"a", 0, "a", none},
		{"a.", 0, "a.", none},
		{"foo.bar.com.", 0, ".bar.com.", "foo.bar.com."},
		{".foo.bar.com", 0, ".bar.com", ".foo.bar.com"},
		{"a.b.c", 0, ".b.c", "a.b.c"},
		{".b.c", 0, ".b.c", none},
		// ... with a static suffix (length of ".bar.com", "bar.com", ...).
		{"biz.foo.bar.com", len(".bar.com"), ".foo.bar.com", "biz.foo.bar.com"},
		{"biz.foo.bar.com", len("bar.com"), ".foo.bar.com", "biz.foo.bar.com"},
		{"biz.foo.bar.com", len("foo.bar.com"), "biz.foo.bar.com", none},
		{"foo.bar.com.", len("biz.foo.bar.com"), ".bar.com.", "foo.bar.com."},
		{"www.google.co.uk", len(".co.uk"), ".google.co.uk", "www.google.co.uk"},
		{"www.google.co.uk", len("google.co.uk"), "www.google.co.uk", none},
		// More edges.
		{"", 0, none, none},
		{"com", 0, "com", none},
		{"abcd", 0, "abcd", none},
		{"localhost", 0, "localhost", "localhost"}, // one label, >= 5 bytes
		{"a.b.c.d.e", 0, ".d.e", ".c.d.e"},
		{"x.y.google.co.uk", len("co.uk"), ".google.co.uk", ".y.google.co.uk"},
		{"google.co.uk", len("co.uk"), "google.co.uk", none},
		{"co.uk", len("co.uk"), "co.uk", none}, // suffix == name: ignored
		{"www.google.com", len("oogle.com"), "www.google.com", none},
		{"www.google.com", -1, ".google.com", "www.google.com"},
		{`a\046b.example.com`, 0, ".example.com", `a\046b.example.com`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := []byte(tt.name)
			q2, q3 := AggregateDomain(name, tt.suffix, nil)
			if got := show(q2); got != tt.q2 {
				t.Errorf("qname2 %q, want %q", got, tt.q2)
			}
			if got := show(q3); got != tt.q3 {
				t.Errorf("qname3 %q, want %q", got, tt.q3)
			}
			for _, r := range [][]byte{q2, q3} {
				if len(r) > 0 && !bytes.HasSuffix(name, r) {
					t.Errorf("%q is not a suffix of the name", r)
				}
			}
		})
	}
}

func show(b []byte) string {
	if b == nil {
		return "<nil>"
	}
	return string(b)
}

func TestAggregateDomainWithSuffixList(t *testing.T) {
	psl := DefaultSuffixList()
	tests := []struct {
		name   string
		q2, q3 string
	}{
		{"sirius.mwbsys.com", ".mwbsys.com", "sirius.mwbsys.com"},
		{"www.google.co.uk", ".google.co.uk", "www.google.co.uk"},
		{"a.b.google.co.uk", ".google.co.uk", ".b.google.co.uk"},
		{"bbc.co.uk", "bbc.co.uk", "<nil>"},
		{"x.y.blogspot.com", ".y.blogspot.com", "x.y.blogspot.com"}, // private rule
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := []byte(tt.name)
			q2, q3 := AggregateDomain(name, psl.SuffixLen(name), nil)
			if show(q2) != tt.q2 || show(q3) != tt.q3 {
				t.Errorf("got %q %q, want %q %q", show(q2), show(q3), tt.q2, tt.q3)
			}
		})
	}
}
