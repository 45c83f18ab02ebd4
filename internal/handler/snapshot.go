package handler

import "github.com/pktvisor-go/pktvisor/internal/window"

// Snap is a handler's metrics for one bucket or window, copied out of the
// handler: it can be merged with the Snaps of the same handler's other
// shards (one per capture worker) and rendered from any goroutine.
type Snap interface {
	// Merge adds o, a Snap of the same handler type, into the receiver.
	Merge(o Snap)
	// Render returns the handler's JSON object (nil when every metric group
	// is disabled).
	Render() map[string]any
}

// Snapshotter is implemented by handlers whose shards can be merged.
type Snapshotter interface {
	// Snapshot copies period n (window false: bucket n; true: the merged
	// window of n periods). It runs on the goroutine that owns the handler.
	Snapshot(window bool, n int, now int64) (Snap, error)
}

// WindowSnap is the Snap of a handler kept in a window.Manager.
type WindowSnap[B window.Bucket[B]] struct {
	B      B
	Period window.Period
	render func(B, window.Period) map[string]any
}

// Merge implements Snap. Shards cover the same periods, so the merged
// period spans the earliest start to the latest end (lengths are not added
// as they are when consecutive buckets form a window).
func (s *WindowSnap[B]) Merge(o Snap) {
	os := o.(*WindowSnap[B])
	s.B.Merge(os.B)
	if os.Period.StartTS < s.Period.StartTS {
		s.Period.StartTS = os.Period.StartTS
	}
	if os.Period.EndTS > s.Period.EndTS {
		s.Period.EndTS = os.Period.EndTS
	}
	s.Period.Length = max(s.Period.Length, os.Period.Length)
	s.Period.Live = s.Period.Live || os.Period.Live
}

// Render implements Snap.
func (s *WindowSnap[B]) Render() map[string]any { return s.render(s.B, s.Period) }

// SnapshotOf copies bucket n, or the window of n periods, out of m into a
// WindowSnap rendered by render (which must only read immutable handler
// configuration, since it may run on another goroutine).
func SnapshotOf[B window.Bucket[B]](m *window.Manager[B], newB func() B, win bool, n int, now int64,
	render func(B, window.Period) map[string]any) (Snap, error) {
	if win {
		b, p, err := m.Window(n, now)
		if err != nil {
			return nil, err
		}
		return &WindowSnap[B]{B: b, Period: p, render: render}, nil
	}
	b, p, err := m.Bucket(n, now)
	if err != nil {
		return nil, err
	}
	c := newB()
	c.Merge(b)
	return &WindowSnap[B]{B: c, Period: p, render: render}, nil
}

// BucketOf renders bucket n of m as plain JSON (see [Plain]).
func BucketOf[B window.Bucket[B]](m *window.Manager[B], n int, now int64, render func(B, window.Period) map[string]any) (map[string]any, error) {
	b, p, err := m.Bucket(n, now)
	if err != nil {
		return nil, err
	}
	return Plain(render(b, p)), nil
}

// WindowOf renders the merged window of n periods of m as plain JSON.
func WindowOf[B window.Bucket[B]](m *window.Manager[B], n int, now int64, render func(B, window.Period) map[string]any) (map[string]any, error) {
	b, p, err := m.Window(n, now)
	if err != nil {
		return nil, err
	}
	return Plain(render(b, p)), nil
}
