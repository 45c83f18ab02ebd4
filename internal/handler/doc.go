// Package handler holds what every stream handler shares: its options
// (pktvisor's flat handler config of filters, config, window_config and
// metric groups), metric-group resolution, the event types handlers
// receive, and the JSON rendering of sketches and periods.
//
// Handlers live in sub-packages (netstats, dns, dhcp, pcapstats) and see
// only this package's typed events, never a capture library's types. The
// wiring from inputs to handlers is internal/policy's job.
//
// # The one mistake
//
// A handler's update methods run on one worker goroutine; its Bucket and
// Window methods must be called from that goroutine too, or after it stopped
// (the policy layer hands over snapshots at batch boundaries).
package handler
