package reader

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pktvisor-go/pktvisor/internal/capture/pcapfile"
	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/policy"
)

// Batches handed from the reading goroutine to a worker.
const (
	batchFrames = 256
	batchBytes  = 256 << 10
)

type bframe struct {
	link         decode.LinkType
	off, n, wire int
	ts           int64
}

type batch struct {
	buf    []byte
	frames []bframe
}

func (b *batch) full(n int) bool {
	return len(b.frames) == batchFrames || len(b.buf)+n > batchBytes
}

// readParallel reads the file on this goroutine and spreads frames over
// the shards' pipelines by flow hash; each shard runs on its own goroutine
// and ends at the file's last packet time.
func readParallel(ctx context.Context, r *pcapfile.Reader, shards []*shard, cfg Config) error {
	w := len(shards)
	work := make([]chan *batch, w)
	free := make(chan *batch, w*4)
	for i := 0; i < w*4; i++ {
		free <- &batch{buf: make([]byte, 0, batchBytes), frames: make([]bframe, 0, batchFrames)}
	}
	var started bool
	var firstTS, lastTS int64
	begin := make(chan int64, w)
	var wg sync.WaitGroup
	for i, sh := range shards {
		work[i] = make(chan *batch, 4)
		wg.Add(1)
		go func(ch chan *batch, pipe *policy.Pipeline) {
			defer wg.Done()
			if ts, ok := <-begin; ok {
				pipe.Begin(ts)
			}
			for b := range ch {
				for _, f := range b.frames {
					pipe.Frame(f.link, b.buf[f.off:f.off+f.n], f.ts, f.wire)
				}
				b.buf, b.frames = b.buf[:0], b.frames[:0]
				free <- b
			}
		}(work[i], sh.pipe)
	}
	cur := make([]*batch, w)
	for i := range cur {
		cur[i] = <-free
	}

	var rec pcapfile.Record
	size := r.Size()
	var n, lastN uint64
	last := time.Now()
	lastLink := r.LinkType()
	var readErr error
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("%s: %w", cfg.File, err)
			break
		}
		if rec.LinkType != lastLink {
			if !decode.LinkType(rec.LinkType).Supported() {
				readErr = fmt.Errorf("%s: at byte offset %d: unsupported link type %d (supported: %s)",
					cfg.File, rec.Offset, rec.LinkType, supportedLinks)
				break
			}
			lastLink = rec.LinkType
		}
		if !started {
			started = true
			firstTS = rec.TS
			for range w {
				begin <- firstTS
			}
		}
		lastTS = max(lastTS, rec.TS)
		lt := decode.LinkType(rec.LinkType)
		i := int(decode.FlowHash(lt, rec.Data) % uint64(w))
		b := cur[i]
		if b.full(len(rec.Data)) {
			work[i] <- b
			b = <-free
			cur[i] = b
		}
		b.frames = append(b.frames, bframe{link: lt, off: len(b.buf), n: len(rec.Data), wire: rec.WireLen, ts: rec.TS})
		b.buf = append(b.buf, rec.Data...)
		n++
		if n&0xffff == 0 {
			if ctx.Err() != nil {
				readErr = ErrInterrupted
				break
			}
			if cfg.Progress != nil {
				if now := time.Now(); now.Sub(last) >= 250*time.Millisecond {
					pct := 0.0
					if size > 0 {
						pct = 100 * float64(r.Offset()) / float64(size)
					}
					fmt.Fprintf(cfg.Progress, "\r\033[K%d packets, %.0f packets/s, %.1f%%", n,
						float64(n-lastN)/now.Sub(last).Seconds(), pct)
					last, lastN = now, n
				}
			}
		}
	}
	for i, b := range cur {
		if len(b.frames) > 0 {
			work[i] <- b
		}
		close(work[i])
	}
	close(begin)
	wg.Wait()
	if started {
		for _, sh := range shards {
			sh.pipe.EndAt(lastTS)
		}
	}
	return readErr
}
