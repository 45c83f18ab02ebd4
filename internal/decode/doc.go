// Package decode parses captured frames (Ethernet, 802.1Q/QinQ, Linux SLL
// and SLL2, BSD loopback, raw IP) down to IPv4/IPv6 and TCP/UDP/ICMP into a
// caller-owned [Packet], without allocating.
//
// # Ownership
//
// A [Decoder] belongs to one worker goroutine. [Decoder.Decode] fills the
// Packet it is given; the Packet's slices point into the frame passed in (or,
// for a datagram completed by IP fragment reassembly, into the Decoder's own
// buffer) and stay valid only until the next call to Decode on the same
// Decoder. Copy what must outlive that.
//
// # The one mistake
//
// Direction is only known when a host_spec is given ([ParseHostSpec]):
// without it every packet has direction [DirUnknown], as in pktvisor.
package decode
