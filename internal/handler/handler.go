package handler

import "github.com/pktvisor-go/pktvisor/internal/event"

// Handler is the life cycle every stream handler has. A handler consumes
// typed events by implementing the consumer interfaces of package event
// ([event.PacketConsumer], [event.DNSConsumer], ...) for the kinds its
// registration ([Info.Consumes]) declares.
type Handler interface {
	// Name is the instance name (pktvisor: "<policy>-<tap>-<module>").
	Name() string
	// Schema is the JSON key of the handler's object ("packets", "dns", ...).
	Schema() string
	// Start sets the first period's start (a file's first packet, or the
	// agent's start time), in Unix nanoseconds.
	Start(ts int64)
	// Tick moves event time forward without an event (heartbeat), closing
	// periods that ended.
	Tick(ts int64)
	// End marks the end of a recorded stream at ts.
	End(ts int64)
	// Bucket renders period n (0 = live) as the handler's JSON object, or
	// nil when every metric group is disabled. now gives the live length.
	Bucket(n int, now int64) (map[string]any, error)
	// Window renders the merge of the n most recent periods.
	Window(n int, now int64) (map[string]any, error)
}

var _ event.Clock = Handler(nil)
