package dns

import "github.com/pktvisor-go/pktvisor/internal/handler"

// Snapshot implements handler.Snapshotter.
func (h *V1) Snapshot(win bool, n int, now int64) (handler.Snap, error) {
	return handler.SnapshotOf(h.win, func() *bucket { return newBucket(h.bounds) }, win, n, now, h.render)
}
