// Package dns is the "dns" stream handler. Version 1.0 ([V1]) renders
// pktvisor's "dns" schema: per-period counters of DNS messages, rates,
// qname cardinality, query/reply transactions with their timing, and top-N
// lists of qnames, ports, rcodes and qtypes (README.md lists every metric,
// filter and config, and where this handler differs from pktvisor).
//
// # The one mistake
//
// A [V1] sees DNS messages, not packets: the pipeline decides what is DNS
// (UDP or TCP on ports 53, 5353, 5355 or 53000), cuts TCP streams into
// messages and parses them, and gives each message to [V1.DNS] once. The
// records sections are parsed only when [V1.WantsDNSRecords] says so;
// without them only_dnssec_response and the ECS metrics see nothing.
package dns

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"

	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/metric"
	"github.com/pktvisor-go/pktvisor/internal/window"
)

// Type is the YAML handler type; Schema the JSON key of its object.
const (
	Type   = "dns"
	Schema = "dns"
)

// Metric group names (spec §2, summary table).
const (
	GroupCardinality      = "cardinality"
	GroupCounters         = "counters"
	GroupTransactions     = "dns_transaction"
	GroupHistograms       = "histograms"
	GroupQuantiles        = "quantiles"
	GroupTopECS           = "top_ecs"
	GroupTopPorts         = "top_ports"
	GroupTopQnames        = "top_qnames"
	GroupTopQnamesDetails = "top_qnames_details"
)

var groups = []handler.Group{
	{Name: GroupCardinality, Default: true},
	{Name: GroupCounters, Default: true},
	{Name: GroupTransactions, Default: true},
	{Name: GroupHistograms, Default: false},
	{Name: GroupQuantiles, Default: true},
	{Name: GroupTopECS, Default: false},
	{Name: GroupTopPorts, Default: true},
	{Name: GroupTopQnames, Default: true},
	{Name: GroupTopQnamesDetails, Default: false},
}

// Groups returns the metric groups dns v1 offers, with their defaults.
func Groups() []handler.Group { return slices.Clone(groups) }

// IsDNSPort reports whether port is one of the ports pktvisor treats as
// DNS (its DnsLayer::isDnsPort): 53, 5353 (mDNS, RFC 6762), 5355 (LLMNR,
// RFC 4795) and 53000 (used by pktvisor's test captures).
func IsDNSPort(port uint16) bool {
	switch port {
	case 53, 5353, 5355, 53000:
		return true
	}
	return false
}

// on holds the resolved groups as fields, for the packet path.
type on struct {
	counters, card, xact, quant, hist, ports, qnames, details, ecs bool
}

// V1 is a dns v1 handler instance. It is single-goroutine: DNS, Tick,
// Start, End, Bucket and Window must be called from one goroutine (or
// serialised by the caller).
type V1 struct {
	opt    handler.Options
	groups handler.Groups
	on     on
	f      filters
	// noFilters is set when no filter is configured: every message passes
	// with no suffix, so DNS skips filters.pass.
	noFilters bool
	win       *window.Manager[*bucket]
	deep      window.Sampler
	xacts     *xactTable
	bounds    []uint64

	now int64 // event time of the latest event or tick

	// Thresholds of "slow" transactions in µs: the p90 of the last complete
	// period's in/out times, 0 (none) until one exists.
	slowInUs, slowOutUs float64

	// Scratch key for top-N updates (the sketches copy what they keep).
	key16 [16]byte
}

var (
	_ handler.Handler        = (*V1)(nil)
	_ event.DNSConsumer      = (*V1)(nil)
	_ event.DNSRecordsWanter = (*V1)(nil)
	_ handler.ChainFilter    = (*V1)(nil)
)

