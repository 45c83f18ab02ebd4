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
// # Layers
//
// Ethernet may carry up to 8 VLAN tags (0x8100, 0x88a8, 0x9100) and an MPLS
// label stack, after which IPv4 or IPv6 is guessed from the version nibble.
// Frames whose network layer is not IP (ARP, LLDP, STP...) decode without
// error to [L3Unknown] and are counted in Stats.Unsupported.
//
// # Fragments
//
// Every IP fragment has Packet.Fragment set and L4 [L4Other], except the
// one that completes its datagram: it has Reassembled set and the
// datagram's transport fields and Payload, as tshark shows with its
// default reassembly. The reassembly table is bounded (Config) and counts
// what it evicts, times out or refuses in [Stats].
//
// # The one mistake
//
// Direction is only known when a host_spec is given ([ParseHostSpec]):
// without it every packet has direction [DirUnknown], as in pktvisor.
package decode
