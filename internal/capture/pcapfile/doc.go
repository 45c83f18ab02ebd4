// Package pcapfile reads pcap and pcapng capture files without copying
// packet data and without allocating per record.
//
// [NewReader] sniffs the file magic and returns a [Reader] for either format:
// classic pcap in both byte orders with microsecond or nanosecond timestamps
// (draft-ietf-opsawg-pcap), or pcapng with any number of sections and
// interfaces, per-interface link types and timestamp resolutions
// (draft-ietf-opsawg-pcapng). Link types are the plain uint32 LINKTYPE_
// values of the tcpdump.org registry; this package does not interpret them.
//
// # Reading
//
//	r, err := pcapfile.Open("capture.pcapng")
//	if err != nil { ... }
//	defer r.Close()
//	var rec pcapfile.Record
//	for {
//		err := r.Next(&rec)
//		if err == io.EOF { break }
//		if err != nil { ... } // *FormatError: corrupt or truncated at an offset
//		use(rec.Data)
//	}
//
// # Ownership
//
// The mistake to avoid: [Record].Data points into the Reader's read buffer
// and is overwritten by the next call to [Reader.Next]. Copy it if it must
// outlive that call. A Reader from [OpenMapped] instead reads a memory
// mapping of the file in place: its records' Data stay valid until Close,
// and the goroutines that touch them must do so inside [Reader.Guard],
// which turns the fault that a truncation of the file by another process
// causes into an error.
//
// # Errors
//
// Next returns io.EOF only when the input ends exactly at a record or block
// boundary. Anything else that stops reading is a [*FormatError] carrying the
// byte offset of the record or block being read and a cause that matches
// [ErrTruncated], [ErrBadMagic] or [ErrCorrupt] with errors.Is (or the error
// of the underlying reader). Errors are sticky: once Next has failed it keeps
// returning the same error. Records before the failure are returned normally.
package pcapfile
