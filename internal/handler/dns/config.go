package dns

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

// configKeys are the dns v1 filters and configs, in pktvisor's order; the
// window keys (deep_sample_rate, num_periods, ...) are added by
// [handler.Options.CheckKeys].
var configKeys = []string{
	"exclude_noerror", "only_rcode", "only_queries", "only_responses", "only_dnssec_response",
	"answer_count", "only_qtype", "only_qname", "only_qname_suffix", "geoloc_notfound",
	"asn_notfound", "dnstap_msg_type", "public_suffix_list", "recorded_stream",
	"xact_ttl_ms", "xact_ttl_secs",
}

// dnstapMsgTypes are the accepted dnstap_msg_type values; each keeps the
// query and the response message type of that role (dnstap.proto).
var dnstapMsgTypes = []string{"auth", "client", "forwarder", "resolver", "stub", "tool", "update"}

// DefaultXactTTLNanos is how long a query waits for its reply (pktvisor's
// 5 s default, config xact_ttl_ms or xact_ttl_secs).
const DefaultXactTTLNanos = int64(5e9)

// filters is the parsed filter configuration. Every list is lower-cased
// and built once, so matching on the packet path does not allocate.
type filters struct {
	excludeNoError bool
	onlyRcode      []uint8 // header rcodes (0..15) to keep; nil = all
	onlyQueries    bool
	onlyResponses  bool
	onlyDNSSEC     bool
	answerCount    int // ANCOUNT to keep; -1 = any
	onlyQType      []uint16
	onlyQName      [][]byte
	onlyQNameSufx  [][]byte
	dnstapMsgType  string // validated, applies to dnstap input only
	psl            *dnsmsg.SuffixList
	xactTTL        int64 // nanoseconds
}

// ErrConfig is wrapped by every filter or config value error of [NewV1]
// (unknown keys and metric groups give pktvisor's own messages instead).
var ErrConfig = errors.New("dns handler config")

func configErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...)
}

// parseFilters validates o's filters and configs (pktvisor §2.3).
func parseFilters(o *handler.Options) (filters, error) {
	f := filters{answerCount: -1, xactTTL: DefaultXactTTLNanos}
	var err error
	boolKey := func(key string, dst *bool) {
		if err != nil {
			return
		}
		*dst, err = o.Bool(key, false)
	}
	boolKey("exclude_noerror", &f.excludeNoError)
	boolKey("only_queries", &f.onlyQueries)
	boolKey("only_responses", &f.onlyResponses)
	boolKey("only_dnssec_response", &f.onlyDNSSEC)
	var geo, asn, psl bool
	boolKey("geoloc_notfound", &geo)
	boolKey("asn_notfound", &asn)
	boolKey("public_suffix_list", &psl)
	if err != nil {
		return f, configErr("%w", err)
	}
	if geo {
		return f, configErr("geoloc_notfound needs GeoIP/ASN databases, which this build does not load yet")
	}
	if asn {
		return f, configErr("asn_notfound needs GeoIP/ASN databases, which this build does not load yet")
	}
	if f.onlyQueries && f.onlyResponses {
		return f, configErr("only_queries and only_responses exclude each other: nothing would pass")
	}

	if o.Has("only_rcode") {
		l, err := o.StringList("only_rcode")
		if err != nil {
			return f, configErr("%w", err)
		}
		if len(l) == 0 {
			return f, configErr("only_rcode: empty list")
		}
		for _, s := range l {
			rc, ok := dnsmsg.RcodeFromName(s)
			if !ok {
				return f, configErr("only_rcode: invalid/unsupported rcode %q", s)
			}
			if rc > 15 {
				return f, configErr("only_rcode: %q is an extended rcode; only header rcodes 0-15 can be matched", s)
			}
			if !slices.Contains(f.onlyRcode, uint8(rc)) {
				f.onlyRcode = append(f.onlyRcode, uint8(rc))
			}
		}
	}

	if o.Has("answer_count") {
		n, err := o.Uint("answer_count", 0)
		if err != nil {
			return f, configErr("%w", err)
		}
		if n > 0xffff {
			return f, configErr("answer_count: %d is larger than 65535", n)
		}
		f.answerCount = int(n)
	}

	if o.Has("only_qtype") {
		l, err := o.StringList("only_qtype")
		if err != nil {
			return f, configErr("%w", err)
		}
		if len(l) == 0 {
			return f, configErr("only_qtype: empty list")
		}
		for _, s := range l {
			t, ok := dnsmsg.QTypeFromName(s)
			if !ok {
				return f, configErr("only_qtype: invalid/unsupported qtype %q", s)
			}
			if !slices.Contains(f.onlyQType, t) {
				f.onlyQType = append(f.onlyQType, t)
			}
		}
	}

	if f.onlyQName, err = nameList(o, "only_qname"); err != nil {
		return f, err
	}
	if f.onlyQNameSufx, err = nameList(o, "only_qname_suffix"); err != nil {
		return f, err
	}

	if o.Has("dnstap_msg_type") {
		s, err := o.String("dnstap_msg_type", "")
		if err != nil {
			return f, configErr("%w", err)
		}
		s = strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(dnstapMsgTypes, s) {
			return f, configErr("dnstap_msg_type contained an invalid/unsupported type %q. Valid types: %s",
				s, strings.Join(dnstapMsgTypes, ", "))
		}
		f.dnstapMsgType = s
	}

	// The suffix list is used for aggregation only, and only when
	// only_qname_suffix does not already give the suffix (pktvisor's rule).
	if psl && len(f.onlyQNameSufx) == 0 {
		f.psl = dnsmsg.DefaultSuffixList()
	}

	// xact_ttl_ms wins over xact_ttl_secs when both are set (as in the
	// dhcp handler).
	switch {
	case o.Has("xact_ttl_ms"):
		n, err := o.Uint("xact_ttl_ms", 0)
		if err != nil {
			return f, configErr("%w", err)
		}
		f.xactTTL = int64(n) * 1e6
	case o.Has("xact_ttl_secs"):
		n, err := o.Uint("xact_ttl_secs", 0)
		if err != nil {
			return f, configErr("%w", err)
		}
		f.xactTTL = int64(n) * 1e9
	}
	if f.xactTTL <= 0 || f.xactTTL > 3600e9 {
		return f, configErr("transaction TTL must be between 1 ms and 1 hour")
	}
	return f, nil
}

