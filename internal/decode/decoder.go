package decode

import "errors"

// Errors returned by [Decoder.Decode]. A packet for which Decode returns an
// error may still have some fields filled in (for example L3 and the
// addresses when the transport header is cut short).
var (
	ErrUnsupportedLink = errors.New("unsupported link type")
	ErrTruncated       = errors.New("truncated packet")
	ErrMalformed       = errors.New("malformed packet")
)

// Config configures a [Decoder].
type Config struct {
	// Hosts decides packet direction; empty means every packet is DirUnknown.
	Hosts HostSpec
	// MaxFragDatagrams bounds the IP datagrams under reassembly at once
	// (default 1024). When full, the oldest is evicted and counted.
	MaxFragDatagrams int
	// FragTimeoutNanos drops incomplete datagrams older than this in event
	// time (default 30 s).
	FragTimeoutNanos int64
}

// Stats counts what the decoder saw and dropped. All fields only grow.
type Stats struct {
	Packets       uint64 // frames given to Decode
	Unsupported   uint64 // unknown link or network protocol (not an error for L3)
	Truncated     uint64 // frames cut short inside a header
	Malformed     uint64 // impossible header values
	Fragments     uint64 // IP fragments seen
	Reassembled   uint64 // datagrams completed from fragments
	FragEvicted   uint64 // incomplete datagrams evicted for room
	FragTimedOut  uint64 // incomplete datagrams dropped after the timeout
	FragDiscarded uint64 // fragments refused (overlap, too large, bad offset)
}

// Defaults for [Config] fields left zero.
const (
	DefaultMaxFragDatagrams = 1024
	DefaultFragTimeoutNanos = int64(30e9)
)

// Decoder decodes frames into [Packet] values and reassembles IP fragments.
// A Decoder is not safe for concurrent use: give each worker its own.
// After the fragment table has warmed up, Decode does not allocate.
type Decoder struct {
	hosts      HostSpec
	stats      Stats
	frags      fragTable
	src4, dst4 uint32 // the last IPv4 header's addresses, for direction
}

// NewDecoder returns a Decoder for cfg; zero fields of cfg take the
// defaults [DefaultMaxFragDatagrams] and [DefaultFragTimeoutNanos].
func NewDecoder(cfg Config) *Decoder {
	if cfg.MaxFragDatagrams <= 0 {
		cfg.MaxFragDatagrams = DefaultMaxFragDatagrams
	}
	if cfg.FragTimeoutNanos <= 0 {
		cfg.FragTimeoutNanos = DefaultFragTimeoutNanos
	}
	return &Decoder{
		hosts: cfg.Hosts,
		frags: fragTable{max: cfg.MaxFragDatagrams, timeout: cfg.FragTimeoutNanos},
	}
}

// Decode resets p and fills it from the frame data of link type lt,
// captured at ts (Unix nanoseconds, event time) with wireLen bytes on the
// wire. p keeps pointers into data (and, for a reassembled datagram, into
// the Decoder's buffer) that are valid until the next call to Decode.
//
// Decode returns nil for a frame decoded as far as its headers go,
// including frames whose network protocol is not IP (p.L3 is then
// [L3Unknown] and Stats.Unsupported counts it). Otherwise it returns one of
// [ErrUnsupportedLink], [ErrTruncated] (p.Truncated is set) or
// [ErrMalformed], unwrapped so that the call never allocates, with the
// fields parsed so far filled in. Decode never panics.
func (d *Decoder) Decode(lt LinkType, data []byte, ts int64, wireLen int, p *Packet) error {
	*p = Packet{TS: ts, WireLen: wireLen, CapLen: len(data), Data: data}
	d.stats.Packets++
	err := d.decode(lt, data, ts, p)
	switch {
	case p.L3 == L3IPv4 && !d.hosts.Empty():
		// Straight from the header words: no address conversion.
		p.Dir = d.hosts.direction4(d.src4, d.dst4)
	case p.L3 != L3Unknown:
		p.Dir = d.hosts.Direction(p.SrcIP, p.DstIP)
	}
	switch err {
	case nil:
	case ErrTruncated:
		p.Truncated = true
		d.stats.Truncated++
	case ErrMalformed:
		d.stats.Malformed++
	case ErrUnsupportedLink:
		d.stats.Unsupported++
	}
	return err
}

// decode runs the link and network layers.
func (d *Decoder) decode(lt LinkType, data []byte, ts int64, p *Packet) error {
	b, np, err := link(lt, data, p)
	if err != nil {
		return err
	}
	if np == netByVersion {
		if len(b) == 0 {
			return ErrTruncated
		}
		switch b[0] >> 4 {
		case 4:
			np = netIPv4
		case 6:
			np = netIPv6
		default:
			np = netOther
		}
	}
	switch np {
	case netIPv4:
		return d.ipv4(b, ts, p)
	case netIPv6:
		return d.ipv6(b, ts, p)
	}
	d.stats.Unsupported++
	return nil
}

// Stats returns the counters accumulated since the Decoder was made.
func (d *Decoder) Stats() Stats { return d.stats }
