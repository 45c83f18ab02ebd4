package dnsmsg

import (
	"bufio"
	"bytes"
	_ "embed" // for the built-in public suffix list
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Rule flags of a SuffixList entry; the private-section flags are the
// ICANN ones shifted left by privateShift.
const (
	ruleNormal    uint8 = 1 << 0 // "x.y" is a public suffix
	ruleWildcard  uint8 = 1 << 1 // "*.x.y": every child of x.y is one
	ruleException uint8 = 1 << 2 // "!x.y": x.y is not one, y is
	privateShift        = 3
	maskICANN           = ruleNormal | ruleWildcard | ruleException
	maskAll             = maskICANN | maskICANN<<privateShift
)

// SuffixList is a parsed public suffix list (https://publicsuffix.org/list/)
// answering "how long is the public suffix at the end of this name". It is
// immutable after loading and safe for concurrent use.
type SuffixList struct {
	rules   map[string]uint8
	icann   int
	private int
}

//go:embed public_suffix_list.dat
var defaultSuffixList string

// DefaultSuffixList parses the copy of the Mozilla Public Suffix List
// embedded in the binary (the snapshot pktvisor's tests use). Each call
// parses the 240 kB list again: about 10k map entries and a few
// milliseconds, so call it once at configuration time and share the result.
func DefaultSuffixList() *SuffixList {
	s, err := LoadSuffixList(strings.NewReader(defaultSuffixList))
	if err != nil {
		// The embedded file is tested; failing here is a build defect.
		panic(fmt.Sprintf("dnsmsg: embedded public suffix list: %v", err))
	}
	return s
}

// LoadSuffixList parses r in the PSL format: one rule per line, read up to
// the first whitespace; lines starting with "//" are comments; "*.x" makes
// every child of x a suffix; "!x.y" is an exception ("y" is the suffix, not
// "x.y"). Rules between "===BEGIN PRIVATE DOMAINS===" and its END marker
// are private, all others ICANN; [SuffixList.SuffixLen] uses both and
// [SuffixList.SuffixLenICANN] only ICANN. Rules are lower-cased and
// internationalised labels are converted to their ASCII "xn--" form (RFC
// 3492 Punycode, without further IDNA mapping) so they match names from
// the wire. It returns an error when reading fails, a rule is malformed,
// or the list holds no rule.
func LoadSuffixList(r io.Reader) (*SuffixList, error) {
	s := &SuffixList{rules: make(map[string]uint8, 10000)}
	sc := bufio.NewScanner(r)
	private := false
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "//") {
			switch {
			case strings.Contains(text, "===BEGIN PRIVATE DOMAINS==="):
				private = true
			case strings.Contains(text, "===END PRIVATE DOMAINS==="):
				private = false
			}
			continue
		}
		if text == "" {
			continue
		}
		if i := strings.IndexAny(text, " \t"); i >= 0 {
			text = text[:i]
		}
		flag := ruleNormal
		switch {
		case strings.HasPrefix(text, "!"):
			flag, text = ruleException, text[1:]
		case strings.HasPrefix(text, "*."):
			flag, text = ruleWildcard, text[2:]
		}
		key, ok := suffixKey(text)
		if !ok {
			return nil, fmt.Errorf("parse public suffix list line %d %q: invalid rule", line, sc.Text())
		}
		if private {
			flag <<= privateShift
			s.private++
		} else {
			s.icann++
		}
		s.rules[key] |= flag
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read public suffix list: %w", err)
	}
	if len(s.rules) == 0 {
		return nil, fmt.Errorf("parse public suffix list: no rules")
	}
	return s, nil
}

// Len returns the number of rules loaded from the ICANN and the private
// sections.
func (s *SuffixList) Len() (icann, private int) { return s.icann, s.private }

