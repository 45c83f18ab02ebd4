// Package policy wires inputs to handlers: it is the only package that
// knows both. A [Pipeline] takes the frames of one input, decodes each once,
// and hands the result to every handler that wants it: all packets to packet
// handlers (net), DNS messages (UDP datagrams on a DNS port, or messages
// reassembled from TCP) to DNS handlers, DHCP datagrams to DHCP handlers,
// and the input's capture statistics to stats handlers (pcap).
//
// # The one mistake
//
// A Pipeline, like the handlers it feeds, belongs to one goroutine: render
// its handlers' JSON from that goroutine or after it has stopped.
package policy
