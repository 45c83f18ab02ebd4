package dnsmsg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// msg builds a DNS message: a header followed by raw section bytes.
func msg(tb testing.TB, id, flags, qd, an, ns, ar uint16, body ...[]byte) []byte {
	tb.Helper()
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b[0:], id)
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], qd)
	binary.BigEndian.PutUint16(b[6:], an)
	binary.BigEndian.PutUint16(b[8:], ns)
	binary.BigEndian.PutUint16(b[10:], ar)
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

// wname encodes a dotted name in uncompressed wire form.
func wname(s string) []byte {
	var b []byte
	if s != "" {
		for _, l := range strings.Split(s, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

// u16 returns big-endian bytes of each value.
func u16(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint16(b, x)
	}
	return b
}

// rr encodes a resource record with an already encoded owner name.
func rr(name []byte, typ, class uint16, ttl uint32, rdata []byte) []byte {
	b := append([]byte{}, name...)
	b = append(b, u16(typ, class)...)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = append(b, u16(uint16(len(rdata)))...)
	return append(b, rdata...)
}

// opt encodes an OPT pseudo-record with the given options.
func opt(udp uint16, extRcode uint8, options ...[]byte) []byte {
	var rd []byte
	for _, o := range options {
		rd = append(rd, o...)
	}
	return rr([]byte{0}, TypeOPT, udp, uint32(extRcode)<<24, rd)
}

// ecsOpt encodes an EDNS Client Subnet option (RFC 7871 §6).
func ecsOpt(family uint16, source, scope uint8, addr ...byte) []byte {
	b := u16(optionECS, uint16(4+len(addr)), family)
	b = append(b, source, scope)
	return append(b, addr...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestParse(t *testing.T) {
	qExample := cat(wname("www.Example.COM"), u16(1, 1))
	// Response: question www.example.com at 12, answer owner = pointer to
	// 12, answer CNAME target "cdn" + pointer to "example.com" at 16.
	respCNAME := msg(t, 0xbeef, 0x8180, 1, 2, 0, 0,
		qExample,
		rr([]byte{0xc0, 12}, 5, 1, 300, cat([]byte{3, 'c', 'd', 'n', 0xc0, 16})),
		rr([]byte{0xc0, 12}, 46, 1, 300, make([]byte, 20)),
	)
	tests := []struct {
		name    string
		b       []byte
		records bool
		err     error
		check   func(t *testing.T, m *Message)
	}{
		{
			name: "query",
			b:    msg(t, 0x1234, 0x0100, 1, 0, 0, 0, qExample),
			check: func(t *testing.T, m *Message) {
				want := Message{ID: 0x1234, Flags: 0x0100, QDCount: 1, HasQuestion: true, QType: 1, QClass: 1}
				assertHeader(t, m, &want)
				assertName(t, m, "www.example.com")
				if m.IsResponse() || m.Opcode() != 0 || m.Rcode() != 0 {
					t.Errorf("IsResponse %v Opcode %d Rcode %d", m.IsResponse(), m.Opcode(), m.Rcode())
				}
			},
		},
		{
			name: "response with compressed answers and rrsig",
			b:    respCNAME, records: true,
			check: func(t *testing.T, m *Message) {
				want := Message{ID: 0xbeef, Flags: 0x8180, QDCount: 1, ANCount: 2, HasQuestion: true, QType: 1, QClass: 1, AnswerRRSIG: true}
				assertHeader(t, m, &want)
				assertName(t, m, "www.example.com")
			},
		},
		{
			name: "rrsig only counted in answer section",
			b: msg(t, 1, 0x8000, 1, 0, 1, 1, qExample,
				rr([]byte{0}, TypeRRSIG, 1, 0, nil), rr([]byte{0}, TypeRRSIG, 1, 0, nil)),
			records: true,
			check: func(t *testing.T, m *Message) {
				if m.AnswerRRSIG || m.HasOPT {
					t.Errorf("AnswerRRSIG %v HasOPT %v, want false", m.AnswerRRSIG, m.HasOPT)
				}
			},
		},
		{
			name: "records not walked without option",
			b:    respCNAME,
			check: func(t *testing.T, m *Message) {
				if m.AnswerRRSIG {
					t.Error("AnswerRRSIG set without Records")
				}
			},
		},
		{
			name: "question name is a pointer to an earlier answer-less name",
			// Two questions; the second (not rendered) points at the first.
			b:       msg(t, 1, 0, 2, 0, 0, 0, qExample, []byte{0xc0, 12}, u16(28, 1)),
			records: true,
			check: func(t *testing.T, m *Message) {
				assertName(t, m, "www.example.com")
				if m.QType != 1 {
					t.Errorf("QType %d, want the first question's 1", m.QType)
				}
			},
		},
		{
			name: "root name",
			b:    msg(t, 1, 0, 1, 0, 0, 0, []byte{0}, u16(2, 1)),
			check: func(t *testing.T, m *Message) {
				assertName(t, m, "")
				if !m.HasQuestion || m.QType != 2 {
					t.Errorf("HasQuestion %v QType %d", m.HasQuestion, m.QType)
				}
			},
		},
		{
			name: "escaping of odd bytes",
			b: msg(t, 1, 0, 1, 0, 0, 0,
				[]byte{7, 'a', '.', 'b', '\\', ' ', 0x00, 0xff, 3, 'C', '~', 0x7f, 0}, u16(16, 1)),
			check: func(t *testing.T, m *Message) {
				assertName(t, m, `a\046b\092\032\000\255.c~\127`)
			},
		},
		{
			name: "63-byte label accepted",
			b:    msg(t, 1, 0, 1, 0, 0, 0, wname(strings.Repeat("a", 63)+".com"), u16(1, 1)),
			check: func(t *testing.T, m *Message) {
				assertName(t, m, strings.Repeat("a", 63)+".com")
			},
		},
		{
			name: "255-byte wire name accepted",
			b:    msg(t, 1, 0, 1, 0, 0, 0, wname(name255()), u16(1, 1)),
			check: func(t *testing.T, m *Message) {
				assertName(t, m, name255())
			},
		},
		{
			name: "256-byte wire name rejected",
			b:    msg(t, 1, 0, 1, 0, 0, 0, wname(name255()+"a"), u16(1, 1)),
			err:  ErrName,
		},
		{
			name: "64-byte label length is a reserved label type",
			b:    msg(t, 1, 0, 1, 0, 0, 0, []byte{64}, []byte(strings.Repeat("a", 64)), []byte{0}, u16(1, 1)),
			err:  ErrName,
		},
		{
			name: "0x80 label type",
			b:    msg(t, 1, 0, 1, 0, 0, 0, []byte{0x80, 0}, u16(1, 1)),
			err:  ErrName,
		},
		{
			name: "self pointer",
			b:    msg(t, 1, 0, 1, 0, 0, 0, []byte{0xc0, 12}, u16(1, 1)),
			err:  ErrName,
		},
		{
			name: "forward pointer",
			b:    msg(t, 1, 0, 1, 0, 0, 0, []byte{0xc0, 14}, wname("com"), u16(1, 1)),
			err:  ErrName,
		},
		{
			name: "pointer loop through a label",
			// 12: "a", 14: pointer to 12 -> a.a.a... must be rejected.
			b:   msg(t, 1, 0, 1, 0, 0, 0, []byte{1, 'a', 0xc0, 12}, u16(1, 1)),
			err: ErrName,
		},
		{
			name: "pointer into header",
			// Pointer to offset 4: QDCOUNT 0x0001 reads as label len 0, root.
			b: msg(t, 1, 0, 1, 0, 0, 0, []byte{0xc0, 5}, u16(1, 1)),
			check: func(t *testing.T, m *Message) {
				// Offset 5 is the low byte of QDCOUNT (1): label of length 1
				// holding ANCOUNT's high byte 0, then 0 (root).
				assertName(t, m, `\000`)
			},
		},
		{
			name: "truncated pointer",
			b:    msg(t, 1, 0, 1, 0, 0, 0, []byte{0xc0}),
			err:  ErrName,
		},
		{
			name: "missing qtype",
			b:    msg(t, 1, 0, 1, 0, 0, 0, wname("a.b"), []byte{0, 1, 0}),
			err:  ErrQuestion,
			check: func(t *testing.T, m *Message) {
				if m.HasQuestion || m.QDCount != 1 {
					t.Errorf("HasQuestion %v QDCount %d", m.HasQuestion, m.QDCount)
				}
			},
		},
		{
			name: "short header",
			b:    make([]byte, 11),
			err:  ErrShort,
		},
		{
			name: "no question keeps header and reads opt",
			b:    msg(t, 7, 0x8183, 0, 0, 0, 1, opt(1232, 0)),
			err:  ErrNoQuestion, records: true,
			check: func(t *testing.T, m *Message) {
				want := Message{ID: 7, Flags: 0x8183, ARCount: 1, HasOPT: true, UDPSize: 1232}
				assertHeader(t, m, &want)
			},
		},
		{
			name: "opt extended rcode",
			// BADCOOKIE = 23 = ext 1 << 4 | header 7.
			b:       msg(t, 1, 0x8007, 1, 0, 0, 1, qExample, opt(4096, 1)),
			records: true,
			check: func(t *testing.T, m *Message) {
				if !m.HasOPT || m.ExtRcode != 1 || m.UDPSize != 4096 || m.Rcode() != 7 {
					t.Errorf("HasOPT %v ExtRcode %d UDPSize %d Rcode %d", m.HasOPT, m.ExtRcode, m.UDPSize, m.Rcode())
				}
				if rc := uint16(m.ExtRcode)<<4 | uint16(m.Rcode()); RcodeName(rc) != "BADCOOKIE" {
					t.Errorf("full rcode %d = %q", rc, RcodeName(rc))
				}
			},
		},
		{
			name:    "ecs ipv4 /24",
			b:       msg(t, 1, 0, 1, 0, 0, 1, qExample, opt(512, 0, ecsOpt(1, 24, 0, 192, 0, 2))),
			records: true,
			check:   wantECS("192.0.2.0", 24),
		},
		{
			name: "ecs ipv4 /21 masks stray bits",
			// 10.1.255 with /21 -> 10.1.248.0
			b:       msg(t, 1, 0, 1, 0, 0, 1, qExample, opt(512, 0, ecsOpt(1, 21, 0, 10, 1, 255))),
			records: true,
			check:   wantECS("10.1.248.0", 21),
		},
		{
			name:    "ecs ipv4 /0",
			b:       msg(t, 1, 0, 1, 0, 0, 1, qExample, opt(512, 0, ecsOpt(1, 0, 0))),
			records: true,
			check:   wantECS("0.0.0.0", 0),
		},
		{
			name: "ecs ipv6 /57 after another option",
			b: msg(t, 1, 0, 1, 0, 0, 1, qExample, opt(512, 0,
				cat(u16(10, 8), []byte("cookie!!")), // COOKIE option first
				ecsOpt(2, 57, 0, 0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xbb, 0xcc, 0xff))),
			records: true,
			check:   wantECS("2001:db8:aabb:cc80::", 57),
		},
		{
			name:    "ecs ipv4 address too long",
			b:       msg(t, 1, 0, 1, 0, 0, 1, qExample, opt(512, 0, ecsOpt(1, 32, 0, 1, 2, 3, 4, 5))),
			records: true, err: ErrRecord,
			check: func(t *testing.T, m *Message) {
				if !m.HasOPT || m.HasECS {
					t.Errorf("HasOPT %v HasECS %v, want true false", m.HasOPT, m.HasECS)
				}
			},
		},
		{
			name:    "ecs prefix beyond family",
			b:       msg(t, 1, 0, 1, 0, 0, 1, qExample, opt(512, 0, ecsOpt(1, 33, 0, 1, 2, 3, 4))),
			records: true, err: ErrRecord,
		},
		{
			name:    "ecs unknown family ignored",
			b:       msg(t, 1, 0, 1, 0, 0, 1, qExample, opt(512, 0, ecsOpt(3, 8, 0, 1))),
			records: true,
			check: func(t *testing.T, m *Message) {
				if !m.HasOPT || m.HasECS {
					t.Errorf("HasOPT %v HasECS %v", m.HasOPT, m.HasECS)
				}
			},
		},
		{
			name:    "option length past rdata",
			b:       msg(t, 1, 0, 1, 0, 0, 1, qExample, rr([]byte{0}, TypeOPT, 512, 0, u16(8, 10, 1))),
			records: true, err: ErrRecord,
		},
		{
			name: "rdlength past end keeps earlier records",
			b: msg(t, 1, 0x8000, 1, 2, 0, 0, qExample,
				rr([]byte{0xc0, 12}, TypeRRSIG, 1, 0, nil),
				rr([]byte{0xc0, 12}, 1, 1, 0, []byte{1, 2, 3, 4})[:14]),
			records: true, err: ErrRecord,
			check: func(t *testing.T, m *Message) {
				if !m.HasQuestion || !m.AnswerRRSIG {
					t.Errorf("HasQuestion %v AnswerRRSIG %v", m.HasQuestion, m.AnswerRRSIG)
				}
			},
		},
		{
			name:    "counts beyond data",
			b:       msg(t, 1, 0x8000, 1, 5, 0, 0, qExample),
			records: true, err: ErrRecord,
		},
		{
			name:    "bad pointer in answer owner",
			b:       msg(t, 1, 0x8000, 1, 1, 0, 0, qExample, rr([]byte{0xc0, 200}, 1, 1, 0, nil)),
			records: true, err: ErrRecord,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			// Dirty the message first: Parse must reset it.
			_ = m.Parse(respCNAME, ParseOptions{Records: true})
			err := m.Parse(tt.b, ParseOptions{Records: tt.records})
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("Parse error %v, want %v", err, tt.err)
			}
			if tt.check != nil {
				tt.check(t, &m)
			}
		})
	}
}

// name255 is a name whose wire form is exactly 255 bytes.
func name255() string {
	l := strings.Repeat("b", 63)
	// 3*(1+63) + (1+61) + 1 = 255
	return l + "." + l + "." + l + "." + strings.Repeat("c", 61)
}

func assertHeader(tb testing.TB, got, want *Message) {
	tb.Helper()
	g, w := *got, *want
	g.name, w.name = [MaxNameLen]byte{}, [MaxNameLen]byte{}
	g.nameLen, w.nameLen = 0, 0
	if g != w {
		tb.Errorf("message\n got %+v\nwant %+v", g, w)
	}
}

func assertName(tb testing.TB, m *Message, want string) {
	tb.Helper()
	if got := string(m.QName()); got != want {
		tb.Errorf("QName %q, want %q", got, want)
	}
}

func wantECS(addr string, bits uint8) func(t *testing.T, m *Message) {
	return func(t *testing.T, m *Message) {
		t.Helper()
		if !m.HasOPT || !m.HasECS || m.ECS != netip.MustParseAddr(addr) || m.ECSSourcePrefix != bits {
			t.Errorf("HasOPT %v HasECS %v ECS %v/%d, want %s/%d", m.HasOPT, m.HasECS, m.ECS, m.ECSSourcePrefix, addr, bits)
		}
	}
}

// TestParseTruncated cuts a full response at every length: Parse must
// never panic, must return ErrShort below 12 bytes, and must report the
// question exactly when its last byte is present.
func TestParseTruncated(t *testing.T) {
	full := msg(t, 1, 0x8180, 1, 1, 0, 1,
		wname("a.example.org"), u16(1, 1),
		rr([]byte{0xc0, 12}, TypeRRSIG, 1, 60, []byte{1, 2, 3}),
		opt(1232, 0, ecsOpt(1, 24, 0, 198, 51, 100)))
	qEnd := 12 + len(wname("a.example.org")) + 4
	var m Message
	for n := 0; n <= len(full); n++ {
		err := m.Parse(full[:n], ParseOptions{Records: true})
		switch {
		case n < 12:
			if !errors.Is(err, ErrShort) {
				t.Errorf("len %d: error %v, want ErrShort", n, err)
			}
		case n < qEnd-4:
			if !errors.Is(err, ErrName) || m.HasQuestion {
				t.Errorf("len %d: error %v HasQuestion %v, want ErrName", n, err, m.HasQuestion)
			}
		case n < qEnd:
			if !errors.Is(err, ErrQuestion) || m.HasQuestion {
				t.Errorf("len %d: error %v HasQuestion %v, want ErrQuestion", n, err, m.HasQuestion)
			}
		case n < len(full):
			if !errors.Is(err, ErrRecord) || !m.HasQuestion {
				t.Errorf("len %d: error %v HasQuestion %v, want ErrRecord", n, err, m.HasQuestion)
			}
		default:
			if err != nil || !m.HasECS || !m.AnswerRRSIG {
				t.Errorf("full: error %v HasECS %v AnswerRRSIG %v", err, m.HasECS, m.AnswerRRSIG)
			}
		}
		if n >= 12 && (m.ID != 1 || m.Flags != 0x8180 || m.ARCount != 1) {
			t.Errorf("len %d: header not kept: %+v", n, m)
		}
	}
}

// TestAppendLabel checks the label copy's fast path against the escaping
// copy for every byte value at several positions of labels of every
// length, with the label at various distances from the end of the message
// and of the name buffer.
func TestAppendLabel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var fast, ref Message
	check := func(rest []byte, l, n int) {
		t.Helper()
		got := fast.appendLabel(n, rest[:l])
		want := ref.appendLabelEscaped(n, rest[:l])
		if got != want || !bytes.Equal(fast.name[n:got], ref.name[n:want]) {
			t.Fatalf("label %q (l=%d, rest %d, n=%d): got %q, want %q", rest[:l], l, len(rest), n,
				fast.name[n:got], ref.name[n:want])
		}
	}
	const letters = "abcxyzABCXYZ019-_*"
	for l := 1; l <= 63; l++ {
		for c := 0; c < 256; c++ {
			for _, pos := range []int{0, l / 2, l - 1} {
				label := make([]byte, l, l+9)
				for i := range label {
					label[i] = letters[rng.IntN(len(letters))]
				}
				label[pos] = byte(c)
				for _, tail := range []int{0, 3, 9} {
					rest := append(label[:l:l], make([]byte, tail)...)
					check(rest, l, rng.IntN(40))
				}
			}
		}
	}
	// Near the end of the name buffer.
	for n := MaxNameLen - 70; n <= MaxNameLen-63; n++ {
		check([]byte(strings.Repeat("Ab", 40)), 63, n)
	}
}
