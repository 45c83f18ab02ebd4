package tcpasm

import (
	"github.com/pktvisor-go/pktvisor/internal/decode"
	"reflect"
	"testing"
)

func TestDNSFramer(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"empty", "", 0},
		{"one byte", "\x00", 0},
		{"prefix only", "\x00\x03", 0},
		{"partial body", "\x00\x03ab", 0},
		{"whole", "\x00\x03abc", 5},
		{"whole plus more", "\x00\x03abc\x00\x01", 5},
		{"zero length", "\x00\x00abc", -1},
		{"max length needs more", "\xff\xff", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DNSFramer([]byte(tt.in)); got != tt.want {
				t.Errorf("DNSFramer(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	got := New(Config{StripPrefix: -1}, DNSFramer, func(*decode.Packet, bool, []byte) {}).Config()
	want := Config{
		MaxFlows:         300_000,
		IdleTimeoutNanos: 30e9,
		MaxOutOfOrder:    50,
		MaxBuffered:      131074,
		MaxBufferedTotal: 8 << 20,
		MaxTombstones:    65536,
	}
	if got != want {
		t.Errorf("Config() = %+v, want %+v", got, want)
	}
}

func TestTombstoneDefault(t *testing.T) {
	tests := []struct {
		name          string
		maxFlows, set int
		want          int
	}{
		{"tiny table", 2, 0, 1024},
		{"small table", 10, 0, 1024},
		{"medium table", 5000, 0, 5000},
		{"default table", 0, 0, 65536},
		{"set explicitly", 10, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := New(Config{MaxFlows: tt.maxFlows, MaxTombstones: tt.set}, DNSFramer, func(*decode.Packet, bool, []byte) {}).Config()
			if cfg.MaxTombstones != tt.want {
				t.Errorf("MaxTombstones = %d, want %d", cfg.MaxTombstones, tt.want)
			}
		})
	}
}

const sec = int64(1e9)

// at sets the time and client port of sg.
func at(ts int64, port uint16, sg seg) seg { sg.ts, sg.port = ts, port; return sg }

func TestAssembler(t *testing.T) {
	dnsCfg := Config{StripPrefix: DNSPrefixLen}
	m10 := dns("abcdefghij")       // 12 bytes
	m16 := dns("abcdefghijklmnop") // 18 bytes
	wrapISN := uint32(0xfffffff8)
	join := func(parts ...[]seg) []seg {
		var out []seg
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cli := func(msg string, ts int64) emitted { return emitted{true, msg, ts, cliPort} }
	srv := func(msg string, ts int64) emitted { return emitted{false, msg, ts, srvPort} }

	tests := []struct {
		name     string
		cfg      Config
		segs     []seg
		closeAll bool
		want     []emitted
		stats    Stats
	}{
		{
			name: "message in one segment each way, FIN both",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, dns("query")),
				s(5001, psh, dns("answer!")),
				c(1008, finAck, ""),
				s(5010, finAck, ""),
				c(1009, ack, ""),
			}),
			want:  []emitted{cli("query", 4000), srv("answer!", 5000)},
			stats: Stats{Opened: 1, Closed: 1, Messages: 2},
		},
		{
			name:  "two messages in one segment",
			cfg:   dnsCfg,
			segs:  join(handshake(), []seg{c(1001, psh, dns("q1")+dns("q2"))}),
			want:  []emitted{cli("q1", 4000), cli("q2", 4000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 2},
		},
		{
			name: "one message over three segments",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, m10[:4]), c(1005, psh, m10[4:8]), c(1009, psh, m10[8:]),
			}),
			want:  []emitted{cli("abcdefghij", 6000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 1},
		},
		{
			name: "length prefix split 1+1",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, dns("xyz")[:1]), c(1002, psh, dns("xyz")[1:2]), c(1003, psh, "xyz"),
				c(1006, psh, dns("next")),
			}),
			want:  []emitted{cli("xyz", 6000), cli("next", 7000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 2},
		},
		{
			name: "out of order 3,1,2",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1009, psh, m10[8:]), c(1001, psh, m10[:4]), c(1005, psh, m10[4:8]),
			}),
			want:  []emitted{cli("abcdefghij", 6000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 1, OutOfOrder: 1},
		},
		{
			name: "duplicate segment",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, dns("q1")), c(1001, psh, dns("q1")), c(1005, psh, dns("q2")),
			}),
			want:  []emitted{cli("q1", 4000), cli("q2", 6000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 2, Retransmits: 1},
		},
		{
			name: "duplicate of a held segment",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1005, psh, dns("q2")), c(1005, psh, dns("q2")), c(1001, psh, dns("q1")),
			}),
			want:  []emitted{cli("q1", 6000), cli("q2", 6000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 2, OutOfOrder: 2, Retransmits: 1},
		},
		{
			name: "overlapping segment",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, m16[:10]), c(1006, psh, m16[5:]), c(1019, psh, dns("z")),
			}),
			want:  []emitted{cli("abcdefghijklmnop", 5000), cli("z", 6000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 2},
		},
		{
			name: "overlapping held segments",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1011, psh, m16[10:]), c(1006, psh, m16[5:14]), c(1001, psh, m16[:5]),
			}),
			want:  []emitted{cli("abcdefghijklmnop", 6000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 1, OutOfOrder: 2},
		},
		{
			name: "hole never filled, given up at FIN",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, dns("q1")),
				// q2 at 1005 lost
				c(1009, psh, dns("q3")),
				c(1013, psh, dns("q4")),
				c(1017, finAck, ""),
				s(5001, psh, dns("r1")),
			}),
			want:  []emitted{cli("q1", 4000), cli("q3", 7000), cli("q4", 7000), srv("r1", 8000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 4, Errors: 1, OutOfOrder: 2},
		},
		{
			name: "hole behind a partial message, given up on overflow",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxOutOfOrder: 2},
			segs: join(handshake(), []seg{
				c(1001, psh, dns("q1")),
				c(1005, psh, dns("q2")[:2]),
				// rest of q2 at 1007 lost
				c(1009, psh, dns("q3")),
				c(1013, psh, dns("q4")),
				c(1017, psh, dns("q5")),
				c(1021, psh, dns("q6")),
			}),
			want: []emitted{
				cli("q1", 4000), cli("q3", 8000), cli("q4", 8000), cli("q5", 8000), cli("q6", 9000),
			},
			stats: Stats{Flows: 1, Opened: 1, Messages: 5, Errors: 1, OutOfOrder: 3},
		},
		{
			name: "two holes given up on at close",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1005, psh, dns("q2")),
				c(1013, psh, dns("q4")),
			}),
			closeAll: true,
			want:     []emitted{cli("q2", 5000), cli("q4", 5000)},
			stats:    Stats{Opened: 1, Closed: 1, Messages: 2, Errors: 2, OutOfOrder: 2},
		},
		{
			name: "RST mid-message",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, dns("abcdef")[:4]),
				c(1005, rstFl, ""),
				c(1005, psh, "ef"), // after the flow is gone: mid-message start
			}),
			want:  nil,
			stats: Stats{Flows: 1, Opened: 2, Closed: 1, Errors: 1, Buffered: 512},
		},
		{
			name: "RST by client frames server's held data with a synthetic packet",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				s(5001, psh, dns("r1")),
				// r2 at 5005 lost
				s(5009, psh, dns("r3")),
				c(1001, rstFl, ""),
			}),
			want:  []emitted{srv("r1", 4000), srv("r3", 6000)},
			stats: Stats{Opened: 1, Closed: 1, Messages: 2, Errors: 1, OutOfOrder: 1},
		},
		{
			name: "FIN with data; data after FIN ignored",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, finAck|psh, dns("last")),
				c(1008, psh, dns("late")),
				c(1001, psh, dns("last")),
				s(5001, psh|finAck, dns("bye")),
			}),
			want:  []emitted{cli("last", 4000), srv("bye", 7000)},
			stats: Stats{Opened: 1, Closed: 1, Messages: 2, Retransmits: 1},
		},
		{
			name:  "FIN with partial message",
			cfg:   dnsCfg,
			segs:  join(handshake(), []seg{c(1001, finAck|psh, dns("cut")[:3])}),
			want:  nil,
			stats: Stats{Flows: 1, Opened: 1, Errors: 1},
		},
		{
			name: "no SYN seen: first seen side is the client",
			cfg:  dnsCfg,
			segs: []seg{
				s(700000, psh, dns("resp")),
				c(300000, psh, dns("q")),
				s(700006, psh, dns("resp2")),
				c(300003, ack, ""),
			},
			want:  []emitted{{true, "resp", 1000, srvPort}, {false, "q", 2000, cliPort}, {true, "resp2", 3000, srvPort}},
			stats: Stats{Flows: 1, Opened: 1, Messages: 3},
		},
		{
			name: "bare ACK and FIN of unknown flows open nothing",
			cfg:  dnsCfg,
			segs: []seg{c(1, ack, ""), s(2, finAck, ""), c(3, rstFl, "")},
		},
		{
			name:  "SYN+ACK first makes the receiver the client",
			cfg:   dnsCfg,
			segs:  []seg{s(srvISN, synAck, ""), c(cliISN+1, psh, dns("q")), s(srvISN+1, psh, dns("r"))},
			want:  []emitted{cli("q", 2000), srv("r", 3000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 2},
		},
		{
			name: "sequence wraparound in order",
			cfg:  dnsCfg,
			segs: []seg{
				c(wrapISN, synFl, ""), s(srvISN, synAck, ""),
				c(wrapISN+1, psh, m16[:10]), c(3, psh, m16[10:]), c(11, psh, dns("w")),
			},
			want:  []emitted{cli("abcdefghijklmnop", 4000), cli("w", 5000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 2},
		},
		{
			name: "sequence wraparound out of order",
			cfg:  dnsCfg,
			segs: []seg{
				c(wrapISN, synFl, ""), s(srvISN, synAck, ""),
				c(3, psh, m16[10:]), c(wrapISN+1, psh, m16[:10]),
			},
			want:  []emitted{cli("abcdefghijklmnop", 4000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 1, OutOfOrder: 1},
		},
		{
			name: "LRU eviction with MaxFlows=2 prefers a flow without pending data",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxFlows: 2},
			segs: []seg{
				at(1000, 40001, c(1001, psh, dns("aaaa")[:3])),
				at(2000, 40002, c(1001, psh, dns("bbbb")[:3])),
				at(3000, 40001, c(1004, psh, dns("aaaa")[3:])), // A is now most recent
				at(4000, 40003, c(1001, psh, dns("cc"))),       // evicts A (clean), not B (partial)
				at(5000, 40002, c(1004, psh, dns("bbbb")[3:])), // completes B
				at(6000, 40001, c(1007, psh, dns("a2"))),       // A resumes at 1007, evicts C
				at(7000, 40003, c(1001, psh, dns("cc"))),       // C's retransmission: resumes C, evicts B
				at(8000, 40003, s(5001, psh, dns("rc"))),       // C's server side, never seen before
			},
			want: []emitted{
				{true, "aaaa", 3000, 40001}, {true, "cc", 4000, 40003}, {true, "bbbb", 5000, 40002},
				{true, "a2", 6000, 40001}, {false, "rc", 8000, srvPort},
			},
			stats: Stats{Flows: 2, Opened: 5, Evicted: 3, Messages: 5, Retransmits: 1, Resumed: 2},
		},
		{
			name: "flow evicted mid-message: its continuation is dropped until a new SYN",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxFlows: 1},
			segs: []seg{
				at(1000, 40001, c(1001, psh, dns("aaaa")[:3])),
				at(2000, 40002, c(1001, psh, dns("bb"))),       // evicts A (partial: error)
				at(3000, 40001, c(1004, psh, dns("aaaa")[3:])), // A resumes mid-message: dropped
				at(4000, 40001, c(1007, psh, dns("a2"))),       // still no known boundary: dropped
				at(5000, 40001, c(1001, psh, dns("aaaa")[:3])), // retransmission
				at(6000, 40001, c(9000, synFl, "")),            // a new connection on the 4-tuple
				at(7000, 40001, c(9001, psh, dns("new"))),
			},
			want:  []emitted{{true, "bb", 2000, 40002}, {true, "new", 7000, 40001}},
			stats: Stats{Flows: 1, Opened: 3, Evicted: 2, Messages: 2, Errors: 1, Retransmits: 1, Resumed: 1, Desynced: 2},
		},
		{
			name: "tombstone older than the idle timeout is not resumed",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxFlows: 1},
			segs: []seg{
				at(1*sec, 40001, c(1001, psh, dns("aaaa")[:3])),
				at(2*sec, 40002, c(1001, psh, dns("bb"))),  // evicts A (partial: error)
				at(40*sec, 40001, c(1007, psh, dns("a2"))), // A's tombstone is stale: a new flow
			},
			want:  []emitted{{true, "bb", 2 * sec, 40002}, {true, "a2", 40 * sec, 40001}},
			stats: Stats{Flows: 1, Opened: 3, Evicted: 2, Messages: 2, Errors: 1},
		},
		{
			name: "tombstone pushed out by newer evictions is forgotten",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxFlows: 1, MaxTombstones: 1},
			segs: []seg{
				at(1000, 40001, c(1001, psh, dns("aa"))),
				at(2000, 40002, c(1001, psh, dns("bb"))), // evicts A
				at(3000, 40003, c(1001, psh, dns("cc"))), // evicts B; B's tombstone replaces A's
				at(4000, 40001, c(1001, psh, dns("aa"))), // A's retransmission looks like a new stream; evicts C
				at(5000, 40003, c(1001, psh, dns("cc"))), // C's is recognised
			},
			want: []emitted{
				{true, "aa", 1000, 40001}, {true, "bb", 2000, 40002}, {true, "cc", 3000, 40003},
				{true, "aa", 4000, 40001},
			},
			stats: Stats{Flows: 1, Opened: 5, Evicted: 4, Messages: 4, Retransmits: 1, Resumed: 1},
		},
		{
			name: "idle timeout",
			cfg:  dnsCfg,
			segs: []seg{
				at(1*sec, 40001, c(1001, psh, dns("aaaa")[:3])),
				at(20*sec, 40002, c(1001, psh, dns("bb"))),
				at(31*sec, 40002, c(1005, psh, dns("b2"))),
				at(32*sec, 40003, c(1001, psh, dns("cc"))), // A idle 31 s: closed
				at(33*sec, 40001, c(1004, psh, dns("aaaa")[3:])),
			},
			want: []emitted{
				{true, "bb", 20 * sec, 40002}, {true, "b2", 31 * sec, 40002}, {true, "cc", 32 * sec, 40003},
			},
			stats: Stats{Flows: 3, Opened: 4, TimedOut: 1, Messages: 3, Errors: 1, Buffered: 512},
		},
		{
			name: "CloseAll with partial data",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, dns("abc")[:3]),
				s(5001, psh, dns("r")),
			}),
			closeAll: true,
			want:     []emitted{srv("r", 5000)},
			stats:    Stats{Opened: 1, Closed: 1, Messages: 1, Errors: 1},
		},
		{
			name:     "CloseAll without partial data",
			cfg:      dnsCfg,
			segs:     join(handshake(), []seg{c(1001, psh, dns("abc")), s(5001, psh, dns("r"))}),
			closeAll: true,
			want:     []emitted{cli("abc", 4000), srv("r", 5000)},
			stats:    Stats{Opened: 1, Closed: 1, Messages: 2},
		},
		{
			name: "framer error on zero length drops the segment",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, "\x00\x00"+dns("q1")),
				c(1007, psh, dns("q2")),
			}),
			want:  []emitted{cli("q2", 5000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 1, Errors: 1},
		},
		{
			name: "framer error inside the buffer",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, dns("q1")[:3]),
				c(1004, psh, dns("q1")[3:]+"\x00\x00xx"),
				c(1009, psh, dns("q2")),
			}),
			want:  []emitted{cli("q1", 5000), cli("q2", 6000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 2, Errors: 1},
		},
		{
			name: "message larger than MaxBuffered",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxBuffered: 8},
			segs: join(handshake(), []seg{
				c(1001, psh, m10[:6]),
				c(1007, psh, m10[6:]),
				c(1013, psh, dns("ok")),
			}),
			want:  []emitted{cli("ok", 6000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 1, Errors: 1},
		},
		{
			name: "partial message exactly MaxBuffered long",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxBuffered: 8},
			segs: join(handshake(), []seg{
				c(1001, psh, m10[:8]), // dropped at once: it cannot complete
				c(1009, psh, dns("ok")),
			}),
			want:  []emitted{cli("ok", 5000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 1, Errors: 1},
		},
		{
			name: "partial message over MaxBufferedTotal: its direction loses sync",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxBufferedTotal: 512},
			segs: join(handshake(), []seg{
				c(1001, psh, dns("abc")[:3]), // buffered: the budget is spent
				s(5001, psh, dns("xyz")[:3]), // cannot be buffered: dropped, server side out of sync
				s(5004, psh, "yz"+dns("r2")), // dropped
				c(1004, psh, "bc"),           // completes abc, frees the buffer
				s(5001, psh, dns("xyz")[:3]), // retransmission
				c(1006, psh, dns("q2")),      // the client side goes on
				s(7000, synAck, ""),          // a new connection's SYN+ACK restarts the server side
				s(7001, psh, dns("new")),
			}),
			want:  []emitted{cli("abc", 7000), cli("q2", 9000), srv("new", 11000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 3, Errors: 1, Retransmits: 1, Desynced: 1, OverBudget: 1, OverBudgetBytes: 3},
		},
		{
			name: "hole given up while the budget is spent: the direction loses sync",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxOutOfOrder: 1, MaxBufferedTotal: 1024},
			segs: join(handshake(), []seg{
				c(1005, psh, dns("q2")[:3]), // held
				s(5001, psh, dns("r")[:2]),  // buffered: the budget is spent
				c(1020, psh, dns("q9")),     // no room: the hole is given up, q2's start cannot be buffered
				c(1024, psh, dns("qa")),
			}),
			want:  nil,
			stats: Stats{Flows: 1, Opened: 1, OutOfOrder: 2, Errors: 2, OverBudget: 1, OverBudgetBytes: 3, Desynced: 2, Buffered: 512},
		},
		{
			name: "held segment over MaxBufferedTotal is dropped",
			cfg:  Config{StripPrefix: DNSPrefixLen, MaxBufferedTotal: 512},
			segs: join(handshake(), []seg{
				c(1005, psh, dns("q2")), // held: the budget is spent
				c(1009, psh, dns("q3")), // dropped
				c(1001, psh, dns("q1")), // fills the hole
				c(1009, psh, dns("q3")), // retransmitted by the sender
			}),
			want:  []emitted{cli("q1", 6000), cli("q2", 6000), cli("q3", 7000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 3, OutOfOrder: 2, OverBudget: 1, OverBudgetBytes: 4},
		},
		{
			name:  "no prefix stripping",
			cfg:   Config{},
			segs:  join(handshake(), []seg{c(1001, psh, dns("q"))}),
			want:  []emitted{cli(dns("q"), 4000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 1},
		},
		{
			name: "new SYN reuses the 4-tuple",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, dns("old")[:2]),
				c(9000, synFl, ""),
				s(8000, synAck, ""),
				c(9001, psh, dns("new")),
				s(8001, psh, dns("ans")),
			}),
			want:  []emitted{cli("new", 7000), srv("ans", 8000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 2, Errors: 1},
		},
		{
			name: "new SYN restarts a direction closed by the old connection",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				s(5001, psh|finAck, dns("old")),
				c(9000, synFl, ""),
				// SYN+ACK not captured
				c(9001, psh, dns("new")),
				s(8001, psh, dns("ans")),
			}),
			want:  []emitted{srv("old", 4000), cli("new", 6000), srv("ans", 7000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 3},
		},
		{
			name: "retransmitted SYN keeps state",
			cfg:  dnsCfg,
			segs: join(handshake(), []seg{
				c(1001, psh, dns("abc")[:2]),
				c(cliISN, synFl, ""),
				c(1003, psh, "abc"),
			}),
			want:  []emitted{cli("abc", 6000)},
			stats: Stats{Flows: 1, Opened: 1, Messages: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			a := New(tt.cfg, DNSFramer, r.emit)
			pkts := packets(t, tt.segs)
			for i := range pkts {
				a.Packet(&pkts[i])
				checkInvariants(t, a)
			}
			if tt.closeAll {
				a.CloseAll()
			}
			if !reflect.DeepEqual(r.got, tt.want) {
				t.Errorf("emitted\n got %+v\nwant %+v", r.got, tt.want)
			}
			if got := a.Stats(); got != tt.stats {
				t.Errorf("Stats()\n got %+v\nwant %+v", got, tt.stats)
			}
		})
	}
}