// NewV1 validates o (unknown keys, metric groups, filter values) and
// returns a handler. Errors for bad filter or config values wrap
// [ErrConfig]; unknown keys and groups get pktvisor's messages.
func NewV1(o handler.Options) (*V1, error) {
	if err := o.CheckKeys(configKeys...); err != nil {
		return nil, err
	}
	if err := o.Defaults(); err != nil {
		return nil, err
	}
	g, err := handler.ResolveGroups(groups, o.Enable, o.Disable)
	if err != nil {
		return nil, err
	}
	f, err := parseFilters(&o)
	if err != nil {
		return nil, err
	}
	h := &V1{
		opt: o, groups: g, f: f,
		on: on{
			counters: g.Has(GroupCounters), card: g.Has(GroupCardinality),
			xact: g.Has(GroupTransactions), quant: g.Has(GroupQuantiles), hist: g.Has(GroupHistograms),
			ports: g.Has(GroupTopPorts), qnames: g.Has(GroupTopQnames),
			details: g.Has(GroupTopQnames) && g.Has(GroupTopQnamesDetails), ecs: g.Has(GroupTopECS),
		},
		noFilters: f.none(),
		deep:      window.NewSampler(o.DeepSampleRate, o.Seed),
		xacts:     newXactTable(f.xactTTL, DefaultMaxOpenXacts),
		bounds:    histBounds(),
	}
	h.win = window.New(o.Window(), func() *bucket { return newBucket(h.bounds) })
	h.win.OnShift = h.onShift
	return h, nil
}

// Name implements handler.Handler.
func (h *V1) Name() string { return h.opt.Name }

// Schema implements handler.Handler.
func (h *V1) Schema() string { return Schema }

// Start implements handler.Handler.
func (h *V1) Start(ts int64) {
	h.now = max(h.now, ts)
	h.win.Start(ts)
}

// Tick implements handler.Handler.
func (h *V1) Tick(ts int64) {
	h.now = max(h.now, ts)
	h.win.Advance(ts)
}

// End implements handler.Handler.
func (h *V1) End(ts int64) { h.win.End(ts) }

// WantsDNSRecords implements event.DNSRecordsWanter: the records are
// needed for only_dnssec_response (RRSIG) and the top_ecs group (OPT/ECS).
func (h *V1) WantsDNSRecords() bool { return h.f.onlyDNSSEC || h.on.ecs }

// XactStats describes the transaction table.
type XactStats struct {
	Open    int    // queries waiting for their reply
	Evicted uint64 // queries dropped because the table was full
}

// Transactions returns the state of the transaction table.
func (h *V1) Transactions() XactStats {
	return XactStats{Open: h.xacts.Open(), Evicted: h.xacts.evicted}
}

// onShift runs when a period closes: queries older than the TTL are
// purged and counted as timed out in the new live bucket, and the slow
// thresholds become the closed period's p90 transaction times.
func (h *V1) onShift(closed, live *bucket) {
	live.c.xactTimedOut += h.xacts.Purge(h.now)
	h.slowInUs, h.slowOutUs = 0, 0
	if closed.xactInUs.N() > 0 {
		h.slowInUs = closed.xactInUs.Quantile(0.9)
	}
	if closed.xactOutUs.N() > 0 {
		h.slowOutUs = closed.xactOutUs.Quantile(0.9)
	}
}

// DNS implements event.DNSConsumer: it counts one DNS message. It does
// not allocate once the transaction table and sketches have warmed up.
func (h *V1) DNS(ev *event.DNS) {
	m := ev.Msg
	h.now = max(h.now, ev.TS)
	h.win.Advance(ev.TS)
	b := h.win.Live()
	b.c.events++
	b.rateEvents.Add(ev.TS, 1)
	suffix := 0
	if !h.noFilters {
		var keep bool
		if keep, suffix = h.f.pass(m); !keep {
			b.c.filtered++
			return
		}
	}
	deep := h.deep.Deep()
	if deep {
		b.c.deepSamples++
	}
	b.rateTotal.Add(ev.TS, 1)

	resp, rc := m.IsResponse(), m.Rcode()
	c := &b.c
	c.total++
	if ev.Transport.Stream() {
		c.tcp++
	} else {
		c.udp++
	}
	switch {
	case ev.Src.Is4():
		c.ipv4++
	case ev.Src.Is6():
		c.ipv6++
	}
	if resp {
		c.replies++
		switch rc {
		case dnsmsg.RcodeNoError:
			c.noerror++
			if m.ANCount == 0 {
				c.nodata++
			}
		case dnsmsg.RcodeServFail:
			c.srvfail++
		case dnsmsg.RcodeNXDomain:
			c.nxdomain++
		case dnsmsg.RcodeRefused:
			c.refused++
		}
	} else {
		c.queries++
		if m.HasECS {
			c.queryECS++
		}
	}

	if h.on.xact {
		h.transaction(b, ev, deep)
	}
	if deep {
		h.deepUpdate(b, ev, suffix)
	}
}

