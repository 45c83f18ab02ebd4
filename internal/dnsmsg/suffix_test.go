package dnsmsg

import (
	"strings"
	"testing"
)

func TestSuffixLen(t *testing.T) {
	const list = `// comment
// ===BEGIN ICANN DOMAINS===
com
uk
co.uk
*.ck
!www.ck
jp
*.kobe.jp
!city.kobe.jp
公司.cn
cn
aéroport.ci
// ===END ICANN DOMAINS===
// ===BEGIN PRIVATE DOMAINS===
blogspot.com   trailing text is ignored
*.compute.example.com
// ===END PRIVATE DOMAINS===
`
	s, err := LoadSuffixList(strings.NewReader(list))
	if err != nil {
		t.Fatalf("LoadSuffixList: %v", err)
	}
	if icann, private := s.Len(); icann != 11 || private != 2 {
		t.Errorf("Len %d %d, want 11 2", icann, private)
	}
	tests := []struct {
		name       string
		all, icann string // expected suffix, "" for none
	}{
		{"www.example.com", "com", "com"},
		{"com", "com", "com"},
		{"www.bbc.co.uk", "co.uk", "co.uk"},
		{"co.uk", "co.uk", "co.uk"},
		{"example.org", "", ""},
		{"foo.bar.ck", "bar.ck", "bar.ck"}, // wildcard
		{"bar.ck", "bar.ck", "bar.ck"},     // wildcard matches the name itself
		{"a.www.ck", "ck", "ck"},           // exception
		{"www.ck", "ck", "ck"},             // exception
		{"ck", "", ""},                     // wildcard parent is not listed
		{"x.y.kobe.jp", "y.kobe.jp", "y.kobe.jp"},
		{"x.city.kobe.jp", "kobe.jp", "kobe.jp"},
		{"foo.blogspot.com", "blogspot.com", "com"}, // private
		{"a.b.compute.example.com", "b.compute.example.com", "com"},
		{"shop.xn--55qx5d.cn", "xn--55qx5d.cn", "xn--55qx5d.cn"}, // 公司.cn
		{"x.xn--aroport-bya.ci", "xn--aroport-bya.ci", "xn--aroport-bya.ci"},
		{"www.example.com.", "com.", "com."}, // trailing dot counted
		{"notcom", "", ""},
		{"", "", ""},
		{".", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := s.SuffixLen([]byte(tt.name))
			if got := tt.name[len(tt.name)-n:]; got != tt.all {
				t.Errorf("SuffixLen = %d (%q), want %q", n, got, tt.all)
			}
			n = s.SuffixLenICANN([]byte(tt.name))
			if got := tt.name[len(tt.name)-n:]; got != tt.icann {
				t.Errorf("SuffixLenICANN = %d (%q), want %q", n, got, tt.icann)
			}
		})
	}
}

func TestLoadSuffixListErrors(t *testing.T) {
	for _, in := range []string{"", "// only comments\n", "!\n", "*.\n", "a..b\n", "a.*.b\n"} {
		t.Run(in, func(t *testing.T) {
			if _, err := LoadSuffixList(strings.NewReader(in)); err == nil {
				t.Errorf("no error for %q", in)
			}
		})
	}
}

func TestDefaultSuffixList(t *testing.T) {
	s := DefaultSuffixList()
	icann, private := s.Len()
	// Counted with: grep -v '^//' public_suffix_list.dat | grep -c . split
	// at the PRIVATE DOMAINS marker.
	if icann < 6000 || private < 2000 {
		t.Errorf("Len %d %d, want a full list", icann, private)
	}
	tests := []struct{ name, want string }{
		{"sirius.mwbsys.com", "com"},
		{"www.google.co.uk", "co.uk"},
		{"foo.bar.nom.br", "bar.nom.br"}, // *.nom.br
		{"www.ck", "ck"},                 // !www.ck
		{"a.b.c.kawasaki.jp", "c.kawasaki.jp"},
		{"x.city.kawasaki.jp", "kawasaki.jp"}, // !city.kawasaki.jp
		{"foo.github.io", "github.io"},        // private
		{"www.xn--55qx5d.cn", "xn--55qx5d.cn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := s.SuffixLen([]byte(tt.name))
			if got := tt.name[len(tt.name)-n:]; got != tt.want {
				t.Errorf("SuffixLen = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPunycode(t *testing.T) {
	// RFC 3492 §7.1 samples (lower-cased) and PSL entries.
	tests := []struct{ in, want string }{
		{"公司", "xn--55qx5d"},
		{"aéroport", "xn--aroport-bya"},
		{"bücher", "xn--bcher-kva"},
		{"他们为什么不说中文", "xn--ihqwcrb4cv8a8dqg056pqjye"},
		{"ascii", "ascii"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := punycodeLabel(tt.in)
			if !ok || got != tt.want {
				t.Errorf("punycodeLabel = %q %v, want %q", got, ok, tt.want)
			}
		})
	}
}
