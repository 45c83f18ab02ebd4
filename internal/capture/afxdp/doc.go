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
