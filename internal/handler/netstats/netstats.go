// Package netstats is the "net" stream handler: packet counters, rates,
// IP cardinality and top IPs per period. Version 1.0 renders pktvisor's
// "packets" schema (see README.md for every metric).
package netstats

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/metric"
	"github.com/pktvisor-go/pktvisor/internal/window"
)

// Type is the YAML handler type; Schema the v1 JSON key.
const (
	Type   = "net"
	Schema = "packets"
)

// Groups are net v1's metric groups (all on by default).
var groups = []handler.Group{
	{Name: "cardinality", Default: true},
	{Name: "counters", Default: true},
	{Name: "top_geo", Default: true},
	{Name: "top_ips", Default: true},
}

// Groups returns the metric groups net v1 offers.
func Groups() []handler.Group { return groups }

// geoKeys are net filters that need the GeoIP/ASN enrichment databases.
var geoKeys = []string{"geoloc_notfound", "asn_notfound", "only_geoloc_prefix", "only_asn_number"}

// V1 is a net v1 handler instance. It is single-goroutine.
type V1 struct {
	opt    handler.Options
	groups handler.Groups
	win    *window.Manager[*bucket]
	deep   window.Sampler
}

var (
	_ handler.Handler          = (*V1)(nil)
	_ event.PacketConsumer     = (*V1)(nil)
	_ event.InputStatsConsumer = (*V1)(nil)
)

// NewV1 validates o and returns a handler.
func NewV1(o handler.Options) (*V1, error) {
	if err := o.CheckKeys(geoKeys...); err != nil {
		return nil, err
	}
	for _, k := range geoKeys {
		if o.Has(k) {
			return nil, fmt.Errorf("%s needs GeoIP/ASN databases, which this build does not load yet", k)
		}
	}
	if err := o.Defaults(); err != nil {
		return nil, err
	}
	g, err := handler.ResolveGroups(groups, o.Enable, o.Disable)
	if err != nil {
		return nil, err
	}
	h := &V1{opt: o, groups: g, deep: window.NewSampler(o.DeepSampleRate, o.Seed)}
	h.win = window.New(o.Window(), h.newBucket)
	return h, nil
}

// Name implements handler.Handler.
func (h *V1) Name() string { return h.opt.Name }

// Schema implements handler.Handler.
func (h *V1) Schema() string { return Schema }

// Start implements handler.Handler.
func (h *V1) Start(ts int64) { h.win.Start(ts) }

// Tick implements handler.Handler.
func (h *V1) Tick(ts int64) { h.win.Advance(ts) }

// End implements handler.Handler.
func (h *V1) End(ts int64) { h.win.End(ts) }

// Packet counts one packet (implements event.PacketConsumer).
func (h *V1) Packet(p *event.Packet) {
	h.win.Advance(p.TS)
	b := h.win.Live()
	b.events++
	rc := b.rates.at(p.TS)
	rc[ratePPSEvents]++
	deep := h.deep.Deep()
	if deep {
		b.deepSamples++
	}
	b.total++
	size := uint64(p.WireLen)
	rc[ratePPSTotal]++
	rc[rateBytesTotal] += size
	switch p.L3 {
	case decode.L3IPv4:
		b.ipv4++
	case decode.L3IPv6:
		b.ipv6++
	}
	switch p.L4 {
	case decode.L4UDP:
		b.udp++
	case decode.L4TCP:
		b.tcp++
	default:
		b.otherL4++
	}
	var ip netip.Addr
	switch p.Dir {
	case decode.DirToHost:
		b.in++
		rc[ratePPSIn]++
		rc[rateBytesIn] += size
		ip = p.SrcIP
	case decode.DirFromHost:
		b.out++
		rc[ratePPSOut]++
		rc[rateBytesOut] += size
		ip = p.DstIP
	default:
		b.unknownDir++
	}
	if !deep {
		return
	}
	if p.IsSyn() {
		b.syn++
	}
	b.payloadSize.Update(size)
	if !ip.IsValid() {
		return
	}
	if ip.Is4() {
		a := ip.As4()
		if p.Dir == decode.DirToHost {
			b.srcIPsIn.Insert(a[:])
		} else {
			b.dstIPsOut.Insert(a[:])
		}
		b.topIPv4.Update(a[:], 1)
	} else {
		a := ip.As16()
		if p.Dir == decode.DirToHost {
			b.srcIPsIn.Insert(a[:])
		} else {
			b.dstIPsOut.Insert(a[:])
		}
		b.topIPv6.Update(a[:], 1)
	}
}

