// Package afpacket captures frames from a Linux network interface through
// an AF_PACKET socket with a TPACKET_V3 receive ring, in pure Go (no cgo, no
// libpcap). A [Source] implements [capture.Source].
//
// # How it works
//
// [Open] creates one packet socket, maps a ring of [Config.NumBlocks] blocks
// of [Config.BlockSize] bytes shared with the kernel, and binds it to the
// interface for all protocols (ETH_P_ALL, both directions). The kernel fills
// a block with frames and hands it over when it is full or when
// [Config.BlockTimeout] has passed since its first frame; [Source.ReadBatch]
// returns the frames of one block at a time without copying them and gives
// the block back to the kernel on the next call. [OpenGroup] opens one
// socket per worker in one PACKET_FANOUT group, so the kernel spreads the
// interface's frames over the workers (by flow hash, round robin, CPU or
// queue).
//
// Filtering happens in the kernel with a classic BPF program
// ([Config.Filter]) that the caller compiles; the program's return value is
// the number of bytes kept. Sockets start with a drop-all program and get
// the real one only after they are bound (and have joined their fanout
// group), so no frame that the filter rejects, and no frame a group member
// would see twice, slips in while a socket is being set up.
//
// The package builds on Linux only. Requirements: Linux ≥ 3.2 (TPACKET_V3), ≥ 3.1 for fanout, ≥ 4.4 for a
// kernel-assigned fanout group id, and CAP_NET_RAW. Missing support and
// missing privilege come back as errors wrapping [capture.ErrNotSupported],
// so the "auto" chain can fall back to libpcap.
//
// # Ownership
//
// The mistake to avoid: [capture.Frame].Data points into the shared ring.
// The kernel may overwrite it as soon as the next ReadBatch (or Close)
// returns the block to the kernel. Copy a frame that must outlive the batch.
// Holding a batch for long also holds its block: the kernel then runs out of
// blocks and drops (counted in [capture.Stats].Drops).
//
// # Namespaces
//
// A socket belongs to the network namespace of the thread that opened it.
// To capture in another namespace, open the source on an OS thread locked
// into it (runtime.LockOSThread and setns); reading, statistics and Close
// then work from any thread.
package afpacket