// SuffixLen returns the length in bytes of the longest public suffix (ICANN
// or private rule) at the end of name, or 0 when no rule matches (there is
// no implicit "*" rule). name is a lower-case presentation name as from
// [Message.QName]; a trailing dot is ignored for matching and counted in
// the result, so name[len(name)-n:] is the suffix as it appears in name.
// A name that is itself a public suffix returns len(name). Exception rules
// win over all others (RFC-less PSL algorithm, publicsuffix.org/list).
// SuffixLen does not allocate and is safe for concurrent use.
func (s *SuffixList) SuffixLen(name []byte) int { return s.suffixLen(name, maskAll) }

// SuffixLenICANN is [SuffixList.SuffixLen] restricted to the ICANN section,
// which is what pktvisor's built-in list holds: with it "x.cloudfront.net"
// aggregates under "net", not under the private suffix "cloudfront.net".
func (s *SuffixList) SuffixLenICANN(name []byte) int { return s.suffixLen(name, maskICANN) }

func (s *SuffixList) suffixLen(name []byte, mask uint8) int {
	trail := 0
	if len(name) > 0 && name[len(name)-1] == '.' {
		name, trail = name[:len(name)-1], 1
	}
	if len(name) == 0 || s == nil {
		return 0
	}
	best := 0
	prev := -1 // start of the candidate one label longer than name[start:]
	start := 0
	for {
		f := s.rules[string(name[start:])] & mask
		f = (f | f>>privateShift) & maskICANN
		if f&ruleException != 0 {
			// The suffix is the exception minus its leftmost label.
			i := bytes.IndexByte(name[start:], '.')
			if i < 0 {
				return 0
			}
			return len(name) - (start + i + 1) + trail
		}
		if f&ruleNormal != 0 {
			best = max(best, len(name)-start)
		}
		if f&ruleWildcard != 0 && prev >= 0 {
			best = max(best, len(name)-prev)
		}
		i := bytes.IndexByte(name[start:], '.')
		if i < 0 {
			break
		}
		prev, start = start, start+i+1
	}
	if best == 0 {
		return 0
	}
	return best + trail
}

// suffixKey turns a rule (without "!" or "*.") into its map key: lower
// case, each non-ASCII label as "xn--" Punycode.
func suffixKey(rule string) (string, bool) {
	rule = strings.TrimSuffix(rule, ".")
	if rule == "" || strings.HasPrefix(rule, ".") || strings.Contains(rule, "..") || strings.ContainsAny(rule, "*!") {
		return "", false
	}
	rule = strings.ToLower(rule)
	ascii := true
	for i := 0; i < len(rule); i++ {
		if rule[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return rule, true
	}
	labels := strings.Split(rule, ".")
	for i, l := range labels {
		enc, ok := punycodeLabel(l)
		if !ok {
			return "", false
		}
		labels[i] = enc
	}
	return strings.Join(labels, "."), true
}

// Punycode parameters (RFC 3492 §5).
const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
)

// punycodeLabel returns an ASCII label unchanged and any other as
// "xn--" + its RFC 3492 §6.3 encoding.
func punycodeLabel(label string) (string, bool) {
	if !utf8.ValidString(label) {
		return "", false
	}
	runes := []rune(label)
	var out []byte
	for _, r := range runes {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
		}
	}
	basic := len(out)
	if basic == len(runes) {
		return label, true
	}
	if basic > 0 {
		out = append(out, '-')
	}
	n, delta, bias := rune(pcInitialN), 0, pcInitialBias
	for h := basic; h < len(runes); {
		m := rune(utf8.MaxRune + 1)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := k - bias
				t = min(max(t, pcTMin), pcTMax)
				if q < t {
					break
				}
				out = append(out, punycodeDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out = append(out, punycodeDigit(q))
			bias = punycodeAdapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return "xn--" + string(out), true
}

func punycodeDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

// punycodeAdapt is the bias adaptation function of RFC 3492 §6.1.
func punycodeAdapt(delta, points int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
