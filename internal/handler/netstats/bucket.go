package netstats

import "github.com/pktvisor-go/pktvisor/internal/sketch"

// bucket is one period of net v1 metrics.
type bucket struct {
	events, deepSamples                  uint64
	udp, tcp, otherL4, ipv4, ipv6, syn   uint64
	in, out, unknownDir, total, filtered uint64
	rates                                rateSet
	srcIPsIn, dstIPsOut                  *sketch.Cardinality
	topIPv4, topIPv6                     *sketch.TopN
	payloadSize                          *sketch.IntQuantile
}

func (h *V1) newBucket() *bucket {
	return &bucket{
		rates:    newRateSet(),
		srcIPsIn: sketch.NewCardinality(), dstIPsOut: sketch.NewCardinality(),
		topIPv4: sketch.NewTopN(0), topIPv6: sketch.NewTopN(0),
		payloadSize: sketch.NewIntQuantile(),
	}
}

// Merge implements window.Bucket.
func (b *bucket) Merge(o *bucket) {
	b.events += o.events
	b.deepSamples += o.deepSamples
	b.udp += o.udp
	b.tcp += o.tcp
	b.otherL4 += o.otherL4
	b.ipv4 += o.ipv4
	b.ipv6 += o.ipv6
	b.syn += o.syn
	b.in += o.in
	b.out += o.out
	b.unknownDir += o.unknownDir
	b.total += o.total
	b.filtered += o.filtered
	b.rates.merge(&o.rates)
	b.srcIPsIn.Merge(o.srcIPsIn)
	b.dstIPsOut.Merge(o.dstIPsOut)
	b.topIPv4.Merge(o.topIPv4)
	b.topIPv6.Merge(o.topIPv6)
	b.payloadSize.Merge(o.payloadSize)
}

// Reset implements window.Bucket.
func (b *bucket) Reset() {
	b.rates.reset()
	b.srcIPsIn.Reset()
	b.dstIPsOut.Reset()
	b.topIPv4.Reset()
	b.topIPv6.Reset()
	b.payloadSize.Reset()
	*b = bucket{rates: b.rates,
		srcIPsIn: b.srcIPsIn, dstIPsOut: b.dstIPsOut, topIPv4: b.topIPv4, topIPv6: b.topIPv6, payloadSize: b.payloadSize}
}

// Close implements window.Bucket: rates flush their running second.
func (b *bucket) Close(ts int64) {
	b.rates.close(ts)
}