// metricPort returns the port top_udp_ports counts: the one that is not a
// DNS port; when both are, the client's (the source of a query, the
// destination of a reply); 0 when neither is.
func metricPort(p *event.Endpoints, resp bool) uint16 {
	sd, dd := IsDNSPort(p.SrcPort), IsDNSPort(p.DstPort)
	switch {
	case sd && dd:
		if resp {
			return p.DstPort
		}
		return p.SrcPort
	case dd:
		return p.SrcPort
	case sd:
		return p.DstPort
	}
	return 0
}

// transaction pairs queries and replies. A query opens a transaction; a
// reply closes the one with the same ID on the same flow.
func (h *V1) transaction(b *bucket, ev *event.DNS, deep bool) {
	m := ev.Msg
	var k xactKey
	k.set(ev.Src, ev.Dst, ev.SrcPort, ev.DstPort, m.ID, ev.Transport.Stream())
	if !m.IsResponse() {
		h.xacts.Start(&k, ev.TS, ev.Size)
		return
	}
	r, dur, qsize := h.xacts.End(&k, ev.TS)
	switch r {
	case xactNone:
		return
	case xactTimedOut:
		b.c.xactTimedOut++
		return
	}
	b.c.xactTotal++
	us := uint64(dur / 1000)
	// The reply's direction tells the host's role: a reply to the host
	// means the host asked (out), a reply from it means it answered (in).
	var (
		q    = b.xactOutUs
		hist = b.xactOutHist
		slow = b.slowOut
		thr  = h.slowOutUs
	)
	switch ev.Dir {
	case event.DirToHost:
		b.c.xactOut++
	case event.DirFromHost:
		b.c.xactIn++
		q, hist, slow, thr = b.xactInUs, b.xactInHist, b.slowIn, h.slowInUs
	default:
		q = nil
	}
	if !deep {
		return
	}
	if q != nil {
		if h.on.quant {
			q.Update(float64(us))
		}
		if h.on.hist {
			hist.Update(us)
		}
		if thr > 0 && float64(us) >= thr && m.HasQuestion {
			slow.Update(m.QName(), 1)
		}
	}
	if h.on.quant && qsize > 0 {
		b.xactRatio.Update(float64(ev.Size) / float64(qsize))
	}
}

// deepUpdate updates the sketches of a deep-sampled message.
func (h *V1) deepUpdate(b *bucket, ev *event.DNS, suffix int) {
	m := ev.Msg
	resp, rc := m.IsResponse(), m.Rcode()
	if h.on.ports {
		if port := metricPort(&ev.Endpoints, resp); port != 0 {
			b.topUDPPorts.Add(port, 1)
		}
	}
	if resp {
		// The rcode is in the header: a reply counts in top_rcode as it
		// counts in replies, even when its question is malformed.
		b.topRcode.Add(uint16(rc), 1)
	}
	if m.QDCount > 0 && !m.HasQuestion {
		return // the question did not parse: nothing name-based to count
	}
	if m.HasQuestion {
		name := m.QName()
		b.topQType.Add(m.QType, 1)
		if h.on.card || h.on.qnames {
			h.nameUpdate(b, ev, name, suffix)
		}
	}
	if h.on.ecs && !resp && m.HasECS {
		b.topQueryECS.Update(addrKey(m.ECS, &h.key16), 1)
	}
}

