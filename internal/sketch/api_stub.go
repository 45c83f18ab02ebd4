package sketch

// This file fixes the exported API; implementations replace the bodies.

// DefaultLgMaxMapSize is pktvisor's frequent-items map size: at most
// 2^13 = 8,192 tracked items per TopN.
const DefaultLgMaxMapSize = 13

// TopN tracks the heaviest byte-string keys of a weighted stream
// (frequent items with reverse purge, as in DataSketches' frequent_items
// sketch with NO_FALSE_NEGATIVES). The zero value is not usable; see NewTopN.
type TopN struct{ impl topN }

// NewTopN returns an empty TopN holding at most 2^lgMaxMapSize items
// (lgMaxMapSize <= 0 means DefaultLgMaxMapSize).
func NewTopN(lgMaxMapSize int) *TopN { panic("unimplemented") }

// Update adds weight to key. It copies key when it keeps it.
func (t *TopN) Update(key []byte, weight uint64) { panic("unimplemented") }

// Merge adds o into t; o is unchanged.
func (t *TopN) Merge(o *TopN) { panic("unimplemented") }

// Reset empties t, keeping its memory.
func (t *TopN) Reset() { panic("unimplemented") }

// Named is one reported item.
type Named struct {
	Name     string
	Estimate uint64
}

// Top returns up to n items (n <= 0: none), estimate descending and, on
// ties, Name ascending, where Name = format(key). Only items that cannot be
// false negatives are reported. With percentile P in (0,100], items are
// emitted while their estimate >= the P-th percentile of the estimates of
// the top n items (pktvisor's topn_percentile_threshold); P = 0 disables it.
func (t *TopN) Top(n int, percentile float64, format func(key []byte) string) []Named {
	panic("unimplemented")
}

// Quantile is a KLL sketch of float64 values (k = 200 by default, as
// pktvisor), for p50/p90/p95/p99 with inclusive ranks.
type Quantile struct{ impl kll }

// NewQuantile returns an empty sketch with k = 200.
func NewQuantile() *Quantile { panic("unimplemented") }

// Update adds v.
func (q *Quantile) Update(v float64) { panic("unimplemented") }

// Merge adds o into q; o is unchanged.
func (q *Quantile) Merge(o *Quantile) { panic("unimplemented") }

// Reset empties q, keeping its memory.
func (q *Quantile) Reset() { panic("unimplemented") }

// N returns the number of values added.
func (q *Quantile) N() uint64 { panic("unimplemented") }

// Min and Max return the exact smallest and largest values (0 when empty).
func (q *Quantile) Min() float64 { panic("unimplemented") }
func (q *Quantile) Max() float64 { panic("unimplemented") }

// Quantile returns the smallest retained value whose normalized inclusive
// rank is >= rank (0..1). It returns 0 on an empty sketch.
func (q *Quantile) Quantile(rank float64) float64 { panic("unimplemented") }

// Cardinality estimates the number of distinct keys (HyperLogLog with
// 2^14 registers, ~0.8 % standard error).
type Cardinality struct{ impl hll }

// NewCardinality returns an empty estimator.
func NewCardinality() *Cardinality { panic("unimplemented") }

// Insert adds key.
func (c *Cardinality) Insert(key []byte) { panic("unimplemented") }

// InsertHash adds a key by its 64-bit hash (from [Hash] or equivalent).
func (c *Cardinality) InsertHash(h uint64) { panic("unimplemented") }

// Merge adds o into c; o is unchanged.
func (c *Cardinality) Merge(o *Cardinality) { panic("unimplemented") }

// Reset empties c.
func (c *Cardinality) Reset() { panic("unimplemented") }

// Estimate returns the rounded distinct-count estimate.
func (c *Cardinality) Estimate() uint64 { panic("unimplemented") }

// Hash is the 64-bit hash the sketches use for byte keys.
func Hash(b []byte) uint64 { panic("unimplemented") }

// Rate turns event timestamps into per-second rates: events are counted
// per whole second of event time; when time moves to a later second the
// finished second's count (and a 0 for every empty second skipped, at most
// 3600 of them) goes into a Quantile.
type Rate struct{ impl rate }

// NewRate returns an empty Rate.
func NewRate() *Rate { panic("unimplemented") }

// Add counts n events at event time ts (Unix nanoseconds). Timestamps
// earlier than the current second are counted in the current second.
func (r *Rate) Add(ts int64, n uint64) { panic("unimplemented") }

// Close ends the running second (its count goes into the quantile) as of
// event time ts; later Adds start a new second. Idempotent.
func (r *Rate) Close(ts int64) { panic("unimplemented") }

// Live returns the count of the last completed second.
func (r *Rate) Live() uint64 { panic("unimplemented") }

// Quantile returns the per-second rates seen so far (excluding the
// running second).
func (r *Rate) Quantile() *Quantile { panic("unimplemented") }

// Merge adds o's quantile into r and keeps a non-zero live value.
func (r *Rate) Merge(o *Rate) { panic("unimplemented") }

// Reset empties r.
func (r *Rate) Reset() { panic("unimplemented") }

type (
	topN struct{}
	kll  struct{}
	hll  struct{}
	rate struct{}
)
