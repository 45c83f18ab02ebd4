package dnsmsg

import (
	"strings"
	"testing"
)

// benchMessages returns real payloads: a query and a DNSSEC response
// with OPT, and an ECS query.
func benchMessages(b *testing.B) (query, response, ecs []byte) {
	b.Helper()
	for _, p := range readCaptureFile(b, capturesDir+"/dnssec.pcap") {
		var m Message
		if m.Parse(p.payload, ParseOptions{Records: true}) != nil {
			continue
		}
		if !m.IsResponse() && query == nil {
			query = p.payload
		}
		if m.AnswerRRSIG && response == nil {
			response = p.payload
		}
	}
	for _, p := range readCaptureFile(b, capturesDir+"/ecs.pcap") {
		var m Message
		if m.Parse(p.payload, ParseOptions{Records: true}) == nil && m.HasECS {
			ecs = p.payload
			break
		}
	}
	if query == nil || response == nil || ecs == nil {
		b.Fatal("benchmark messages not found")
	}
	return query, response, ecs
}

func BenchmarkParse(b *testing.B) {
	query, response, ecs := benchMessages(b)
	for _, bb := range []struct {
		name string
		msg  []byte
		opt  ParseOptions
	}{
		{"query/question", query, ParseOptions{}},
		{"query/records", query, ParseOptions{Records: true}},
		{"dnssec-response/question", response, ParseOptions{}},
		{"dnssec-response/records", response, ParseOptions{Records: true}},
		{"ecs-query/records", ecs, ParseOptions{Records: true}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var m Message
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.msg)))
			for b.Loop() {
				if err := m.Parse(bb.msg, bb.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAggregateDomain(b *testing.B) {
	name := []byte("82gdxvz5vp.mmyv7ma0jn.rxst40swe.tcbgtnfa.test.com")
	b.ReportAllocs()
	for b.Loop() {
		q2, q3 := AggregateDomain(name, 0, nil)
		if len(q2) == 0 || len(q3) == 0 {
			b.Fatal("empty aggregate")
		}
	}
}

func BenchmarkSuffixLen(b *testing.B) {
	s := DefaultSuffixList()
	for _, name := range []string{"sirius.mwbsys.com", "a.b.www.google.co.uk", "82gdxvz5vp.mmyv7ma0jn.rxst40swe.tcbgtnfa.test.com"} {
		b.Run(name, func(b *testing.B) {
			n := []byte(name)
			b.ReportAllocs()
			for b.Loop() {
				if s.SuffixLen(n) == 0 {
					b.Fatal("no suffix")
				}
			}
		})
	}
}

func BenchmarkDefaultSuffixList(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		DefaultSuffixList()
	}
}

func BenchmarkQTypeName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if QTypeName(65) == "" {
			b.Fatal("no name")
		}
	}
}

// BenchmarkReadName decodes question names: short labels as in generated
// load, and a mixed-case name with labels longer than 8 bytes.
func BenchmarkReadName(b *testing.B) {
	for _, name := range []string{"h64442.s32.zone0.example", "Mail-Gateway.Corporate-Example.COM"} {
		var wire []byte
		for _, l := range strings.Split(name, ".") {
			wire = append(append(wire, byte(len(l))), l...)
		}
		wire = append(wire, 0, 0, 1, 0, 1) // root, QTYPE A, QCLASS IN
		b.Run(name, func(b *testing.B) {
			var m Message
			b.ReportAllocs()
			for b.Loop() {
				if _, n, ok := m.readName(wire, 0); !ok || n != len(name) {
					b.Fatal("bad name")
				}
			}
		})
	}
}
