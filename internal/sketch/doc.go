// Package sketch holds the mergeable streaming summaries the handlers keep:
// [TopN] (frequent items), [Quantile] (KLL), [Cardinality] (HyperLogLog)
// and [Rate] (per-second event-time rate held in a Quantile).
//
// # Concurrency
//
// Every sketch is single-writer: one goroutine updates it, and readers get
// a merged copy at a period boundary. No method is safe for concurrent use.
//
// # The one mistake
//
// Update methods never keep the key slice they are given (TopN copies the
// bytes it keeps into its own arena), so callers may pass slices into a
// reused packet buffer; but [TopN.Items] returns keys that alias the
// sketch's arena and are only valid until the next update.
package sketch