// nameUpdate counts a deep-sampled message with a question in the
// qname-keyed sketches, through the bucket's nameTally while it batches.
func (h *V1) nameUpdate(b *bucket, ev *event.DNS, name []byte, suffix int) {
	m := ev.Msg
	resp, rc := m.IsResponse(), m.Rcode()
	idx := b.names.entry(name, suffix)
	if idx < 0 && !b.names.direct {
		b.names.stop(b)
	}
	if idx < 0 {
		h.nameUpdateDirect(b, ev, name, suffix)
		return
	}
	t := &b.names
	if h.on.card && len(name) > 0 {
		t.add(idx, sinkCard, 1)
	}
	if !h.on.qnames {
		return
	}
	if resp {
		switch rc {
		case dnsmsg.RcodeServFail:
			t.add(idx, sinkSrvfail, 1)
		case dnsmsg.RcodeNXDomain:
			t.add(idx, sinkNX, 1)
		case dnsmsg.RcodeRefused:
			t.add(idx, sinkRefused, 1)
		case dnsmsg.RcodeNoError:
			if h.on.details {
				t.add(idx, sinkNoerror, 1)
			}
			if m.ANCount == 0 {
				t.add(idx, sinkNodata, 1)
			}
		}
		if h.on.details && ev.Size > 0 {
			t.add(idx, sinkRespBytes, uint64(ev.Size))
		}
	}
	// Always both (nameTally.flush relies on it).
	t.add(idx, sinkQname2, 1)
	t.add(idx, sinkQname3, 1)
}

// nameUpdateDirect is nameUpdate without batching.
func (h *V1) nameUpdateDirect(b *bucket, ev *event.DNS, name []byte, suffix int) {
	m := ev.Msg
	resp, rc := m.IsResponse(), m.Rcode()
	if h.on.card && len(name) > 0 {
		// The root name is not counted, as DataSketches' CPC
		// ignores empty strings.
		b.qnameCard.Insert(name)
	}
	if !h.on.qnames {
		return
	}
	if resp {
		switch rc {
		case dnsmsg.RcodeServFail:
			b.topSrvfail.Update(name, 1)
		case dnsmsg.RcodeNXDomain:
			b.topNX.Update(name, 1)
		case dnsmsg.RcodeRefused:
			b.topRefused.Update(name, 1)
		case dnsmsg.RcodeNoError:
			if h.on.details {
				b.topNoerror.Update(name, 1)
			}
			if m.ANCount == 0 {
				b.topNodata.Update(name, 1)
			}
		}
		if h.on.details {
			b.topQnameByRespBytes.Update(name, uint64(ev.Size))
		}
	}
	q2, q3 := dnsmsg.AggregateDomain(name, suffix, nil)
	if len(q2) > 0 {
		b.topQname2.Update(q2, 1)
	}
	if len(q3) > 0 {
		b.topQname3.Update(q3, 1)
	}
}

// addrKey returns a's 4 or 16 bytes in buf.
func addrKey(a netip.Addr, buf *[16]byte) []byte {
	if a.Is4() {
		v := a.As4()
		copy(buf[:], v[:])
		return buf[:4]
	}
	*buf = a.As16()
	return buf[:]
}

// Bucket implements handler.Handler.
func (h *V1) Bucket(n int, now int64) (map[string]any, error) {
	return handler.BucketOf(h.win, n, now, h.render)
}

// Window implements handler.Handler.
func (h *V1) Window(n int, now int64) (map[string]any, error) {
	return handler.WindowOf(h.win, n, now, h.render)
}

// FormatPort renders a 2-byte big-endian top-N key as a decimal port.
func FormatPort(k []byte) string {
	if len(k) != 2 {
		return ""
	}
	return strconv.Itoa(int(binary.BigEndian.Uint16(k)))
}

// FormatRcode renders a 2-byte rcode key with pktvisor's name, or the
// number when it has none.
func FormatRcode(k []byte) string {
	if len(k) != 2 {
		return ""
	}
	rc := binary.BigEndian.Uint16(k)
	if s := dnsmsg.RcodeName(rc); s != "" {
		return s
	}
	return strconv.Itoa(int(rc))
}

// FormatQType renders a 2-byte qtype key with its IANA mnemonic, or the
// number when it has none.
func FormatQType(k []byte) string {
	if len(k) != 2 {
		return ""
	}
	t := binary.BigEndian.Uint16(k)
	if s := dnsmsg.QTypeName(t); s != "" {
		return s
	}
	return strconv.Itoa(int(t))
}

// FormatAddr renders a 4- or 16-byte key as an IP address.
func FormatAddr(k []byte) string {
	switch len(k) {
	case 4:
		return netip.AddrFrom4([4]byte(k)).String()
	case 16:
		return netip.AddrFrom16([16]byte(k)).Unmap().String()
	}
	return ""
}

