// Package event holds the typed events that cross the boundary between
// inputs and handlers, and the per-worker [Bus] an input feeds them into.
//
// An input produces events of the kinds it declares (a pcap input:
// [Packet], [DNS], [DHCP] and [InputStats]; a dnstap input: [DNS]; a flow
// input: [Flow]); a handler consumes the kinds it declares by implementing
// the matching consumer interface ([PacketConsumer], [DNSConsumer], ...).
// Every event is self-contained: a [DNS] event has its time, endpoints,
// direction, transport, size and parsed message, so no handler reaches
// into a packet to count DNS, and an input that never saw a packet (dnstap)
// produces the same event.
//
// # The one mistake
//
// Events and everything they point to (the packet, the parsed message, the
// bytes of either) are valid only during the consumer's call: the input
// reuses them for the next event. A consumer that keeps anything copies it.
package event
