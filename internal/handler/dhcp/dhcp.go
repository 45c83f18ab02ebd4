// Package dhcp is the "dhcp" stream handler: DHCPv4 and DHCPv6 message
// counters, rates, the clients that completed a REQUEST→ACK exchange and
// the servers that answered, per period, in pktvisor's "dhcp" schema (see
// README.md for every metric and the differences from pktvisor).
//
// # The one mistake
//
// The handler counts DHCP events: the input decides what is DHCP (UDP on
// ports 67/68, else 546/547) and parses each datagram once; a datagram that
// does not parse is an event, not a message.
package dhcp

import (
	"fmt"

	"github.com/pktvisor-go/pktvisor/internal/dhcpmsg"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/metric"
	"github.com/pktvisor-go/pktvisor/internal/window"
)

// Type is the YAML handler type; Schema the JSON key.
const (
	Type   = "dhcp"
	Schema = "dhcp"
)

// DefaultXactTTL is how long a DHCPv4 REQUEST waits for its ACK (pktvisor's
// default of 5 s), in nanoseconds.
const DefaultXactTTL = int64(5e9)

// maxXactTTL bounds xact_ttl_ms / xact_ttl_secs (one day).
const maxXactTTL = int64(86400e9)

// configKeys are the handler's own config keys (pktvisor has no dhcp filters).
var configKeys = []string{"xact_ttl_ms", "xact_ttl_secs", "recorded_stream"}

// keyCap is the scratch buffer size for top-N keys: the longest key is a
// 16-byte chaddr as 47 characters, a 255-byte hostname, an IPv4 address
// and two slashes (v6 server keys are shorter).
const keyCap = 512

// V1 is a dhcp handler instance (pktvisor has only version 1.0). It is
// single-goroutine: Packet, Tick, End, Bucket and Window must not run
// concurrently.
type V1 struct {
	opt   handler.Options
	win   *window.Manager[*bucket]
	deep  window.Sampler
	xacts xactTable
	now   int64  // event time of the last event or tick
	key   []byte // scratch for top-N keys; TopN.Update copies what it keeps
}

var (
	_ handler.Handler    = (*V1)(nil)
	_ event.DHCPConsumer = (*V1)(nil)
)

// NewV1 validates o and returns a handler. Config keys: xact_ttl_ms or
// xact_ttl_secs (a positive integer, at most one day; xact_ttl_ms wins
// when both are set) and recorded_stream, besides the window keys every
// handler takes. Unknown keys and metric groups are rejected with
// pktvisor's messages (dhcp has no metric groups).
func NewV1(o handler.Options) (*V1, error) {
	if err := o.CheckKeys(configKeys...); err != nil {
		return nil, err
	}
	if err := o.Defaults(); err != nil {
		return nil, err
	}
	if _, err := handler.ResolveGroups(nil, o.Enable, o.Disable); err != nil {
		return nil, err
	}
	ttl, err := xactTTL(&o)
	if err != nil {
		return nil, err
	}
	h := &V1{opt: o, deep: window.NewSampler(o.DeepSampleRate, o.Seed), key: make([]byte, 0, keyCap)}
	h.xacts.ttl = ttl
	h.win = window.New(o.Window(), newBucket)
	h.win.OnShift = func(_, _ *bucket) { h.xacts.purge(h.now) }
	return h, nil
}

// xactTTL reads xact_ttl_ms or xact_ttl_secs in nanoseconds.
func xactTTL(o *handler.Options) (int64, error) {
	key, unit := "", int64(0)
	switch {
	case o.Has("xact_ttl_ms"):
		key, unit = "xact_ttl_ms", 1e6
	case o.Has("xact_ttl_secs"):
		key, unit = "xact_ttl_secs", 1e9
	default:
		return DefaultXactTTL, nil
	}
	n, err := o.Uint(key, 0)
	if err != nil {
		return 0, err
	}
	if n == 0 || n > uint64(maxXactTTL/unit) {
		return 0, fmt.Errorf("%s must be in [1, %d]", key, maxXactTTL/unit)
	}
	return int64(n) * unit, nil
}

// Name implements handler.Handler.
func (h *V1) Name() string { return h.opt.Name }

// Schema implements handler.Handler.
func (h *V1) Schema() string { return Schema }

// Start implements handler.Handler.
func (h *V1) Start(ts int64) { h.win.Start(ts) }

// Tick implements handler.Handler; a period shift purges expired
// transactions.
func (h *V1) Tick(ts int64) {
	h.now = ts
	h.win.Advance(ts)
}

// End implements handler.Handler.
func (h *V1) End(ts int64) { h.win.End(ts) }

// Transactions returns the DHCPv4 transaction counters since the handler
// started (not per period: pktvisor's schema has no place for them).
func (h *V1) Transactions() XactStats { return h.xacts.stats }

