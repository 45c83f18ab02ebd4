// Package libpcap is the live-capture backend built on libpcap (cgo): it
// opens an interface with pktvisor's settings (snaplen 1000, immediate mode,
// 10 ms buffer timeout, 16 MiB kernel buffer), compiles an optional tcpdump
// filter into the kernel, and delivers frames in batches through
// [capture.Source].
//
// # Batches and memory
//
// [Source.ReadBatch] makes one cgo call per batch: a small C helper drains
// up to len(frames) packets with pcap_dispatch and copies them into one
// Go-owned arena, so the returned frames alias that arena and stay valid
// until the next ReadBatch or Close. When nothing is pending the same call
// waits in poll(2) on the capture descriptor, for at most the configured
// Timeout (a heartbeat: 0 frames, nil error) and never longer than 100 ms
// before ctx is checked again. ReadBatch does not allocate.
//
// # Build
//
// The backend needs cgo and libpcap-dev. Builds without cgo, or with the
// nolibpcap tag, compile a stub whose [Open], [Version] and
// [InterfaceAddrs] return errors wrapping [capture.ErrNotSupported], which
// the "auto" fallback chain reads.
//
// # The one mistake
//
// Open captures in the network namespace of the calling OS thread. To
// capture inside another namespace, lock the goroutine to its thread, enter
// the namespace, Open, and switch back: the descriptor stays in the
// namespace it was created in, and the Source may then be used from any
// goroutine.
package libpcap
