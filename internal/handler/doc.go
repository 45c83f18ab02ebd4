// Package handler holds what every stream handler shares: the registry of
// handler types ([Register], [Lookup], [Registered]), their options
// (pktvisor's flat handler config of filters, config, window_config and
// metric groups), metric-group resolution, and the rendering of sketches
// and periods.
//
// Handlers live in sub-packages (netstats, dns, dhcp, pcapstats), register
// themselves in init, and consume the typed events of package event, never
// a capture library's types or an input. The wiring from inputs to
// handlers is internal/policy's job; internal/handler/all links every
// built-in handler into a program.
//
// # The one mistake
//
// A handler's update methods run on one worker goroutine; its Bucket and
// Window methods must be called from that goroutine too, or after it stopped
// (the policy layer hands over snapshots at batch boundaries).
package handler