// DHCP counts one datagram on a DHCP port (implements
// event.DHCPConsumer). A datagram counts as an event; one that parsed as a
// DHCP message also counts in total and under its message type. It does
// not allocate.
func (h *V1) DHCP(ev *event.DHCP) {
	h.now = ev.TS
	h.win.Advance(ev.TS)
	b := h.win.Live()
	b.events++
	b.rateEvents.Add(ev.TS, 1)
	deep := h.deep.Deep()
	if deep {
		b.deepSamples++
	}
	if !ev.Valid {
		return // malformed: an event, not a message
	}
	if ev.V6 {
		h.eventV6(b, ev, deep)
	} else {
		h.eventV4(b, ev, deep)
	}
}

func (h *V1) eventV4(b *bucket, ev *event.DHCP, deep bool) {
	m := ev.V4
	b.total++
	b.rateTotal.Add(ev.TS, 1)
	switch m.MsgType {
	case dhcpmsg.Discover:
		b.discover++
	case dhcpmsg.Offer:
		b.offer++
		if deep {
			server := m.ServerID
			if !server.IsValid() {
				server = ev.Src
			}
			k := appendMAC(h.key[:0], ev)
			k = append(k, '/')
			k = server.AppendTo(k)
			b.topServers.Update(k, 1)
		}
	case dhcpmsg.Request:
		b.request++
		h.xacts.insert(m.XID, ev.TS, m.HardwareAddr(), m.Hostname)
	case dhcpmsg.Ack:
		b.ack++
		x, ok := h.xacts.take(m.XID, ev.TS)
		if ok && deep {
			k := appendHex(h.key[:0], x.chaddr[:x.hlen])
			k = append(k, '/')
			if x.hostLen > 0 {
				k = append(k, x.host[:x.hostLen]...)
			} else {
				k = append(k, "Unknown"...)
			}
			k = append(k, '/')
			k = m.YIAddr.AppendTo(k)
			b.topClients.Update(k, 1)
		}
	}
}

func (h *V1) eventV6(b *bucket, ev *event.DHCP, deep bool) {
	m := ev.V6Msg
	b.total++
	b.rateTotal.Add(ev.TS, 1)
	switch m.MsgType {
	case dhcpmsg.Solicit:
		b.solicit++
	case dhcpmsg.Advertise:
		b.advertise++
	case dhcpmsg.RequestV6:
		b.requestV6++
	case dhcpmsg.Reply:
		b.reply++
	default:
		return
	}
	if deep && m.ServerID != nil && (m.MsgType == dhcpmsg.Advertise || m.MsgType == dhcpmsg.Reply) {
		k := appendMAC(h.key[:0], ev)
		k = append(k, '/')
		k = ev.Src.AppendTo(k)
		b.topServers.Update(k, 1)
	}
}

// appendMAC appends the datagram's source MAC, or nothing when the frame
// had no link-layer header.
func appendMAC(k []byte, ev *event.DHCP) []byte {
	if !ev.HasEth {
		return k
	}
	return appendHex(k, ev.EthSrc[:])
}

// appendHex appends b as colon-separated lower-case hex ("78:4f:43:...").
func appendHex(k, b []byte) []byte {
	const digits = "0123456789abcdef"
	for i, c := range b {
		if i > 0 {
			k = append(k, ':')
		}
		k = append(k, digits[c>>4], digits[c&15])
	}
	return k
}

// Bucket implements handler.Handler.
func (h *V1) Bucket(n int, now int64) (map[string]any, error) {
	return handler.BucketOf(h.win, n, now, h.render)
}

// Window implements handler.Handler.
func (h *V1) Window(n int, now int64) (map[string]any, error) {
	return handler.WindowOf(h.win, n, now, h.render)
}

func (h *V1) render(b *bucket, p window.Period) map[string]any {
	rec := h.opt.Recorded
	m := map[string]any{
		"period": handler.PeriodJSON(p),
		"wire_packets": map[string]any{
			"events":       metric.Counter(b.events),
			"deep_samples": metric.Counter(b.deepSamples),
			"total":        metric.Counter(b.total),
			"filtered":     metric.Counter(0), // dhcp has no filters
			"discover":     metric.Counter(b.discover),
			"offer":        metric.Counter(b.offer),
			"request":      metric.Counter(b.request),
			"ack":          metric.Counter(b.ack),
			"solicit":      metric.Counter(b.solicit),
			"advertise":    metric.Counter(b.advertise),
			"request_v6":   metric.Counter(b.requestV6),
			"reply":        metric.Counter(b.reply),
		},
		"top_clients": handler.Top(b.topClients, &h.opt, "client", handler.StringKey),
		"top_servers": handler.Top(b.topServers, &h.opt, "server", handler.StringKey),
	}
	handler.SetRate(m, b.rateTotal, p, rec, "rates", "total")
	handler.SetRate(m, b.rateEvents, p, rec, "rates", "events")
	return m
}

// Snapshot implements handler.Snapshotter.
func (h *V1) Snapshot(win bool, n int, now int64) (handler.Snap, error) {
	return handler.SnapshotOf(h.win, newBucket, win, n, now, h.render)
}
