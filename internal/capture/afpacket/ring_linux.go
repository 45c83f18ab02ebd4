//go:build linux

package afpacket

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// Offsets in struct tpacket_block_desc (<linux/if_packet.h>): version,
// offset_to_priv, then struct tpacket_hdr_v1 with block_status, num_pkts,
// offset_to_first_pkt.
const (
	blockStatusOff  = 8
	blockNumPktsOff = 12
	blockFirstOff   = 16
	blockDescLen    = 48
)

// tpacket3Size is sizeof(struct tpacket3_hdr).
const tpacket3Size = int(unsafe.Sizeof(unix.Tpacket3Hdr{}))

// ReadBatch fills frames with the frames of the next ring block (or the
// rest of the current one) and returns how many it filled. When no block
// is ready it waits up to [Config.Timeout] in poll(2) and returns 0 and a
// nil error if none became ready (a heartbeat). It returns ctx.Err() when
// ctx is done (checked before and after waiting, so within one timeout),
// and an error wrapping [net.ErrClosed] after [Source.Close].
//
// The frames alias the ring: the call after this one gives their block back
// to the kernel. ReadBatch does not allocate. It satisfies [capture.Source].
func (s *Source) ReadBatch(ctx context.Context, frames []capture.Frame) (int, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.closed.Load() {
		return 0, s.errClosed()
	}
	if len(frames) == 0 {
		return 0, nil
	}
	if s.holding && s.remaining == 0 {
		s.release()
	}
	// A block handed over empty is released at once; at most one round of
	// the ring is walked per call.
	for range s.numBlocks {
		if !s.holding {
			if !s.ready() {
				if err := ctx.Err(); err != nil {
					return 0, err
				}
				if err := s.wait(); err != nil {
					return 0, err
				}
				if !s.ready() {
					return 0, ctx.Err()
				}
			}
			s.take()
		}
		if n := s.fill(frames); n > 0 {
			return n, nil
		}
		s.release()
	}
	return 0, nil
}

// status returns the block_status word of block b for atomic access.
func (s *Source) status(b int) *uint32 {
	return (*uint32)(unsafe.Pointer(&s.ring[b*s.blockSize+blockStatusOff]))
}

// ready reports whether the kernel has handed block cur to user space.
func (s *Source) ready() bool {
	return atomic.LoadUint32(s.status(s.cur))&unix.TP_STATUS_USER != 0
}

// take starts reading block cur, which must be ready.
func (s *Source) take() {
	base := s.cur * s.blockSize
	s.blk = s.ring[base : base+s.blockSize : base+s.blockSize]
	s.holding = true
	s.remaining = int(*(*uint32)(unsafe.Pointer(&s.blk[blockNumPktsOff])))
	s.off = int(*(*uint32)(unsafe.Pointer(&s.blk[blockFirstOff])))
}

// release gives block cur back to the kernel and moves to the next one.
func (s *Source) release() {
	atomic.StoreUint32(s.status(s.cur), unix.TP_STATUS_KERNEL)
	s.holding, s.blk, s.remaining = false, nil, 0
	s.cur++
	if s.cur == s.numBlocks {
		s.cur = 0
	}
}

// fill copies the descriptors of up to len(frames) frames of the held
// block into frames. A header that points outside the block ends the block
// (the kernel never writes one; this keeps a bad ring from panicking).
func (s *Source) fill(frames []capture.Frame) int {
	n := 0
	blk := s.blk
	for n < len(frames) && s.remaining > 0 {
		off := s.off
		if off < blockDescLen || off > len(blk)-tpacket3Size {
			s.remaining = 0
			break
		}
		h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&blk[off]))
		start := off + int(h.Mac)
		end := start + int(h.Snaplen)
		if end > len(blk) {
			s.remaining = 0
			break
		}
		s.off = off + int(h.Next_offset)
		if s.loopback {
			// On loopback every frame is seen twice: leaving (OUTGOING) and
			// coming back in. Keep the incoming copy, as libpcap does.
			// struct sockaddr_ll follows the header at TPACKET_ALIGN(sizeof
			// tpacket3_hdr); sll_pkttype is its byte 10.
			if ll := off + tpacketAlign(tpacket3Size) + 10; ll < len(blk) && blk[ll] == unix.PACKET_OUTGOING {
				s.remaining--
				continue
			}
		}
		data := blk[start:end:end]
		if len(data) > s.snaplen {
			data = data[:s.snaplen]
		}
		frames[n] = capture.Frame{
			Data:    data,
			TS:      int64(h.Sec)*1e9 + int64(h.Nsec),
			WireLen: int(h.Len),
		}
		n++
		s.remaining--
	}
	return n
}

// tpacketAlign is the kernel's TPACKET_ALIGN (16-byte alignment).
func tpacketAlign(x int) int { return (x + 15) &^ 15 }

// wait blocks in poll(2) until the socket is readable, Close signals the
// eventfd, or the timeout passes.
func (s *Source) wait() error {
	s.pfd[0].Revents, s.pfd[1].Revents = 0, 0
	_, err := unix.Poll(s.pfd[:], s.timeoutMs)
	if s.closed.Load() {
		return s.errClosed()
	}
	if err != nil {
		if errors.Is(err, unix.EINTR) {
			return nil
		}
		return fmt.Errorf("read af_packet on %s: poll: %w", s.iface, err)
	}
	if s.pfd[0].Revents&unix.POLLERR != 0 {
		// A pending socket error (ENETDOWN when the interface goes
		// down); reading SO_ERROR clears it.
		soErr, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return fmt.Errorf("read af_packet on %s: read socket error: %w", s.iface, err)
		}
		if soErr == int(unix.ENETDOWN) {
			// The interface went down. The kernel keeps the socket and
			// resumes delivery when it comes back up: count it and go
			// on (the caller sees a heartbeat).
			s.netDown.Add(1)
			return nil
		}
		if soErr != 0 {
			return fmt.Errorf("read af_packet on %s: %w", s.iface, unix.Errno(soErr))
		}
	}
	return nil
}