// nameList reads a list of domain names, lower-cased and without a
// trailing dot (as [dnsmsg.Message.QName] gives them).
func nameList(o *handler.Options, key string) ([][]byte, error) {
	if !o.Has(key) {
		return nil, nil
	}
	l, err := o.StringList(key)
	if err != nil {
		return nil, configErr("%w", err)
	}
	if len(l) == 0 {
		return nil, configErr("%s: empty list", key)
	}
	out := make([][]byte, 0, len(l))
	for _, s := range l {
		s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
		if s == "" {
			return nil, configErr("%s: empty name", key)
		}
		if len(s) > dnsmsg.MaxNameLen {
			return nil, configErr("%s: name longer than %d bytes", key, dnsmsg.MaxNameLen)
		}
		out = append(out, []byte(s))
	}
	return out, nil
}

// none reports whether no filter is configured, so every message passes
// [filters.pass] with suffix 0.
func (f *filters) none() bool {
	return !f.excludeNoError && f.onlyRcode == nil && !f.onlyQueries && !f.onlyResponses &&
		!f.onlyDNSSEC && f.answerCount < 0 && f.onlyQType == nil && f.onlyQName == nil &&
		f.onlyQNameSufx == nil && f.psl == nil
}

// pass reports whether m passes the filters and, when it does, the static
// suffix length to aggregate qnames with (0 for none). It is the packet
// path: no allocation.
func (f *filters) pass(m *dnsmsg.Message) (keep bool, suffix int) {
	resp := m.IsResponse()
	if f.excludeNoError && m.Rcode() == dnsmsg.RcodeNoError {
		// pktvisor tests the header rcode of every message, so queries
		// (rcode 0) are excluded too.
		return false, 0
	}
	if f.answerCount >= 0 && int(m.ANCount) != f.answerCount {
		return false, 0
	}
	if f.onlyQueries && resp {
		return false, 0
	}
	if f.onlyResponses && !resp {
		return false, 0
	}
	if f.onlyDNSSEC && (!resp || m.ANCount == 0 || !m.AnswerRRSIG) {
		return false, 0
	}
	if f.onlyRcode != nil && (!resp || !slices.Contains(f.onlyRcode, m.Rcode())) {
		// Queries never match (pktvisor maps them to rcode 255).
		return false, 0
	}
	if f.onlyQType != nil && (!m.HasQuestion || !slices.Contains(f.onlyQType, m.QType)) {
		return false, 0
	}
	name := m.QName()
	if f.onlyQName != nil {
		if !m.HasQuestion || !containsName(f.onlyQName, name) {
			return false, 0
		}
	}
	if f.onlyQNameSufx != nil {
		if !m.HasQuestion {
			return false, 0
		}
		found := false
		for _, s := range f.onlyQNameSufx {
			if bytes.HasSuffix(name, s) {
				suffix, found = len(s), true
				break
			}
		}
		if !found {
			return false, 0
		}
	}
	if f.psl != nil && m.HasQuestion {
		suffix = f.psl.SuffixLenICANN(name)
	}
	return true, suffix
}

func containsName(list [][]byte, name []byte) bool {
	for _, n := range list {
		if bytes.Equal(n, name) {
			return true
		}
	}
	return false
}