func (h *V1) render(b *bucket, p window.Period) map[string]any {
	if h.groups.None(groups) {
		return nil
	}
	b.flush()
	o, c, rec := &h.opt, &b.c, h.opt.Recorded
	wp := map[string]any{"events": metric.Counter(c.events), "deep_samples": metric.Counter(c.deepSamples)}
	m := map[string]any{"period": handler.PeriodJSON(p), "wire_packets": wp}
	handler.SetRate(m, b.rateTotal, p, rec, "rates", "total")
	handler.SetRate(m, b.rateEvents, p, rec, "rates", "events")
	if h.on.counters {
		for k, v := range map[string]uint64{
			"queries": c.queries, "replies": c.replies, "tcp": c.tcp, "udp": c.udp,
			"ipv4": c.ipv4, "ipv6": c.ipv6, "nxdomain": c.nxdomain, "refused": c.refused,
			"srvfail": c.srvfail, "noerror": c.noerror, "nodata": c.nodata,
			"total": c.total, "filtered": c.filtered,
		} {
			wp[k] = metric.Counter(v)
		}
		if h.on.ecs {
			wp["query_ecs"] = metric.Counter(c.queryECS)
		}
	}
	if h.on.card {
		handler.Set(m, metric.Gauge(b.qnameCard.Estimate()), "cardinality", "qname")
	}
	if h.on.xact {
		handler.Set(m, metric.Counter(c.xactTotal), "xact", "counts", "total")
		handler.Set(m, metric.Counter(c.xactTimedOut), "xact", "counts", "timed_out")
		handler.Set(m, metric.Counter(c.xactIn), "xact", "in", "total")
		handler.Set(m, metric.Counter(c.xactOut), "xact", "out", "total")
		handler.Set(m, handler.Top(b.slowIn, o, "qname", handler.StringKey), "xact", "in", "top_slow")
		handler.Set(m, handler.Top(b.slowOut, o, "qname", handler.StringKey), "xact", "out", "top_slow")
		if h.on.quant {
			handler.SetQuantile(m, b.xactInUs, "xact", "in", "quantiles_us")
			handler.SetQuantile(m, b.xactOutUs, "xact", "out", "quantiles_us")
			handler.SetQuantile(m, b.xactRatio, "xact", "ratio", "quantiles")
		}
		if h.on.hist {
			if j := b.xactInHist.Metric(); j != nil {
				handler.Set(m, j, "xact", "in", "histogram_us")
			}
			if j := b.xactOutHist.Metric(); j != nil {
				handler.Set(m, j, "xact", "out", "histogram_us")
			}
		}
	}
	if h.on.ports {
		m["top_udp_ports"] = handler.Top(b.topUDPPorts, o, "port", FormatPort)
	}
	if h.on.ecs {
		m["top_query_ecs"] = handler.Top(b.topQueryECS, o, "ecs", FormatAddr)
		// Filled once GeoIP/ASN enrichment exists; empty until then.
		m["top_geoLoc_ecs"] = handler.Top(b.topGeoLocECS, o, "geo_loc", handler.StringKey)
		m["top_asn_ecs"] = handler.Top(b.topASNECS, o, "asn", handler.StringKey)
	}
	if h.on.qnames {
		m["top_qname2"] = handler.Top(b.topQname2, o, "qname", handler.StringKey)
		m["top_qname3"] = handler.Top(b.topQname3, o, "qname", handler.StringKey)
		m["top_nxdomain"] = handler.Top(b.topNX, o, "qname", handler.StringKey)
		m["top_refused"] = handler.Top(b.topRefused, o, "qname", handler.StringKey)
		m["top_srvfail"] = handler.Top(b.topSrvfail, o, "qname", handler.StringKey)
		m["top_nodata"] = handler.Top(b.topNodata, o, "qname", handler.StringKey)
		if h.on.details {
			m["top_qname_by_resp_bytes"] = handler.Top(b.topQnameByRespBytes, o, "qname", handler.StringKey)
			m["top_noerror"] = handler.Top(b.topNoerror, o, "qname", handler.StringKey)
		}
	}
	m["top_rcode"] = handler.Top(b.topRcode, o, "rcode", FormatRcode)
	m["top_qtype"] = handler.Top(b.topQType, o, "qtype", FormatQType)
	return m
}