func TestExpire(t *testing.T) {
	var got []decode.Packet
	var msgs []string
	a := New(Config{StripPrefix: DNSPrefixLen}, DNSFramer, func(p *decode.Packet, fromClient bool, msg []byte) {
		got = append(got, *p)
		msgs = append(msgs, string(msg))
	})
	segs := []seg{
		at(1*sec, 40001, s(5001, psh, dns("r1"))), // server side seen first: it is the "client"
		at(2*sec, 40001, s(5009, psh, dns("r3"))), // held behind a hole
		at(40*sec, 40002, c(1001, psh, dns("q"))),
	}
	pkts := packets(t, segs)
	a.Packet(&pkts[0])
	a.Packet(&pkts[1])
	if n := a.Expire(31 * sec); n != 0 {
		t.Fatalf("Expire(31 s) closed %d flows, want 0", n)
	}
	a.Packet(&pkts[2]) // frames q, then closes the idle flow
	if n := a.Expire(71 * sec); n != 1 {
		t.Fatalf("Expire(71 s) closed %d flows, want 1", n)
	}
	wantMsgs := []string{"r1", "q", "r3"}
	if !reflect.DeepEqual(msgs, wantMsgs) {
		t.Fatalf("messages %q, want %q", msgs, wantMsgs)
	}
	// r3 was framed at the idle close, with the synthetic packet.
	syn := got[2]
	want := decode.Packet{
		TS: 2 * sec, L3: decode.L3IPv4, L4: decode.L4TCP, IPProto: 6,
		SrcIP: srvAddr, DstIP: cliAddr, SrcPort: srvPort, DstPort: 40001,
	}
	if !reflect.DeepEqual(syn, want) {
		t.Errorf("synthetic packet\n got %+v\nwant %+v", syn, want)
	}
	wantStats := Stats{Opened: 2, TimedOut: 2, Messages: 3, Errors: 1, OutOfOrder: 1}
	if st := a.Stats(); st != wantStats {
		t.Errorf("Stats()\n got %+v\nwant %+v", st, wantStats)
	}
}
