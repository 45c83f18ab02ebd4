package dhcp

import "github.com/pktvisor-go/pktvisor/internal/sketch"

// bucket is one period of dhcp metrics.
type bucket struct {
	events, deepSamples, total    uint64
	discover, offer, request, ack uint64
	solicit, advertise, requestV6 uint64
	reply                         uint64
	rateTotal, rateEvents         *sketch.Rate
	topClients, topServers        *sketch.TopN
}

func newBucket() *bucket {
	return &bucket{
		rateTotal: sketch.NewRate(), rateEvents: sketch.NewRate(),
		topClients: sketch.NewTopN(0), topServers: sketch.NewTopN(0),
	}
}

// Merge implements window.Bucket.
func (b *bucket) Merge(o *bucket) {
	b.events += o.events
	b.deepSamples += o.deepSamples
	b.total += o.total
	b.discover += o.discover
	b.offer += o.offer
	b.request += o.request
	b.ack += o.ack
	b.solicit += o.solicit
	b.advertise += o.advertise
	b.requestV6 += o.requestV6
	b.reply += o.reply
	b.rateTotal.Merge(o.rateTotal)
	b.rateEvents.Merge(o.rateEvents)
	b.topClients.Merge(o.topClients)
	b.topServers.Merge(o.topServers)
}

// Reset implements window.Bucket.
func (b *bucket) Reset() {
	b.rateTotal.Reset()
	b.rateEvents.Reset()
	b.topClients.Reset()
	b.topServers.Reset()
	*b = bucket{rateTotal: b.rateTotal, rateEvents: b.rateEvents, topClients: b.topClients, topServers: b.topServers}
}

// Close implements window.Bucket: rates flush their running second.
func (b *bucket) Close(ts int64) {
	b.rateTotal.Close(ts)
	b.rateEvents.Close(ts)
}
