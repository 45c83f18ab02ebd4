// Package mock is a capture source for tests: it delivers frames it is
// given (or that a test pushes while it runs), then heartbeats.
package mock

import (
	"context"
	"sync"
	"time"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// Source delivers pushed frames in order. After the queue empties it
// returns empty batches every Timeout (a heartbeat) until closed.
type Source struct {
	Link    uint32
	Timeout time.Duration

	mu      sync.Mutex
	queue   []capture.Frame
	wake    chan struct{}
	closed  bool
	packets uint64
	drops   uint64
}

// New returns a source of Ethernet frames with a 10 ms heartbeat.
func New() *Source {
	return &Source{Link: 1, Timeout: 10 * time.Millisecond, wake: make(chan struct{}, 1)}
}

// Push queues frames (copied).
func (s *Source) Push(frames ...capture.Frame) {
	s.mu.Lock()
	for _, f := range frames {
		f.Data = append([]byte(nil), f.Data...)
		s.queue = append(s.queue, f)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Pending returns how many pushed frames are not yet delivered.
func (s *Source) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// AddDrops adds to the drop counter Stats reports.
func (s *Source) AddDrops(n uint64) {
	s.mu.Lock()
	s.drops += n
	s.mu.Unlock()
}

// ReadBatch implements capture.Source.
func (s *Source) ReadBatch(ctx context.Context, frames []capture.Frame) (int, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return 0, context.Canceled
		}
		if len(s.queue) > 0 {
			n := copy(frames, s.queue)
			s.queue = s.queue[n:]
			s.packets += uint64(n)
			s.mu.Unlock()
			return n, nil
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-s.wake:
		case <-time.After(s.Timeout):
			return 0, nil
		}
	}
}

// LinkType implements capture.Source.
func (s *Source) LinkType() uint32 { return s.Link }

// Stats implements capture.Source.
func (s *Source) Stats() (capture.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return capture.Stats{Packets: s.packets, Drops: s.drops}, nil
}

// Close implements capture.Source.
func (s *Source) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}