// Bucket implements handler.Handler.
func (h *V1) Bucket(n int, now int64) (map[string]any, error) {
	return handler.BucketOf(h.win, n, now, h.render)
}

// Window implements handler.Handler.
func (h *V1) Window(n int, now int64) (map[string]any, error) {
	return handler.WindowOf(h.win, n, now, h.render)
}

// FormatIP renders a 4- or 16-byte top-N key as an address.
func FormatIP(k []byte) string {
	switch len(k) {
	case 4:
		return netip.AddrFrom4([4]byte(k)).String()
	case 16:
		return netip.AddrFrom16([16]byte(k)).String()
	}
	return fmt.Sprintf("%x", k)
}

func (h *V1) render(b *bucket, p window.Period) map[string]any {
	if h.groups.None(groups) {
		return nil
	}
	rec := h.opt.Recorded
	m := map[string]any{
		"events":       metric.Counter(b.events),
		"deep_samples": metric.Counter(b.deepSamples),
		"period":       handler.PeriodJSON(p),
	}
	for i, r := range b.rates.r {
		// pktvisor names net v1's byte rates under the "payload" schema in
		// Prometheus.
		prefix := ""
		if strings.HasPrefix(rateNames[i], "bytes_") {
			prefix = "payload"
		}
		handler.SetRatePrefixed(m, r, p, rec, prefix, "rates", rateNames[i])
	}
	handler.SetQuantile(m, b.payloadSize, "payload_size")
	if h.groups.Has("counters") {
		for k, v := range map[string]uint64{
			"udp": b.udp, "tcp": b.tcp, "other_l4": b.otherL4, "ipv4": b.ipv4, "ipv6": b.ipv6,
			"in": b.in, "out": b.out, "unknown_dir": b.unknownDir, "total": b.total, "filtered": b.filtered,
		} {
			m[k] = metric.Counter(v)
		}
		handler.Set(m, metric.Counter(b.syn), "protocol", "tcp", "syn")
	}
	if h.groups.Has("cardinality") {
		handler.Set(m, metric.Gauge(b.srcIPsIn.Estimate()), "cardinality", "src_ips_in")
		handler.Set(m, metric.Gauge(b.dstIPsOut.Estimate()), "cardinality", "dst_ips_out")
	}
	if h.groups.Has("top_ips") {
		m["top_ipv4"] = handler.Top(b.topIPv4, &h.opt, "ipv4", FormatIP)
		m["top_ipv6"] = handler.Top(b.topIPv6, &h.opt, "ipv6", FormatIP)
	}
	if h.groups.Has("top_geo") {
		// Filled once GeoIP/ASN enrichment is configured; empty until then.
		m["top_geoLoc"] = &metric.TopN{Label: "geo_loc"}
		m["top_ASN"] = &metric.TopN{Label: "asn"}
	}
	return m
}

// Snapshot implements handler.Snapshotter.
func (h *V1) Snapshot(win bool, n int, now int64) (handler.Snap, error) {
	return handler.SnapshotOf(h.win, h.newBucket, win, n, now, h.render)
}

// InputStats counts the packets a kernel pre-filter kept from user space
// as events and filtered (implements event.InputStatsConsumer).
func (h *V1) InputStats(ev *event.InputStats) {
	n := ev.KernelFiltered
	if n == 0 {
		return
	}
	h.win.Advance(ev.TS)
	b := h.win.Live()
	b.events += n
	b.filtered += n
}
