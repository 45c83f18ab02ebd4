package dns

import "github.com/pktvisor-go/pktvisor/internal/sketch"

// counters are a bucket's plain counts.
type counters struct {
	events, deepSamples                    uint64
	queries, replies, tcp, udp, ipv4, ipv6 uint64
	nxdomain, refused, srvfail, noerror    uint64
	nodata, total, filtered, queryECS      uint64
	xactTotal, xactTimedOut                uint64
	xactIn, xactOut                        uint64
}

func (c *counters) add(o *counters) {
	c.events += o.events
	c.deepSamples += o.deepSamples
	c.queries += o.queries
	c.replies += o.replies
	c.tcp += o.tcp
	c.udp += o.udp
	c.ipv4 += o.ipv4
	c.ipv6 += o.ipv6
	c.nxdomain += o.nxdomain
	c.refused += o.refused
	c.srvfail += o.srvfail
	c.noerror += o.noerror
	c.nodata += o.nodata
	c.total += o.total
	c.filtered += o.filtered
	c.queryECS += o.queryECS
	c.xactTotal += o.xactTotal
	c.xactTimedOut += o.xactTimedOut
	c.xactIn += o.xactIn
	c.xactOut += o.xactOut
}

// bucket is one period of dns v1 metrics. Every sketch exists whatever the
// metric groups (a few kB each while empty), so Merge and Reset need no
// group logic; the groups decide what is updated and rendered.
type bucket struct {
	c counters

	rateTotal, rateEvents *sketch.Rate

	qnameCard *sketch.Cardinality

	xactInUs, xactOutUs, xactRatio *sketch.Quantile
	xactInHist, xactOutHist        *histogram
	slowIn, slowOut                *sketch.TopN

	topQueryECS, topGeoLocECS, topASNECS     *sketch.TopN
	topQname2, topQname3                     *sketch.TopN
	topNX, topRefused, topSrvfail, topNodata *sketch.TopN
	topNoerror, topQnameByRespBytes          *sketch.TopN
	// Ports, rcodes and qtypes are 16-bit keys, counted exactly.
	topUDPPorts, topRcode, topQType *sketch.Counts16
	// names batches the qname-keyed updates (nameTops and qnameCard).
	names nameTally
}

func newBucket(bounds []uint64) *bucket {
	b := &bucket{
		rateTotal: sketch.NewRate(), rateEvents: sketch.NewRate(),
		qnameCard: sketch.NewCardinality(),
		xactInUs:  sketch.NewQuantile(), xactOutUs: sketch.NewQuantile(), xactRatio: sketch.NewQuantile(),
		xactInHist: newHistogram(bounds), xactOutHist: newHistogram(bounds),
		slowIn: sketch.NewTopN(0), slowOut: sketch.NewTopN(0),
		topUDPPorts: sketch.NewCounts16(1 << 16),
		topQueryECS: sketch.NewTopN(0), topGeoLocECS: sketch.NewTopN(0), topASNECS: sketch.NewTopN(0),
		topQname2: sketch.NewTopN(0), topQname3: sketch.NewTopN(0),
		topNX: sketch.NewTopN(0), topRefused: sketch.NewTopN(0), topSrvfail: sketch.NewTopN(0), topNodata: sketch.NewTopN(0),
		topNoerror: sketch.NewTopN(0), topQnameByRespBytes: sketch.NewTopN(0),
		topRcode: sketch.NewCounts16(16), // header rcodes
		topQType: sketch.NewCounts16(1 << 16),
	}
	return b
}

// flush hands the counts the packet path batched to the top-N
// sketches. It must run before they are read (render), merged or closed;
// it does not change what they report.
func (b *bucket) flush() {
	b.names.flush(b)
}

// nameTops returns the TopNs keyed by qname (or its aggregation) by
// nameTally sink; the cardinality sink has none.
func (b *bucket) nameTops() [numSinks]*sketch.TopN {
	var t [numSinks]*sketch.TopN
	t[sinkQname2], t[sinkQname3] = b.topQname2, b.topQname3
	t[sinkNX], t[sinkRefused], t[sinkSrvfail] = b.topNX, b.topRefused, b.topSrvfail
	t[sinkNoerror], t[sinkNodata], t[sinkRespBytes] = b.topNoerror, b.topNodata, b.topQnameByRespBytes
	return t
}

func (b *bucket) rates() [2]*sketch.Rate { return [2]*sketch.Rate{b.rateTotal, b.rateEvents} }

func (b *bucket) quantiles() [3]*sketch.Quantile {
	return [3]*sketch.Quantile{b.xactInUs, b.xactOutUs, b.xactRatio}
}

func (b *bucket) tops() [13]*sketch.TopN {
	return [13]*sketch.TopN{b.slowIn, b.slowOut, b.topQueryECS, b.topGeoLocECS, b.topASNECS,
		b.topQname2, b.topQname3, b.topNX, b.topRefused, b.topSrvfail, b.topNodata,
		b.topNoerror, b.topQnameByRespBytes}
}

func (b *bucket) counts16() [3]*sketch.Counts16 {
	return [3]*sketch.Counts16{b.topUDPPorts, b.topRcode, b.topQType}
}

// Merge implements window.Bucket.
func (b *bucket) Merge(o *bucket) {
	b.flush()
	o.flush()
	b.c.add(&o.c)
	or := o.rates()
	for i, r := range b.rates() {
		r.Merge(or[i])
	}
	b.qnameCard.Merge(o.qnameCard)
	oq := o.quantiles()
	for i, q := range b.quantiles() {
		q.Merge(oq[i])
	}
	b.xactInHist.Merge(o.xactInHist)
	b.xactOutHist.Merge(o.xactOutHist)
	ot := o.tops()
	for i, t := range b.tops() {
		t.Merge(ot[i])
	}
	oc := o.counts16()
	for i, c := range b.counts16() {
		c.Merge(oc[i])
	}
}

// Reset implements window.Bucket.
func (b *bucket) Reset() {
	b.c = counters{}
	b.names.reset()
	for _, c := range b.counts16() {
		c.Reset()
	}
	for _, r := range b.rates() {
		r.Reset()
	}
	b.qnameCard.Reset()
	for _, q := range b.quantiles() {
		q.Reset()
	}
	b.xactInHist.Reset()
	b.xactOutHist.Reset()
	for _, t := range b.tops() {
		t.Reset()
	}
}

// Close implements window.Bucket: the name tally is flushed and the rates
// flush their running second.
func (b *bucket) Close(ts int64) {
	b.flush()
	for _, r := range b.rates() {
		r.Close(ts)
	}
}
