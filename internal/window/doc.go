// Package window keeps a handler's metrics in a ring of time buckets and
// merges them into windows, following pktvisor's model: bucket 0 is live,
// bucket 1 the most recent complete period, and so on; a new bucket starts
// when an event's time is at least one period (60 s) after the live bucket's
// start. Time is event time: the timestamps of the packets or records, so a
// file replay gives the numbers of the live run it captured.
//
// # Concurrency
//
// A [Manager] is single-writer. Readers call [Manager.Bucket] and
// [Manager.Window] from the same goroutine, or after the writer has stopped.
//
// # The one mistake
//
// With one period (summary mode) the live bucket never shifts, whatever the
// timestamps: that is what pktvisor-reader --periods 1 and tests rely on.
package window
