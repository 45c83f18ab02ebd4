// Package afxdp captures frames with AF_XDP sockets fed by pktvisor's XDP
// program (bpf/xdp_capture.c), in pure Go on golang.org/x/sys/unix and
// github.com/cilium/ebpf (no cgo, no libbpf/libxdp). A [Socket] implements
// [capture.Source].
//
// # How it works
//
// [LoadProgram] loads xdp_capture and attaches it to an interface through
// a bpf_link, in the driver (native) hook first and the generic hook if
// the driver refuses ([Program.Mode], [Program.Fallbacks]). The program
// counts every frame per class ([Program.Counters]), can pass frames
// without an interesting port to the kernel stack ([Program.SetPortFilter])
// and redirects the rest to the socket registered for the frame's receive
// queue (XSKMAP); frames of a queue without a socket go to the stack.
//
// [Open] creates one socket for one queue: a UMEM of [Config.Frames]
// frames of [Config.FrameSize] bytes (anonymous mmap, XDP_UMEM_REG), a fill
// ring and an RX ring of Frames entries each (plus the completion ring the
// kernel insists on), mapped at the offsets XDP_MMAP_OFFSETS gives. All
// frames start in the fill ring; the socket binds with XDP_ZEROCOPY and
// falls back to XDP_COPY ([Socket.ZeroCopy], [Socket.Fallbacks]), with
// XDP_USE_NEED_WAKEUP. [Socket.ReadBatch] returns the RX descriptors as
// frames that alias the UMEM and gives them back through the fill ring on
// the next call. [OpenAll] does all of this for every receive queue: one
// socket, one reader goroutine per queue.
//
// # One capture per interface
//
// An interface has one XDP hook and each receive queue takes one AF_XDP
// socket, so a second capture on an interface would have to detach the
// first one's program, and that capture would go silent. [LoadProgram]
// and [OpenAll] therefore tell a live capture from what a dead one left:
//
//   - XSKMAP membership. The kernel removes a socket from every XSKMAP
//     when the socket is released (closed, or its process killed), so an
//     attached xdp_capture whose XSKMAP holds a socket is feeding a
//     process that is running now; one whose map is empty feeds nobody
//     and is stale. The bpf syscall cannot look an XSKMAP up, so the
//     check loads a small XDP program that looks up every index and runs
//     it once with BPF_PROG_TEST_RUN.
//   - Queue binding. OpenAll binds its sockets before it attaches, and
//     the kernel lets one socket bind a queue. Of two captures starting
//     together, the later one gets EBUSY before it touches the hook, so
//     the window between another capture's attach and its registration
//     cannot be hit. A queue freed by a capture that just ended stays
//     busy for some milliseconds (the kernel frees it after an RCU grace
//     period), so EBUSY with no live program attached is retried for a
//     while before it counts as in use.
//
// A live capture makes both return an [*InUseError] (errors.Is [ErrInUse])
// that names the interface, the program and, when they can be seen in
// /proc, the processes holding it ("pid 1234"): they are found by their
// descriptors of the program, its bpf_link or its XSKMAP (fdinfo prog_id,
// map_id). The PIDs only describe the owner; liveness is the kernel's
// answer, so a reused PID or an owner in another PID namespace cannot
// make a dead capture look alive or a live one look dead. A stale program
// is still detached and replaced ([Program.Replaced]). An owner record
// pinned in bpffs was not used: it needs a mounted bpffs, survives the
// crash it is meant to detect, and would be checked through PIDs.
//
// Requirements: Linux ≥ 5.4 (need_wakeup, ring flags), ≥ 5.9 for
// XDP_STATISTICS' fill-ring counter and for detaching a stale bpf_link,
// root or CAP_BPF + CAP_NET_ADMIN + CAP_NET_RAW. [Probe] and the
// constructors return errors wrapping [capture.ErrNotSupported] when the
// kernel or the privileges are missing, so the "auto" chain can fall back
// to AF_PACKET.
//
// Zero-copy needs driver support; veth has none, so on veth sockets run in
// copy mode ("zero-copy: operation not supported").
//
// # Timestamps
//
// AF_XDP descriptors carry no timestamp. [capture.Frame].TS is the time
// ReadBatch took the batch off the RX ring, shared by the batch's frames:
// later than the arrival by the reader's latency, never earlier.
//
// # The one mistake
//
// AF_XDP takes frames away from the kernel stack: a redirected frame is
// not seen by the host's sockets. Use it on dedicated capture interfaces
// (mirror or TAP ports) or restrict it with the port pre-filter; on a host
// interface use afpacket. Second: [capture.Frame].Data points into the
// UMEM and is handed back to the kernel on the next ReadBatch; copy what
// must outlive the batch. A reader that stalls runs the fill ring dry and
// the kernel drops ([XDPStats]).
//
// # Namespaces
//
// LoadProgram, Open and OpenAll act in the network namespace of the
// calling thread (interface names, bpf_link and socket binding); lock an
// OS thread into the namespace to call them. Reading, statistics and Close
// then work from any thread.
package afxdp
