// Package bpf holds pktvisor's eBPF programs: the C sources, the bpf2go
// output built from them (committed, so building the agent needs no
// clang), and the few names the Go side shares with the C side.
//
// # xdp_capture
//
// xdp_capture.c is the XDP program of the AF_XDP capture path
// (internal/capture/afxdp). For every frame it
//
//   - parses Ethernet with up to two VLAN tags (802.1Q or 802.1ad), IPv4
//     and IPv6, and the UDP or TCP header behind them (IPv6 only when TCP
//     or UDP is the next header of the fixed header: extension headers are
//     not walked and count as other_l4);
//   - counts packets and bytes per class in a per-CPU array ([CounterNames]);
//   - when the port pre-filter is on ([ConfigFilterPorts] in the config
//     map), passes frames whose source and destination ports are both
//     missing from the ports map to the kernel stack, counted as
//     filtered_out (frames without ports, such as ARP or ICMP, are
//     filtered out too, so they still reach the stack);
//   - redirects the rest to the AF_XDP socket of the frame's receive queue
//     (xsks map, key = rx_queue_index), or passes it to the kernel stack
//     when that queue has no socket (redirect_failed).
//
// "redirected" counts the program's verdict. A frame the socket then
// cannot take (RX ring full, no fill-ring buffer) is counted by the socket
// (XDP_STATISTICS), not here.
//
// # Regenerating
//
//	go generate ./bpf/
//
// needs clang, llvm-strip and libbpf-dev (headers). TestGeneratedUpToDate
// compiles the source again and compares the programs' instructions and
// the maps' definitions with the committed object, not the bytes: the ELF
// bytes (BTF, DWARF string tables) differ between clang versions even when
// the code does not.
//
// # The one mistake
//
// Keys of the ports map are uint16 ports in host byte order: put
// uint16(9999), not its network-order (htons) form.
package bpf
