package dnsmsg

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// seedPayloads returns up to max DNS payloads from the capture copies.
func seedPayloads(tb testing.TB, max int) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(capturesDir, "*"))
	if err != nil {
		tb.Fatalf("glob captures: %v", err)
	}
	var out [][]byte
	for _, g := range []string{"dns_udp_mixed_rcode", "dnssec", "ecs", "tcpdump__edns-opts", "zeek__dns-edns-ecs", "ndpi__dns-tunnel-iodine", "tcpdump__dns-badlabel", "zeek__dns_extended_rcode", "ndpi__malformed_dns"} {
		for _, f := range files {
			base := filepath.Base(f)
			if base != g+".pcap" {
				continue
			}
			for i, p := range readCaptureFile(tb, f) {
				if i%4 == 0 && len(out) < max {
					out = append(out, p.payload)
				}
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("no seed payloads")
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, p := range seedPayloads(f, 200) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m, m2 Message
		err := m.Parse(b, ParseOptions{Records: true})
		err2 := m2.Parse(b, ParseOptions{})
		if len(b) < 12 {
			if !errors.Is(err, ErrShort) {
				t.Fatalf("len %d: error %v", len(b), err)
			}
			return
		}
		// The question does not depend on Records.
		if m.HasQuestion != m2.HasQuestion || !bytes.Equal(m.QName(), m2.QName()) || m.QType != m2.QType {
			t.Fatalf("Records changed the question: %q vs %q", m.QName(), m2.QName())
		}
		if m.HasQuestion && err != nil && !errors.Is(err, ErrRecord) {
			t.Fatalf("HasQuestion with error %v", err)
		}
		if !m.HasQuestion && err == nil {
			t.Fatal("no question and no error")
		}
		if m2.HasQuestion && err2 != nil {
			t.Fatalf("header+question parse: HasQuestion with error %v", err2)
		}
		name := m.QName()
		if len(name) > MaxNameLen {
			t.Fatalf("name length %d", len(name))
		}
		for _, c := range name {
			if c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z') {
				t.Fatalf("unescaped byte %#x in %q", c, name)
			}
		}
		if m.HasECS && (!m.HasOPT || (m.ECS.Is4() && m.ECSSourcePrefix > 32) || m.ECSSourcePrefix > 128) {
			t.Fatalf("ECS %v/%d HasOPT %v", m.ECS, m.ECSSourcePrefix, m.HasOPT)
		}
		q2, q3 := AggregateDomain(name, 0, nil)
		if !bytes.HasSuffix(name, q2) || !bytes.HasSuffix(name, q3) {
			t.Fatalf("aggregates %q %q not suffixes of %q", q2, q3, name)
		}
	})
}

func FuzzAggregateDomain(f *testing.F) {
	for _, s := range []string{"play.google.com", "82gdxvz5vp.mmyv7ma0jn.rxst40swe.tcbgtnfa.test.com", "a.b.c", ".", "..", "foo.bar.com.", "www.google.co.uk", "localhost", ""} {
		f.Add(s, 0)
		f.Add(s, 5)
	}
	psl := DefaultSuffixList()
	f.Fuzz(func(t *testing.T, s string, suffix int) {
		name := []byte(s)
		q2, q3 := AggregateDomain(name, suffix, nil)
		if len(name) == 0 {
			if q2 != nil || q3 != nil {
				t.Fatalf("empty name gave %q %q", q2, q3)
			}
			return
		}
		if !bytes.HasSuffix(name, q2) || !bytes.HasSuffix(name, q3) || len(q2) == 0 {
			t.Fatalf("%q: aggregates %q %q", s, q2, q3)
		}
		if q3 != nil && len(q3) < len(q2) {
			t.Fatalf("%q: qname3 %q shorter than qname2 %q", s, q3, q2)
		}
		n := psl.SuffixLen(name)
		if n < 0 || n > len(name) {
			t.Fatalf("%q: SuffixLen %d", s, n)
		}
		if n > 0 && n < len(name) && name[len(name)-n-1] != '.' {
			t.Fatalf("%q: suffix of %d bytes not at a label boundary", s, n)
		}
	})
}
