// Package dnsmsg parses DNS messages (RFC 1035 and the EDNS0 extensions of
// RFC 6891 and RFC 7871) into a caller-owned [Message] without allocating,
// and aggregates query names the way pktvisor's top_qname2/top_qname3 do.
//
// # Ownership
//
// [Message.Parse] copies the first question's name into the Message's own
// buffer, so [Message.QName] stays valid until the next Parse on the same
// Message even if the input buffer is reused. Nothing else refers to the
// input after Parse returns.
//
// # The one mistake
//
// A message whose header parses but whose question or records do not is not
// "nothing": Parse returns the header fields it read together with an error,
// and callers decide whether a partial message counts (pktvisor counts a
// message as DNS once its header and question parse).
package dnsmsg
