package dns

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/sketch"
)

// wireQuery returns a DNS message with one question for name (dotted,
// no trailing dot) and the given flags and answer count; the answer
// section itself is left out (only the header and question are parsed).
func wireQuery(name string, flags, ancount uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0x1234)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, ancount)
	b = append(b, 0, 0, 0, 0)
	for len(name) > 0 {
		l, rest, _ := strings.Cut(name, ".")
		b = append(b, byte(len(l)))
		b = append(b, l...)
		name = rest
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, 1) // A
	return binary.BigEndian.AppendUint16(b, 1)
}

// TestNameTallyMatchesDirect feeds the same messages to one bucket through
// the nameTally and to another one sketch update at a time, and checks
// that every qname-keyed sketch reports the same: with mid-period flushes
// (renders), and with more distinct names than a TopN holds, where
// batching must stop before the first purge.
func TestNameTallyMatchesDirect(t *testing.T) {
	tests := []struct {
		name       string
		pool, n    int
		flushEvery int
	}{
		{name: "few names", pool: 300, n: 20000},
		{name: "few names, flushed", pool: 300, n: 20000, flushEvery: 2500},
		{name: "over the limit", pool: 40000, n: 60000},
		{name: "over the limit, flushed", pool: 40000, n: 60000, flushEvery: 4000},
	}
	h, err := NewV1(handler.Options{Config: map[string]any{}, Enable: []string{"top_qnames_details"}})
	if err != nil {
		t.Fatal(err)
	}
	rcodes := []uint16{dnsmsg.RcodeNoError, dnsmsg.RcodeNoError, dnsmsg.RcodeNXDomain, dnsmsg.RcodeServFail, dnsmsg.RcodeRefused}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(tt.pool)))
			batched, direct := newBucket(h.bounds), newBucket(h.bounds)
			var msg dnsmsg.Message
			for i := range tt.n {
				r := rng.Float64()
				k := int(r * r * float64(tt.pool))
				name := fmt.Sprintf("h%d.d%d.z%d.example", k, k%97, k%5)
				var flags uint16
				if rng.IntN(2) == 0 {
					flags = dnsmsg.FlagQR | rcodes[rng.IntN(len(rcodes))]
				}
				wire := wireQuery(name, flags, uint16(rng.IntN(2)))
				if err := msg.Parse(wire, dnsmsg.ParseOptions{}); err != nil {
					t.Fatal(err)
				}
				ev := event.DNS{Msg: &msg, Size: len(wire) + rng.IntN(100)}
				h.nameUpdate(batched, &ev, msg.QName(), 0)
				h.nameUpdateDirect(direct, &ev, msg.QName(), 0)
				if tt.flushEvery > 0 && i%tt.flushEvery == 0 {
					batched.flush()
				}
			}
			batched.flush()
			gt, wt := batched.nameTops(), direct.nameTops()
			for s := range numSinks {
				if s == sinkCard {
					if g, w := batched.qnameCard.Estimate(), direct.qnameCard.Estimate(); g != w {
						t.Errorf("cardinality = %d, want %d", g, w)
					}
					continue
				}
				compareTopN(t, s, wt[s], gt[s])
			}
			if tt.pool > topNLimit && wt[sinkQname2].MaxError() == 0 && wt[sinkRespBytes].MaxError() == 0 {
				t.Error("no purge happened: the test does not cover the limit")
			}
		})
	}
}

// compareTopN fails unless got reports exactly what want does; at names
// the position or sink, for messages.
func compareTopN(t *testing.T, at int, want, got *sketch.TopN) {
	t.Helper()
	if got.Total() != want.Total() || got.MaxError() != want.MaxError() || got.Len() != want.Len() {
		t.Fatalf("after %d: total/maxError/len = %d/%d/%d, want %d/%d/%d", at,
			got.Total(), got.MaxError(), got.Len(), want.Total(), want.MaxError(), want.Len())
	}
	gi, wi := got.Items(nil), want.Items(nil)
	if !slices.EqualFunc(gi, wi, func(a, b sketch.Item) bool {
		return string(a.Key) == string(b.Key) && a.Estimate == b.Estimate
	}) {
		t.Fatalf("after %d: items differ", at)
	}
}
