package dhcp

// DHCPv4 REQUEST→ACK transactions are kept in a fixed-size,
// set-associative table keyed by xid: xactSets sets of xactWays entries.
// An xid hashes to one set; a new REQUEST takes an empty or expired way of
// its set, or evicts the set's oldest entry (counted). The table is
// allocated on the first REQUEST and never grows, so the per-packet path
// does not allocate.
const (
	xactWays     = 4
	xactSetsLog2 = 11
	xactSets     = 1 << xactSetsLog2
	// XactCapacity is the most DHCPv4 transactions one handler tracks.
	XactCapacity = xactSets * xactWays
	// maxHostname is the longest option 12 (its length is one byte).
	maxHostname = 255
)

// xact is one pending REQUEST.
type xact struct {
	ts      int64 // event time of the REQUEST, Unix nanoseconds
	xid     uint32
	used    bool
	hlen    uint8 // bytes of chaddr in use
	hostLen uint8 // bytes of host in use; 0 = no (or an empty) hostname option
	chaddr  [16]byte
	host    [maxHostname]byte
}

// XactStats counts what happened to DHCPv4 transactions since the handler
// started.
type XactStats struct {
	Pending uint64 // REQUESTs waiting for their ACK now
	Matched uint64 // ACKs that found their REQUEST
	Expired uint64 // REQUESTs dropped after the TTL without an ACK
	Evicted uint64 // REQUESTs pushed out of a full set before the TTL
}

// xactTable is the bounded transaction table. It is single-goroutine.
type xactTable struct {
	slots []xact // xactSets*xactWays, nil until the first insert
	ttl   int64  // nanoseconds
	stats XactStats
}

// setIndex is the set xid hashes to (Fibonacci hashing, so sequential xids
// spread over sets).
func setIndex(xid uint32) int { return int((xid * 0x9e3779b1) >> (32 - xactSetsLog2)) }

// set returns the ways of the set xid hashes to.
func (t *xactTable) set(xid uint32) []xact {
	i := setIndex(xid)
	return t.slots[i*xactWays : (i+1)*xactWays : (i+1)*xactWays]
}

// expired reports whether an entry recorded at ts is past the TTL at now.
func (t *xactTable) expired(ts, now int64) bool { return now-ts > t.ttl }

// insert records a REQUEST at now. A pending entry with the same xid is
// replaced (a retransmission). chaddr and host are copied.
func (t *xactTable) insert(xid uint32, now int64, chaddr, host []byte) {
	if t.slots == nil {
		t.slots = make([]xact, xactSets*xactWays)
	}
	set := t.set(xid)
	var slot *xact
	for i := range set {
		e := &set[i]
		if e.used && e.xid == xid {
			slot = e
			t.stats.Pending--
			break
		}
	}
	if slot == nil {
		for i := range set {
			e := &set[i]
			if !e.used {
				slot = e
				break
			}
			if t.expired(e.ts, now) {
				t.stats.Expired++
				t.stats.Pending--
				slot = e
				break
			}
		}
	}
	if slot == nil {
		slot = &set[0]
		for i := 1; i < len(set); i++ {
			if set[i].ts < slot.ts {
				slot = &set[i]
			}
		}
		t.stats.Evicted++
		t.stats.Pending--
	}
	slot.used, slot.xid, slot.ts = true, xid, now
	slot.hlen = uint8(copy(slot.chaddr[:], chaddr))
	slot.hostLen = uint8(copy(slot.host[:], host))
	t.stats.Pending++
}

// take removes and returns the pending REQUEST with xid, if it has not
// expired at now. The returned entry is valid until the next insert.
func (t *xactTable) take(xid uint32, now int64) (*xact, bool) {
	if t.slots == nil || t.stats.Pending == 0 {
		return nil, false
	}
	set := t.set(xid)
	for i := range set {
		e := &set[i]
		if !e.used || e.xid != xid {
			continue
		}
		e.used = false
		t.stats.Pending--
		if t.expired(e.ts, now) {
			t.stats.Expired++
			return nil, false
		}
		t.stats.Matched++
		return e, true
	}
	return nil, false
}

// purge drops every entry expired at now.
func (t *xactTable) purge(now int64) {
	if t.stats.Pending == 0 {
		return
	}
	for i := range t.slots {
		e := &t.slots[i]
		if e.used && t.expired(e.ts, now) {
			e.used = false
			t.stats.Expired++
			t.stats.Pending--
		}
	}
}
