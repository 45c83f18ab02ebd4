package dnsmsg

import (
	"errors"
	"net/netip"
)

// Errors returned by [Message.Parse].
var (
	ErrShort      = errors.New("dns message shorter than its header")
	ErrQuestion   = errors.New("dns question malformed")
	ErrName       = errors.New("dns name malformed")
	ErrRecord     = errors.New("dns resource record malformed")
	ErrNoQuestion = errors.New("dns message has no question")
)

// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD and CD).
const (
	FlagQR uint16 = 1 << 15
	FlagAA uint16 = 1 << 10
	FlagTC uint16 = 1 << 9
	FlagRD uint16 = 1 << 8
	FlagRA uint16 = 1 << 7
	FlagAD uint16 = 1 << 5
	FlagCD uint16 = 1 << 4
)

// Response codes (RFC 1035 §4.1.1, RFC 2136 §2.2, RFC 6895).
const (
	RcodeNoError  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeNotImp   = 4
	RcodeRefused  = 5
)

// Types used by the handlers (IANA DNS parameters registry).
const (
	TypeA     = 1
	TypeOPT   = 41
	TypeRRSIG = 46
)

// MaxNameLen is the longest presentation name Parse keeps: 255 wire octets
// render to at most 4*253 presentation bytes when every byte is escaped.
const MaxNameLen = 1024

// Message is the part of a DNS message the handlers use.
type Message struct {
	ID      uint16
	Flags   uint16 // the header's second 16-bit word: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode
	QDCount uint16
	ANCount uint16
	NSCount uint16
	ARCount uint16

	// HasQuestion is true when the first question parsed; QType and QClass
	// belong to it and QName returns its name.
	HasQuestion bool
	QType       uint16
	QClass      uint16

	// Filled only when Parse is asked for records (deep parse):
	// AnswerRRSIG is true when the answer section holds an RRSIG.
	AnswerRRSIG bool
	// HasOPT is true when an OPT pseudo-record is in the additional section;
	// ExtRcode is then its upper 8 rcode bits and UDPSize its payload size.
	HasOPT   bool
	ExtRcode uint8
	UDPSize  uint16
	// HasECS is true when the OPT record carries an EDNS Client Subnet
	// option (RFC 7871); ECS is its address masked to ECSSourcePrefix bits.
	HasECS          bool
	ECS             netip.Addr
	ECSSourcePrefix uint8

	nameLen int
	name    [MaxNameLen]byte
}

// QName returns the first question's name in presentation form, lower
// case (ASCII A-Z only, RFC 4343 §3), labels joined by '.', without the
// trailing dot ("" for the root). Bytes outside 0x21-0x7E (so also space),
// and '.' or '\' inside a label, are escaped as \DDD with three decimal
// digits (RFC 4343 §2.1), so every '.' in the result separates labels. The
// slice aliases m and is valid until the next Parse on m.
func (m *Message) QName() []byte { return m.name[:m.nameLen] }

// IsResponse reports QR=1.
func (m *Message) IsResponse() bool { return m.Flags&FlagQR != 0 }

// Opcode returns the 4-bit opcode.
func (m *Message) Opcode() uint8 { return uint8(m.Flags>>11) & 0xf }

// Rcode returns the header's 4-bit response code.
func (m *Message) Rcode() uint8 { return uint8(m.Flags & 0xf) }

// ParseOptions says how much of a message [Message.Parse] reads.
type ParseOptions struct {
	// Records walks the answer, authority and additional sections to fill
	// AnswerRRSIG, HasOPT and ECS. Header and question are always parsed.
	Records bool
}
