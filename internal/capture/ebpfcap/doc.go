// Package ebpfcap is the host pass-through capture (pcap_source: ebpf):
// eBPF programs on an interface copy the first bytes of every frame, in
// both directions, into a ring buffer that a [Source] reads, and let the
// frame go on to the host. The kernel halves are bpf/passthru.c; a
// [Source] implements [capture.Source].
//
// # When to use ebpf, when af_xdp
//
// Use ebpf on host interfaces: interfaces with addresses, whose traffic
// the machine itself sends and receives. Its programs return XDP_PASS on
// ingress and TCX_NEXT on egress, so the host keeps every frame, and the
// capture sees both directions (the egress program sees what the host
// sends, which no XDP program can). The cost is one copy of up to 512
// bytes per frame into a ring buffer shared by all CPUs and read by one
// goroutine.
//
// Use af_xdp (internal/capture/afxdp) on dedicated capture NICs (mirror
// or TAP ports, no addresses): AF_XDP redirects frames to user space and
// takes them away from the kernel stack, with one socket and one reader
// per receive queue. That scales across queues, but on a host interface
// it would steal the host's traffic (DESIGN.md §2), and it sees ingress
// only. AF_PACKET (afpacket) is the other pass-through choice: it needs
// no eBPF, sees whole frames and spreads over fanout sockets, but goes
// through the skb path with more per-frame work.
//
// # How it works
//
// [Open] loads passthru and attaches, through bpf_links (detached by the
// kernel when the process exits):
//
//   - ingress: XDP in the driver, else generic XDP, else TCX ingress
//     ([Config.Mode], [Source.Mode], [Source.Fallbacks]). XDP allows one
//     program per interface; when another one is there, auto mode ends
//     on TCX, which allows many;
//   - egress: TCX egress (Linux ≥ 6.6). Without TCX, Open fails with an
//     error wrapping [capture.ErrNotSupported], so "auto" can fall back to
//     AF_PACKET. Legacy tc (clsact + cls_bpf) is not implemented.
//
// Both programs count every frame per class and direction in per-CPU
// counters ([Source.Counters]), apply the optional port pre-filter
// ([Config.Ports]) and, for selected frames, write a record {boot time,
// wire length, captured length, direction, the first [Config.Snaplen]
// bytes} to one BPF ring buffer ([Config.RingSize], 8 MiB by default).
// The TC programs return TCX_NEXT (TC_ACT_UNSPEC), not TC_ACT_OK: the
// verdict stays with whatever program runs after them (the stack passes
// the frame when there is none), so attaching the capture never changes
// another TC program's decision.
//
// # One reader
//
// The ring buffer is a single multi-producer, single-consumer queue for
// all CPUs and both directions: one goroutine reads it ([Source.ReadBatch];
// concurrent calls are serialised). Records of different CPUs are in
// the order they were committed, which may differ from their timestamps
// by microseconds. When the reader falls behind and the ring fills up,
// new records are lost and counted ([capture.Stats].Drops, ringbuf_full);
// the host's frames are never affected.
//
// # What the capture sees
//
// Egress is seen at the TC hook, before segmentation: a TSO/GSO
// super-packet is one frame with its whole length as WireLen (as tcpdump
// shows it). VLAN tags that a driver offloaded (skb->vlan_tci) are not in
// the copied bytes. XDP sees frames before GRO; TCX ingress after.
//
// Requirements: Linux ≥ 6.6 (TCX; the programs themselves need ≥ 5.18
// for bpf_xdp_load_bytes), root or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN.
// [Probe] checks the program side.
//
// # The one mistake
//
// [capture.Frame].Data aliases the Source's buffers and is overwritten by
// the next ReadBatch: copy what must outlive the batch. And Data is at
// most Snaplen (≤ 512) bytes: use WireLen, not len(Data), for byte counts.
//
// # Namespaces
//
// Open acts in the network namespace of the calling thread (interface
// name and attachment); lock an OS thread into the namespace to call it.
package ebpfcap
